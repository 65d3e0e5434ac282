/// What one access-log line says about one request.
///
/// The text fields live in the entry's own byte storage, copied in with `set(_:_:)`, so they outlive the buffers the
/// request was parsed from. Keep one entry per connection (or worker) and `reset()` it for each request: its storage
/// keeps its capacity, so after the first few requests filling it allocates nothing.
///
///     entry.reset()
///     entry.startTimeMicroseconds = wallClock
///     entry.set(.method, methodBytes)          // UnsafeRawBufferPointer, String or [UInt8]
///     entry.set(.path, pathBytes)
///     …
///     formatAccessLog(entry, format: .envoyText, into: &logBuffer)
///
/// A field never set prints as Envoy prints a missing value: `-` in text, `null` in JSON.
public struct AccessLogEntry: Sendable {
    /// The text fields, named after the Envoy command each one fills.
    public enum Field: Int, CaseIterable, Sendable {
        /// `%REQ(:METHOD)%`
        case method
        /// `%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%`: the path as the client sent it, before any rewrite.
        case path
        /// `%REQ(:AUTHORITY)%`: the Host header (HTTP/1.1) or `:authority` (HTTP/2).
        case authority
        /// `%REQ(USER-AGENT)%`
        case userAgent
        /// `%REQ(X-FORWARDED-FOR)%` as received from the client.
        case forwardedFor
        /// `%REQ(X-REQUEST-ID)%`: the id the request was forwarded with.
        case requestID
        /// `%UPSTREAM_HOST%`: the endpoint's `ip:port`.
        case upstreamHost
        /// `%UPSTREAM_CLUSTER_RAW%`: `outbound|8080|v1|nodejs.default.svc.cluster.local`.
        case upstreamCluster
        /// `%UPSTREAM_LOCAL_ADDRESS%`: the proxy's `ip:port` on the upstream connection.
        case upstreamLocalAddress
        /// `%DOWNSTREAM_LOCAL_ADDRESS%`: the listener's `ip:port` the client connected to.
        case downstreamLocalAddress
        /// `%DOWNSTREAM_REMOTE_ADDRESS%`: the client's `ip:port`.
        case downstreamRemoteAddress
        /// `%REQUESTED_SERVER_NAME%`: the TLS SNI, when there was one.
        case requestedServerName
        /// `%ROUTE_NAME%`: the VirtualService's `http[].name` (Istio names unnamed routes `default`).
        case routeName
        /// `%RESPONSE_CODE_DETAILS%`: `via_upstream`, `route_not_found`, `no_healthy_upstream`, …
        case responseCodeDetails
        /// `%CONNECTION_TERMINATION_DETAILS%`
        case connectionTerminationDetails
        /// `%UPSTREAM_TRANSPORT_FAILURE_REASON%`
        case upstreamTransportFailureReason
    }

    /// `%PROTOCOL%`.
    public enum ProtocolVersion: UInt8, Sendable {
        case http10
        case http11
        case http2
        case http3

        var text: StaticString {
            switch self {
            case .http10: "HTTP/1.0"
            case .http11: "HTTP/1.1"
            case .http2: "HTTP/2"
            case .http3: "HTTP/3"
            }
        }
    }

    /// `%START_TIME%`: when the request started, by the wall clock, in microseconds since 1970-01-01T00:00:00Z.
    public var startTimeMicroseconds: Int64 = 0
    /// `%PROTOCOL%`; nil prints `-`.
    public var protocolVersion: ProtocolVersion?
    /// `%RESPONSE_CODE%`: the status sent to the client, 0 when none was.
    public var responseCode = 0
    /// `%RESPONSE_FLAGS%`
    public var flags: ResponseFlags = []
    /// `%BYTES_RECEIVED%`: request body bytes received from the client.
    public var bytesReceived: UInt64 = 0
    /// `%BYTES_SENT%`: response body bytes sent to the client.
    public var bytesSent: UInt64 = 0
    /// `%DURATION%`: milliseconds from the start to the last byte sent to the client.
    public var durationMilliseconds: UInt64 = 0
    /// `%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)%`: milliseconds the upstream took to answer (Envoy's
    /// `x-envoy-upstream-service-time`); -1 when no upstream answered, printed `-`.
    public var upstreamServiceTimeMilliseconds: Int64 = -1

    var storage: [UInt8] = []
    /// Per field, its start and end in `storage`; a negative start when unset.
    var spans: [Int32]

    public init() {
        spans = Array(repeating: -1, count: 2 * Field.allCases.count)
        storage.reserveCapacity(512)
    }

    /// Clears every field for the next request, keeping the storage's capacity.
    public mutating func reset() {
        startTimeMicroseconds = 0
        protocolVersion = nil
        responseCode = 0
        flags = []
        bytesReceived = 0
        bytesSent = 0
        durationMilliseconds = 0
        upstreamServiceTimeMilliseconds = -1
        storage.removeAll(keepingCapacity: true)
        for i in spans.indices { spans[i] = -1 }
    }

    /// Sets a text field to a copy of `bytes`.
    public mutating func set(_ field: Field, _ bytes: UnsafeRawBufferPointer) {
        let start = storage.count
        storage.append(contentsOf: bytes)
        mark(field, from: start)
    }

    /// Sets a text field to a copy of `text`'s UTF-8.
    public mutating func set(_ field: Field, _ text: String) {
        let start = storage.count
        storage.appendText(text)
        mark(field, from: start)
    }

    /// Sets a text field to a copy of `bytes`.
    public mutating func set(_ field: Field, _ bytes: some Collection<UInt8>) {
        let start = storage.count
        storage.append(contentsOf: bytes)
        mark(field, from: start)
    }

    /// Unsets a text field, so that it prints as missing.
    public mutating func clear(_ field: Field) {
        spans[2 * field.rawValue] = -1
    }

    private mutating func mark(_ field: Field, from start: Int) {
        spans[2 * field.rawValue] = Int32(start)
        spans[2 * field.rawValue + 1] = Int32(storage.count)
    }

    /// The bytes of a field, nil when unset.
    public func bytes(of field: Field) -> ArraySlice<UInt8>? {
        let start = Int(spans[2 * field.rawValue])
        guard start >= 0 else { return nil }
        return storage[start..<Int(spans[2 * field.rawValue + 1])]
    }

    /// A field as text, nil when unset.
    public func value(of field: Field) -> String? {
        bytes(of: field).map { String(decoding: $0, as: UTF8.self) }
    }
}
