/// A route that answers by itself (Istio's `directResponse`, Envoy's direct response action): `status` with
/// `body` (from `body.string`, or `body.bytes` decoded from base64), never touching an upstream.
public struct DirectResponse: Sendable, Equatable {
    /// 200...599.
    public let status: Int
    public let body: [UInt8]

    public init(status: Int, body: [UInt8] = []) {
        self.status = status
        self.body = body
    }
}
