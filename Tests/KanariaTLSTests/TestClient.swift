import COpenSSL
import KanariaHTTP
import KanariaTLS

/// A TLS client for tests, made with OpenSSL's client API over memory BIOs: an implementation independent of
/// `TLSConnection`'s own BIO, verifying the server's chain against the test root CA and its name (localhost).
final class TestClient {
    let context: OpaquePointer
    let ssl: OpaquePointer
    /// Ciphertext from the server, for the client to read.
    private let incoming: OpaquePointer
    /// Ciphertext the client wrote, for the server.
    private let outgoing: OpaquePointer

    /// - Parameters:
    ///   - alpn: the identifiers to offer, in the client's order; none sends no ALPN extension.
    ///   - maximumVersion: e.g. `TLS1_2_VERSION` to stop at TLS 1.2; 0 for the highest.
    ///   - session: a session from an earlier connection, to resume.
    ///   - serverName: the name sent by SNI and checked against the certificate; nil sends no SNI and checks localhost.
    init(alpn: [String] = [], maximumVersion: Int32 = 0, minimumVersion: Int32 = 0, session: OpaquePointer? = nil,
         serverName: String? = "localhost", verify: Bool = true) {
        context = SSL_CTX_new(TLS_client_method())!
        _ = kanaria_SSL_CTX_set_min_proto_version(context, minimumVersion)
        _ = kanaria_SSL_CTX_set_max_proto_version(context, maximumVersion)
        if minimumVersion != 0 && minimumVersion < TLS1_2_VERSION {
            SSL_CTX_set_security_level(context, 0)  // let the client offer old versions at all
        }
        precondition(SSL_CTX_load_verify_locations(context, Fixtures.path("root-ca.crt"), nil) == 1)
        SSL_CTX_set_verify(context, verify ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, nil)
        ssl = SSL_new(context)!
        precondition(SSL_set1_host(ssl, serverName ?? "localhost") == 1)
        if let serverName { _ = kanaria_SSL_set_tlsext_host_name(ssl, serverName) }
        if !alpn.isEmpty {
            var wire: [UInt8] = []
            for id in alpn { wire.append(UInt8(id.utf8.count)); wire += id.utf8 }
            precondition(SSL_set_alpn_protos(ssl, wire, UInt32(wire.count)) == 0)
        }
        if let session { SSL_set_session(ssl, session) }
        incoming = BIO_new(BIO_s_mem())!
        outgoing = BIO_new(BIO_s_mem())!
        SSL_set_bio(ssl, incoming, outgoing)
        SSL_set_connect_state(ssl)
    }

    deinit {
        SSL_free(ssl)
        SSL_CTX_free(context)
    }

    var handshakeComplete: Bool { SSL_is_init_finished(ssl) == 1 }

    /// The certificate check's outcome (`X509_V_OK` when the chain and name verified).
    var verifyResult: Int { SSL_get_verify_result(ssl) }

    /// The common name of the certificate the server presented.
    var peerCommonName: String? {
        guard let certificate = SSL_get0_peer_certificate(ssl), let subject = X509_get_subject_name(certificate) else { return nil }
        var name = [CChar](repeating: 0, count: 256)
        guard X509_NAME_get_text_by_NID(subject, NID_commonName, &name, 256) > 0 else { return nil }
        return name.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }

    var negotiatedProtocol: String? {
        var data: UnsafePointer<UInt8>?
        var length: UInt32 = 0
        SSL_get0_alpn_selected(ssl, &data, &length)
        guard let data, length > 0 else { return nil }
        return String(decoding: UnsafeBufferPointer(start: data, count: Int(length)), as: UTF8.self)
    }

    /// Advances the handshake with what has arrived; true once it is complete.
    @discardableResult
    func handshake() -> Bool {
        let rc = SSL_do_handshake(ssl)
        if rc == 1 { return true }
        let error = SSL_get_error(ssl, rc)
        precondition(error == SSL_ERROR_WANT_READ || error == SSL_ERROR_SSL, "client handshake error \(error)")
        if error == SSL_ERROR_SSL { ERR_clear_error() }
        return false
    }

    /// Moves the client's ciphertext for the server to the end of `buffer`; returns the byte count.
    @discardableResult
    func takeCiphertext(into buffer: inout ByteBuffer) -> Int {
        var total = 0
        while true {
            let pending = Int(BIO_ctrl_pending(outgoing))
            if pending == 0 { return total }
            buffer.reserve(pending)
            let n = BIO_read(outgoing, buffer.writable.baseAddress, Int32(pending))
            precondition(n > 0)
            buffer.didWrite(Int(n))
            total += Int(n)
        }
    }

    /// Gives the client ciphertext from the server.
    func giveCiphertext(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count > 0 else { return }
        precondition(BIO_write(incoming, bytes.baseAddress, Int32(bytes.count)) == Int32(bytes.count))
    }

    /// Encrypts all of `bytes` (memory BIOs take everything).
    func write(_ bytes: UnsafeRawBufferPointer) {
        var written = 0
        precondition(SSL_write_ex(ssl, bytes.baseAddress, bytes.count, &written) == 1 && written == bytes.count)
    }

    enum ReadOutcome: Equatable { case data(Int), wantRead, closed, failed }

    /// Decrypts what it can into the free space of `buffer`.
    func read(into buffer: inout ByteBuffer) -> ReadOutcome {
        var total = 0
        while buffer.writableCount > 0 {
            var n = 0
            if SSL_read_ex(ssl, buffer.writable.baseAddress, buffer.writableCount, &n) == 1 {
                buffer.didWrite(n)
                total += n
                continue
            }
            let error = SSL_get_error(ssl, 0)
            if total > 0 { return .data(total) }
            switch error {
            case SSL_ERROR_WANT_READ: return .wantRead
            case SSL_ERROR_ZERO_RETURN: return .closed
            default:
                ERR_clear_error()
                return .failed
            }
        }
        return .data(total)
    }

    /// Sends close_notify.
    func shutdown() { _ = SSL_shutdown(ssl) }

    /// The session to resume in a later connection (retained; free with `SSL_SESSION_free`).
    func session() -> OpaquePointer? { SSL_get1_session(ssl) }
}
