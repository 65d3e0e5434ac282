/// How a message's body is delimited (RFC 9112 §6.3).
public enum BodyFraming: Sendable, Equatable {
    /// No body at all (a request without Content-Length or Transfer-Encoding; a 204, 304 or HEAD response).
    case none
    /// Exactly this many bytes follow the head.
    case contentLength(Int)
    /// Chunked transfer coding; a `ChunkedScanner` finds its end.
    case chunked
    /// A response body that ends when the upstream closes the connection (HTTP/1.0 style).
    case untilClose
}

/// Why a head was refused, and the status the proxy answers with (the message is never forwarded).
public enum HTTPParseError: Error, Sendable, Equatable {
    /// Malformed syntax or ambiguous framing: 400 (or 502 for a response).
    case badRequest(String)
    /// The request-target is longer than the limit: 414.
    case uriTooLong
    /// The head is larger than the limit or has too many fields: 431.
    case headersTooLarge
    /// A transfer coding other than chunked: 501.
    case unsupportedTransferCoding
    /// Not HTTP/1.0 or HTTP/1.1: 505.
    case unsupportedVersion

    /// The status code a proxy answers a client with for this error.
    public var status: Int {
        switch self {
        case .badRequest: 400
        case .uriTooLong: 414
        case .headersTooLarge: 431
        case .unsupportedTransferCoding: 501
        case .unsupportedVersion: 505
        }
    }

    /// A short human explanation, sent as the response body.
    public var reason: String {
        switch self {
        case .badRequest(let why): why
        case .uriTooLong: "request-target too long"
        case .headersTooLarge: "request header fields too large"
        case .unsupportedTransferCoding: "transfer coding not implemented"
        case .unsupportedVersion: "HTTP version not supported"
        }
    }
}

/// Limits on a head; exceeding one is an error, never an unbounded buffer.
public struct HeadLimits: Sendable {
    /// Largest head in bytes, request line and fields included (Envoy's default is 60 KiB).
    public var maxHeadBytes: Int
    /// Most header fields (Envoy's default is 100).
    public var maxHeaderCount: Int
    /// Longest request-target in bytes.
    public var maxTargetBytes: Int

    public init(maxHeadBytes: Int = 60 * 1024, maxHeaderCount: Int = 100, maxTargetBytes: Int = 16 * 1024) {
        self.maxHeadBytes = maxHeadBytes
        self.maxHeaderCount = maxHeaderCount
        self.maxTargetBytes = maxTargetBytes
    }
}
