/// The conditions a retry policy retries on: Envoy's `x-envoy-retry-on` and `x-envoy-retry-grpc-on` values, as
/// Istio's `retryOn` lists them (comma-separated; bare HTTP status codes there become retriable status codes).
public struct RetryOn: OptionSet, Sendable, Hashable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// Any 5xx answer, and no answer at all (connect failure, reset, refused stream, per-try timeout).
    public static let fiveXX = RetryOn(rawValue: 1 << 0)
    /// 502, 503 or 504, and no answer at all (Envoy counts a reset as a gateway error).
    public static let gatewayError = RetryOn(rawValue: 1 << 1)
    /// No answer at all: disconnect, reset or per-try timeout, before or after the connection was made.
    public static let reset = RetryOn(rawValue: 1 << 2)
    /// The connection to the upstream could not be made.
    public static let connectFailure = RetryOn(rawValue: 1 << 3)
    /// 409 Conflict.
    public static let retriable4xx = RetryOn(rawValue: 1 << 4)
    /// The upstream refused the HTTP/2 stream (RST_STREAM REFUSED_STREAM): retried at once, without back-off.
    public static let refusedStream = RetryOn(rawValue: 1 << 5)
    /// One of the policy's `retriableStatusCodes`.
    public static let retriableStatusCodes = RetryOn(rawValue: 1 << 6)
    /// A response header named by the policy's retriable headers. Istio configures none, so this condition only
    /// acts on headers a request names in `x-envoy-retriable-header-names`, which Kanaria does not read: it never fires.
    public static let retriableHeaders = RetryOn(rawValue: 1 << 7)
    /// The request never reached the upstream (the connection failed or was reset before the request was sent).
    public static let resetBeforeRequest = RetryOn(rawValue: 1 << 8)
    /// An `x-envoy-ratelimited` answer (Envoy's own rate limiter); Kanaria has none, so it never fires.
    public static let envoyRateLimited = RetryOn(rawValue: 1 << 9)
    /// gRPC status 1 CANCELLED in the response headers (a trailers-only answer).
    public static let cancelled = RetryOn(rawValue: 1 << 10)
    /// gRPC status 4 DEADLINE_EXCEEDED.
    public static let deadlineExceeded = RetryOn(rawValue: 1 << 11)
    /// gRPC status 13 INTERNAL.
    public static let `internal` = RetryOn(rawValue: 1 << 12)
    /// gRPC status 8 RESOURCE_EXHAUSTED.
    public static let resourceExhausted = RetryOn(rawValue: 1 << 13)
    /// gRPC status 14 UNAVAILABLE.
    public static let unavailable = RetryOn(rawValue: 1 << 14)
    /// HTTP/3 only; accepted for Istio's sake, never fires here.
    public static let http3PostConnectFailure = RetryOn(rawValue: 1 << 15)

    /// Every condition by the name Istio's `retryOn` and Envoy's docs use, in Envoy's order.
    public static let names: [(name: String, condition: RetryOn)] = [
        ("5xx", .fiveXX), ("gateway-error", .gatewayError), ("reset", .reset),
        ("reset-before-request", .resetBeforeRequest), ("connect-failure", .connectFailure),
        ("envoy-ratelimited", .envoyRateLimited), ("retriable-4xx", .retriable4xx), ("refused-stream", .refusedStream),
        ("retriable-status-codes", .retriableStatusCodes), ("retriable-headers", .retriableHeaders),
        ("http3-post-connect-failure", .http3PostConnectFailure),
        ("cancelled", .cancelled), ("deadline-exceeded", .deadlineExceeded), ("internal", .internal),
        ("resource-exhausted", .resourceExhausted), ("unavailable", .unavailable),
    ]

    /// The conditions that read a gRPC status.
    public static let grpc: RetryOn = [.cancelled, .deadlineExceeded, .internal, .resourceExhausted, .unavailable]

    /// The names of the conditions set, in Envoy's order, joined by commas (as Envoy's `retry_on`).
    public var names: String {
        Self.names.filter { contains($0.condition) }.map(\.name).joined(separator: ",")
    }
}

/// What Istio's `retryOn` string says, parsed as Istio parses it: comma-separated parts, blanks trimmed, empty
/// parts skipped; a part that is a number naming an HTTP status (100...599) is a retriable status code, and
/// listing one turns `retriable-status-codes` on; any other part must be one of `RetryOn.names`.
///
///     "5xx,connect-failure"   → [.fiveXX, .connectFailure], codes []
///     "gateway-error,503,429" → [.gatewayError, .retriableStatusCodes], codes [503, 429]
public struct ParsedRetryOn: Sendable, Equatable {
    public var conditions: RetryOn = []
    public var statusCodes: [Int] = []
    /// The parts that are neither a condition nor a status code, as written.
    public var unknown: [String] = []

    public init(_ text: String) {
        for part in text.split(separator: ",") {
            let name = part.trimmingSpaces
            if name.isEmpty { continue }
            if let code = Int(name) {
                if (100...599).contains(code) { statusCodes.append(code) } else { unknown.append(name) }
            } else if let known = RetryOn.names.first(where: { $0.name == name }) {
                conditions.insert(known.condition)
            } else {
                unknown.append(name)
            }
        }
        if !statusCodes.isEmpty { conditions.insert(.retriableStatusCodes) }
    }
}

extension Substring {
    /// The text without leading and trailing spaces and tabs.
    var trimmingSpaces: String {
        let isBlank: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        return String(drop(while: isBlank).reversed().drop(while: isBlank).reversed())
    }
}
