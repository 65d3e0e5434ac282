/// How an HTTPS listener terminates TLS: the Gateway servers on its port, each with the certificate it serves.
///
/// Several HTTPS servers can share a port (443) with different hosts: the client's SNI picks the server whose
/// hosts match, and the first server's certificate serves clients whose SNI matches none (KanariaTLS's
/// `TLSServerContext(servers:)` takes exactly this list). Paths only: nothing here reads a file.
public struct ListenerTLS: Sendable, Equatable {
    /// Istio's `tls.mode`. Only SIMPLE (terminate TLS, no client certificate) is served for now.
    public enum Mode: String, Sendable, Equatable {
        case simple = "SIMPLE"
    }

    /// One Gateway server on the port, in reading order.
    public struct Server: Sendable, Equatable {
        /// The server's hosts without their `namespace/` prefix: `shop.example.com`, `*.example.com` or `*`.
        public var hosts: [String]
        /// `tls.serverCertificate`: an absolute path to the PEM certificate chain, leaf first.
        public var serverCertificate: String
        /// `tls.privateKey`: an absolute path to the unencrypted PEM private key.
        public var privateKey: String

        public init(hosts: [String], serverCertificate: String, privateKey: String) {
            self.hosts = hosts
            self.serverCertificate = serverCertificate
            self.privateKey = privateKey
        }
    }

    public var mode: Mode
    /// At least one; the first is the default for clients without a matching SNI.
    public var servers: [Server]

    public init(mode: Mode = .simple, servers: [Server]) {
        self.mode = mode
        self.servers = servers
    }
}
