/// What a listener speaks to clients: the Gateway server's `port.protocol`, for the protocols Kanaria serves.
///
/// The raw values are Istio's names. Istio reads them case-insensitively; so does KanariaConfig.
///
/// - `http`, `http2`, `grpc`: plain text. Istio serves all three alike (Envoy's codec detects HTTP/1.1 or
///   HTTP/2 with prior knowledge on each connection), and merges such servers when they share a port.
/// - `https`: TLS, terminated with the listener's `ListenerTLS`; ALPN then picks `h2` or `http/1.1`.
public enum ServerProtocol: String, Sendable, Hashable, CaseIterable {
    case http = "HTTP"
    case https = "HTTPS"
    case http2 = "HTTP2"
    case grpc = "GRPC"

    /// Whether connections start with a TLS handshake (`https`).
    public var usesTLS: Bool { self == .https }
}
