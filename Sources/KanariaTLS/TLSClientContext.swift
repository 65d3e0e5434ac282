import COpenSSL

/// What a client side of TLS is set up with: how the server's certificate is checked, and which application
/// protocols are offered by ALPN. Built once, then shared, immutable, by every thread: each connection makes its own
/// `TLSClientConnection` from it. For `kanaria loadtest https://…`, and for the proxy's upstream TLS to come
/// (a DestinationRule's `tls.mode: SIMPLE`, which checks the upstream against `caCertificates`).
///
/// - TLS 1.2 and 1.3 only, OpenSSL's default cipher suites, no renegotiation.
/// - `.caFile(path)` trusts the PEM certificates in that file; `.systemDefault` OpenSSL's default store;
///   `.insecure` checks nothing (a self-signed test server; never for production traffic).
/// - The server's name is checked against its certificate by each connection (`TLSClientConnection`'s
///   `serverName`), as a browser would.
public final class TLSClientContext: @unchecked Sendable {
    public enum Verification: Sendable, Equatable {
        /// Trust the certificates of this PEM file (Istio's `caCertificates`).
        case caFile(String)
        /// Trust OpenSSL's default locations (the system's store).
        case systemDefault
        /// Accept any certificate.
        case insecure
    }

    /// The `SSL_CTX`, owned.
    let context: OpaquePointer
    public let verification: Verification
    /// Offered by ALPN, most preferred first.
    public let applicationProtocols: [ApplicationProtocol]

    /// - Throws: `TLSConfigurationError` (source `.certificateChain`) when the CA file cannot be read or holds no
    ///   certificate.
    public init(verification: Verification, applicationProtocols: [ApplicationProtocol] = [.http2, .http1_1]) throws(TLSConfigurationError) {
        _ = OpenSSLErrors.drain()
        guard let context = SSL_CTX_new(TLS_client_method()) else { fatalError("SSL_CTX_new failed: out of memory") }
        self.context = context
        self.verification = verification
        self.applicationProtocols = applicationProtocols
        _ = kanaria_SSL_CTX_set_min_proto_version(context, TLS1_2_VERSION)
        _ = kanaria_SSL_CTX_set_max_proto_version(context, TLS1_3_VERSION)
        switch verification {
        case .caFile(let path):
            guard SSL_CTX_load_verify_locations(context, path, nil) == 1 else {
                let reason = OpenSSLErrors.drainReason(fallback: "no certificate found")
                throw TLSConfigurationError(source: .certificateChain, file: path, message: "cannot load the CA certificates: \(reason)")
            }
            SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nil)
        case .systemDefault:
            _ = SSL_CTX_set_default_verify_paths(context)
            SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nil)
        case .insecure:
            SSL_CTX_set_verify(context, SSL_VERIFY_NONE, nil)
        }
        if !applicationProtocols.isEmpty {
            let preference = ALPNPreference(applicationProtocols)
            defer { preference.deallocate() }
            let wire = preference.wire
            _ = SSL_CTX_set_alpn_protos(context, wire.baseAddress!.assumingMemoryBound(to: UInt8.self), UInt32(wire.count))
        }
    }

    deinit { SSL_CTX_free(context) }
}
