import KanariaRouting
import KanariaTelemetry

/// An answer of the proxy's own: a status, a short body, and why (Envoy's response flags and details). The
/// HTTP/1.1 and HTTP/2 client sides each have one writer for it.
struct LocalAnswer {
    enum Body {
        case text(StaticString)
        /// A direct response's body, as the route holds it (any bytes).
        case bytes([UInt8])

        func withBytes<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R {
            switch self {
            case .text(let text): body(UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
            case .bytes(let bytes): bytes.withUnsafeBytes(body)
            }
        }
    }

    var status: Int
    var body: Body
    var flags: ResponseFlags
    var details: StaticString
    /// A gRPC answer's `grpc-status` (sent trailers-only, with HTTP status 200); -1 for a plain HTTP answer.
    var grpcStatus = -1
    /// A CORS preflight answer that carries the route's preflight headers for the request's origin.
    var corsHeaders = false

    init(status: Int, body: Body, flags: ResponseFlags, details: StaticString, grpcStatus: Int = -1,
         corsHeaders: Bool = false) {
        self.status = status
        self.body = body
        self.flags = flags
        self.details = details
        self.grpcStatus = grpcStatus
        self.corsHeaders = corsHeaders
    }

    /// Envoy's answer to a CORS preflight: 200, no body; the route's `access-control-*` headers for an allowed
    /// origin, none for one not allowed (`unmatchedPreflights: IGNORE`).
    static func corsPreflight(withHeaders: Bool) -> LocalAnswer {
        LocalAnswer(status: 200, body: .text(""), flags: [], details: "cors_response", corsHeaders: withHeaders)
    }

    static let noRoute = LocalAnswer(status: 404, body: .text(""), flags: .NR, details: "route_not_found")
    static let noHealthyUpstream = LocalAnswer(status: 503, body: .text("no healthy upstream"), flags: .UH,
                                               details: "no_healthy_upstream")
    static let timeout = LocalAnswer(status: 504, body: .text("upstream request timeout"), flags: .UT,
                                     details: "upstream_response_timeout")

    /// Envoy's answer when a circuit breaker (connection-pool limit) refuses the request.
    static let overflow = LocalAnswer(status: 503, body: .text("upstream connect error or disconnect/reset before headers. reset reason: overflow"),
                                      flags: .UO, details: "upstream_reset_before_response_started{overflow}")

    static func failure(_ failure: UpstreamFailure) -> LocalAnswer {
        LocalAnswer(status: failure.status, body: .text(failure.body), flags: failure.responseFlag,
                    details: failure.responseCodeDetails)
    }

    /// Envoy's fault filter abort: the HTTP status with "fault filter abort", or a trailers-only gRPC answer.
    static func faultAbort(_ status: FaultAbort.Status) -> LocalAnswer {
        switch status {
        case .http(let code):
            LocalAnswer(status: code, body: .text("fault filter abort"), flags: .FI, details: "fault_filter_abort")
        case .grpc(let code):
            LocalAnswer(status: 200, body: .text(""), flags: .FI, details: "fault_filter_abort", grpcStatus: code)
        }
    }

    /// A route's `directResponse`.
    static func direct(_ response: DirectResponse) -> LocalAnswer {
        LocalAnswer(status: response.status, body: .bytes(response.body), flags: [], details: "direct_response")
    }
}
