import COpenSSL

/// What a Gateway server with `tls.mode: SIMPLE` terminates TLS with: its certificate chain and private key, the
/// protocol versions, and the application protocols offered by ALPN. Built once per configuration, then shared,
/// immutable, by every worker: each client connection makes its own `TLSConnection` from it.
///
/// - TLS 1.2 and 1.3 only (Istio's default minimum is TLS 1.2).
/// - TLS 1.2 cipher suites are Istio's gateway defaults (ECDHE with AES-GCM or ChaCha20-Poly1305), in the server's
///   order; TLS 1.3 suites are OpenSSL's defaults. No renegotiation.
/// - Several servers on one port: the client's SNI picks the certificate (`init(servers:)`).
/// - Resumption by session tickets only: the ticket keys belong to this context, so every worker resumes every other
///   worker's sessions, and no session cache is shared (or locked) between them. A reload makes a new context, so
///   tickets from before it are not honoured and those clients do a full handshake once.
///
/// Thread safety: OpenSSL 3 allows any number of threads to make `SSL` objects from one `SSL_CTX` at once; nothing
/// here changes the context after `init`.
public final class TLSServerContext: @unchecked Sendable {
    /// Istio's default TLS 1.2 cipher suites for gateways, in its order.
    public static let istioDefaultCipherSuites = [
        "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384", "ECDHE-ECDSA-AES128-GCM-SHA256",
        "ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-CHACHA20-POLY1305",
    ]

    /// The `SSL_CTX`, owned.
    let context: OpaquePointer
    /// The protocols offered by ALPN, most preferred first.
    public let applicationProtocols: [ApplicationProtocol]
    /// At a fixed address for the ALPN callback; lives as long as this object, which every `TLSConnection` retains.
    private let alpn: UnsafeMutablePointer<ALPNPreference>
    /// The certificates of the other servers on the port, chosen by SNI; retained for the connections that switch to
    /// them (their `SSL_CTX` and ALPN list must outlive those connections, which retain only this context).
    private let alternatives: [TLSServerContext]
    /// For OpenSSL's SNI callback; nil with a single certificate.
    private let serverNames: UnsafeMutablePointer<ServerNameTable>?

    /// Loads a certificate chain and private key (PEM files, as Istio's `tls.serverCertificate` and `tls.privateKey`
    /// give them) and offers `applicationProtocols` by ALPN, most preferred first: a Gateway server with protocol
    /// HTTPS offers `[.http2, .http1_1]`.
    ///
    /// - Throws: `TLSConfigurationError` naming the file and the problem: it cannot be opened, it holds no PEM block
    ///   of the right kind, a block is malformed, the key is encrypted, the key does not match the certificate, or
    ///   OpenSSL refuses the certificate (a key too small for its security level).
    public convenience init(certificateChainFile: String, privateKeyFile: String,
                            applicationProtocols: [ApplicationProtocol] = [.http2, .http1_1],
                            cipherSuites: [String] = TLSServerContext.istioDefaultCipherSuites) throws(TLSConfigurationError) {
        try self.init(certificateChainFile: certificateChainFile, privateKeyFile: privateKeyFile,
                      applicationProtocols: applicationProtocols, cipherSuites: cipherSuites, hosts: [], others: [])
    }

    /// The context of a Gateway port served by several TLS servers, each with its hosts and certificate: the client's
    /// SNI picks the certificate (see `ServerNameTable`); the first server's serves clients without a matching SNI.
    /// Servers that name the same two files share one certificate.
    ///
    /// - Throws: the first `TLSConfigurationError` among the servers' files.
    public convenience init(servers: [TLSServerCredentials], applicationProtocols: [ApplicationProtocol] = [.http2, .http1_1],
                            cipherSuites: [String] = TLSServerContext.istioDefaultCipherSuites) throws(TLSConfigurationError) {
        precondition(!servers.isEmpty, "a TLS context needs at least one server")
        let primary = servers[0]
        var hosts = primary.hosts
        var others: [(credentials: TLSServerCredentials, context: TLSServerContext)] = []
        for server in servers.dropFirst() {
            if server.sameFiles(as: primary) {
                hosts += server.hosts
            } else if let index = others.firstIndex(where: { server.sameFiles(as: $0.credentials) }) {
                others[index].credentials.hosts += server.hosts
            } else {
                let context = try TLSServerContext(certificateChainFile: server.certificateChainFile,
                                                   privateKeyFile: server.privateKeyFile,
                                                   applicationProtocols: applicationProtocols, cipherSuites: cipherSuites)
                others.append((server, context))
            }
        }
        try self.init(certificateChainFile: primary.certificateChainFile, privateKeyFile: primary.privateKeyFile,
                      applicationProtocols: applicationProtocols, cipherSuites: cipherSuites,
                      hosts: hosts, others: others.map { ($0.credentials.hosts, $0.context) })
    }

    /// A context for `hosts` with this certificate, that hands clients asking for the `others`' hosts to those.
    init(certificateChainFile: String, privateKeyFile: String, applicationProtocols: [ApplicationProtocol],
         cipherSuites: [String], hosts: [String], others: [(hosts: [String], context: TLSServerContext)]) throws(TLSConfigurationError) {
        _ = OpenSSLErrors.drain()
        guard let context = SSL_CTX_new(TLS_server_method()) else { fatalError("SSL_CTX_new failed: out of memory") }
        self.context = context
        self.applicationProtocols = applicationProtocols
        alpn = .allocate(capacity: 1)
        alpn.initialize(to: ALPNPreference(applicationProtocols))
        alternatives = others.map(\.context)
        if others.isEmpty {
            serverNames = nil
        } else {
            var table = ServerNameTable()
            for host in hosts { table.add(host: host, context: context) }
            for other in others { for host in other.hosts { table.add(host: host, context: other.context.context) } }
            let pointer = UnsafeMutablePointer<ServerNameTable>.allocate(capacity: 1)
            pointer.initialize(to: table)
            serverNames = pointer
            kanaria_SSL_CTX_set_tlsext_servername_callback(context, ServerNameTable.select, UnsafeMutableRawPointer(pointer))
        }

        _ = kanaria_SSL_CTX_set_min_proto_version(context, TLS1_2_VERSION)
        _ = kanaria_SSL_CTX_set_max_proto_version(context, TLS1_3_VERSION)
        _ = SSL_CTX_set_options(context, kanaria_SSL_OP_server_defaults())
        // No SSL_MODE_ENABLE_PARTIAL_WRITE: the BIO never refuses bytes, so one SSL_write encrypts all it is given.
        _ = kanaria_SSL_CTX_set_mode(context, Int(SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER))
        _ = kanaria_SSL_CTX_set_session_cache_mode(context, Int(SSL_SESS_CACHE_OFF))
        if !cipherSuites.isEmpty && SSL_CTX_set_cipher_list(context, cipherSuites.joined(separator: ":")) != 1 {
            _ = OpenSSLErrors.drain()  // none of them known: keep OpenSSL's defaults rather than refuse every client
        }
        if !applicationProtocols.isEmpty {
            SSL_CTX_set_alpn_select_cb(context, ALPNPreference.select, UnsafeMutableRawPointer(alpn))
        }
        try loadCredentials(certificateChainFile: certificateChainFile, privateKeyFile: privateKeyFile)
    }

    deinit {
        SSL_CTX_free(context)
        alpn.pointee.deallocate()
        alpn.deinitialize(count: 1)
        alpn.deallocate()
        serverNames?.deinitialize(count: 1)
        serverNames?.deallocate()
    }
}
