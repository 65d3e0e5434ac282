/// Envoy's response flags: why a response is what it is when the proxy, not the upstream, decided it.
///
/// One bit per flag, in Envoy's own order (`CoreResponseFlag` in `envoy/stream_info/stream_info.h`), so `text` joins the
/// codes exactly as Envoy's `%RESPONSE_FLAGS%` and Istio's `response_flags` label do: `"UH"`, `"UF,URX"`, `"-"` when
/// none is set. The names are Envoy's short codes; each doc comment gives the long name Envoy logs with
/// `%RESPONSE_FLAGS_LONG%`.
public struct ResponseFlags: OptionSet, Sendable, Hashable {
    public let rawValue: UInt32

    public init(rawValue: UInt32) {
        self.rawValue = rawValue & ResponseFlags.allBits
    }

    /// FailedLocalHealthCheck: the request was refused because the proxy itself failed its health check.
    public static let LH = ResponseFlags(bit: 0)
    /// NoHealthyUpstream: no healthy upstream host in the cluster (Istio's 503 "no healthy upstream").
    public static let UH = ResponseFlags(bit: 1)
    /// UpstreamRequestTimeout: the route's timeout expired before the upstream answered (504).
    public static let UT = ResponseFlags(bit: 2)
    /// LocalReset: the proxy reset the stream locally.
    public static let LR = ResponseFlags(bit: 3)
    /// UpstreamRemoteReset: the upstream reset the stream.
    public static let UR = ResponseFlags(bit: 4)
    /// UpstreamConnectionFailure: connecting to the upstream failed (503).
    public static let UF = ResponseFlags(bit: 5)
    /// UpstreamConnectionTermination: the upstream connection closed before the response completed (503).
    public static let UC = ResponseFlags(bit: 6)
    /// UpstreamOverflow: a circuit breaker (connection pool limit) refused the request (503).
    public static let UO = ResponseFlags(bit: 7)
    /// NoRouteFound: no route matched the request (404).
    public static let NR = ResponseFlags(bit: 8)
    /// DelayInjected: a fault-injection delay was applied.
    public static let DI = ResponseFlags(bit: 9)
    /// FaultInjected: a fault-injection abort answered the request.
    public static let FI = ResponseFlags(bit: 10)
    /// RateLimited: a rate limit refused the request (429).
    public static let RL = ResponseFlags(bit: 11)
    /// UnauthorizedExternalService: an external authorization service refused the request (403).
    public static let UAEX = ResponseFlags(bit: 12)
    /// RateLimitServiceError: the rate limit service failed.
    public static let RLSE = ResponseFlags(bit: 13)
    /// DownstreamConnectionTermination: the client closed the connection before the response was complete.
    public static let DC = ResponseFlags(bit: 14)
    /// UpstreamRetryLimitExceeded: retries were exhausted and the last attempt failed.
    public static let URX = ResponseFlags(bit: 15)
    /// StreamIdleTimeout: the stream idle timeout fired (408 or 504).
    public static let SI = ResponseFlags(bit: 16)
    /// InvalidEnvoyRequestHeaders: an `x-envoy-*` request header had an invalid value (400).
    public static let IH = ResponseFlags(bit: 17)
    /// DownstreamProtocolError: the client's request broke the HTTP protocol.
    public static let DPE = ResponseFlags(bit: 18)
    /// UpstreamMaxStreamDurationReached: the upstream request reached its maximum stream duration.
    public static let UMSDR = ResponseFlags(bit: 19)
    /// ResponseFromCacheFilter: the response was served from a cache filter.
    public static let RFCF = ResponseFlags(bit: 20)
    /// NoFilterConfigFound: a filter's configuration did not arrive in time.
    public static let NFCF = ResponseFlags(bit: 21)
    /// DurationTimeout: the downstream connection or request exceeded its maximum duration.
    public static let DT = ResponseFlags(bit: 22)
    /// UpstreamProtocolError: the upstream's response broke the HTTP protocol (502).
    public static let UPE = ResponseFlags(bit: 23)
    /// NoClusterFound: the route's cluster does not exist (503).
    public static let NC = ResponseFlags(bit: 24)
    /// OverloadManagerTerminated: the overload manager refused the request.
    public static let OM = ResponseFlags(bit: 25)
    /// DnsResolutionFailed: resolving the upstream's name failed.
    public static let DF = ResponseFlags(bit: 26)
    /// DropOverload: the request was dropped by the cluster's drop_overloads policy (503).
    public static let DO = ResponseFlags(bit: 27)
    /// DownstreamRemoteReset: the client reset the stream (HTTP/2 RST_STREAM).
    public static let DR = ResponseFlags(bit: 28)
    /// UnconditionalDropOverload: drop_overloads is set to 100% (503).
    public static let UDO = ResponseFlags(bit: 29)

    /// Envoy's short codes, indexed by bit.
    public static let codes: [StaticString] = [
        "LH", "UH", "UT", "LR", "UR", "UF", "UC", "UO", "NR", "DI", "FI", "RL", "UAEX", "RLSE", "DC", "URX", "SI", "IH",
        "DPE", "UMSDR", "RFCF", "NFCF", "DT", "UPE", "NC", "OM", "DF", "DO", "DR", "UDO",
    ]

    static let allBits: UInt32 = (1 << 30) - 1

    private init(bit: Int) {
        self.rawValue = 1 << UInt32(bit)
    }

    /// Envoy's `%RESPONSE_FLAGS%`: the short codes of the set flags in Envoy's order, joined by commas; `-` when empty.
    public var text: String {
        var bytes: [UInt8] = []
        append(to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends `text` to `buffer` without building a string.
    public func append(to buffer: inout [UInt8]) {
        guard rawValue != 0 else {
            buffer.append(UInt8(ascii: "-"))
            return
        }
        var rest = rawValue
        var first = true
        while rest != 0 {
            let bit = rest.trailingZeroBitCount
            rest &= rest &- 1
            if !first { buffer.append(UInt8(ascii: ",")) }
            first = false
            ResponseFlags.codes[bit].withUTF8Buffer { buffer.append(contentsOf: $0) }
        }
    }

    /// Parses Envoy's text back (`"UF,URX"`, `"-"`); nil for an unknown code.
    public init?(text: some StringProtocol) {
        self = []
        guard text != "-" else { return }
        for code in text.split(separator: ",") {
            guard let bit = ResponseFlags.codes.firstIndex(where: { $0.description == code }) else { return nil }
            insert(ResponseFlags(bit: bit))
        }
    }
}

extension ResponseFlags: CustomStringConvertible {
    public var description: String { text }
}
