import KanariaTelemetry

/// Why a try failed before its response could be relayed.
enum UpstreamFailure: Equatable {
    /// Connecting failed, or timed out (Envoy's connect-failure).
    case connectFailure
    /// The connection closed or was reset before the response head completed.
    case connectionTermination
    /// The upstream broke HTTP (a malformed response head, an unexpected 101).
    case protocolError
    /// An HTTP/2 upstream refused the stream (RST_STREAM REFUSED_STREAM): it never saw the request.
    case refusedStream

    var status: Int { self == .protocolError ? 502 : 503 }

    /// Envoy's %RESPONSE_CODE_DETAILS% for it.
    var responseCodeDetails: StaticString {
        switch self {
        case .connectFailure: "upstream_reset_before_response_started{connection_failure}"
        case .connectionTermination: "upstream_reset_before_response_started{connection_termination}"
        case .protocolError: "upstream_reset_before_response_started{protocol_error}"
        case .refusedStream: "upstream_reset_before_response_started{remote_refused_stream_reset}"
        }
    }

    /// Envoy's response flag for it.
    var responseFlag: ResponseFlags {
        switch self {
        case .connectFailure: .UF
        case .connectionTermination: .UC
        case .protocolError: .UPE
        case .refusedStream: .UR
        }
    }

    /// Envoy's wording, so people who know Istio recognise the answer.
    var body: StaticString {
        switch self {
        case .connectFailure: "upstream connect error or disconnect/reset before headers. reset reason: connection failure"
        case .connectionTermination: "upstream connect error or disconnect/reset before headers. reset reason: connection termination"
        case .protocolError: "upstream connect error or disconnect/reset before headers. reset reason: protocol error"
        case .refusedStream: "upstream connect error or disconnect/reset before headers. reset reason: remote refused stream reset"
        }
    }
}
