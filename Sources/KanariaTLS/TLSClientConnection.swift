import COpenSSL
import KanariaHTTP

/// The client side of one TLS connection, pure of sockets, over the same buffers as the server side
/// (`TLSConnection`): ciphertext in from the caller's buffer, plaintext out; plaintext in, ciphertext out in
/// `pendingCiphertext`. The handshake starts at once: the ClientHello waits in `pendingCiphertext` after `init`.
///
///     connect(fd); when writable: send(tls.pendingCiphertext) → tls.ciphertextWritten(n)
///     readable: read(fd) into ciphertext → tls.readPlaintext(from: &ciphertext, into: &inbound)
///               (drives the handshake; flush pendingCiphertext after every call)
///     once handshakeComplete: negotiatedProtocol says h2 or HTTP/1.1; writePlaintext(request) → flush
///
/// One thread uses a connection at a time.
public final class TLSClientConnection {
    public let context: TLSClientContext
    private let ssl: OpaquePointer
    private let buffers: UnsafeMutablePointer<BIOBuffers>
    private var finalRead: TLSReadResult?

    /// - Parameter serverName: sent by SNI (unless it is an IP address) and checked against the certificate (unless
    ///   the context is `.insecure`).
    public init(context: TLSClientContext, serverName: String) {
        guard let ssl = SSL_new(context.context) else { fatalError("SSL_new failed: out of memory") }
        self.context = context
        self.ssl = ssl
        buffers = .allocate(capacity: 1)
        buffers.initialize(to: BIOBuffers(output: ByteBuffer(capacity: 4 * 1024)))
        let bio = BufferBIO.make(over: buffers)
        SSL_set_bio(ssl, bio, bio)
        SSL_set_connect_state(ssl)
        let isAddress = SocketAddressText.isIPLiteral(serverName)
        if !isAddress { _ = kanaria_SSL_set_tlsext_host_name(ssl, serverName) }
        if context.verification != .insecure {
            if isAddress {
                _ = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), SocketAddressText.unbracketed(serverName))
            } else {
                _ = SSL_set1_host(ssl, serverName)
            }
        }
        advanceHandshake()
    }

    deinit {
        SSL_free(ssl)
        buffers.pointee.output.deallocate()
        buffers.deinitialize(count: 1)
        buffers.deallocate()
    }

    public var handshakeComplete: Bool { SSL_is_init_finished(ssl) == 1 }

    /// Decrypted plaintext OpenSSL holds that a read returns without more ciphertext.
    public var hasBufferedInput: Bool { SSL_has_pending(ssl) == 1 }

    /// The protocol the server chose by ALPN; nil when it chose none (speak HTTP/1.1).
    public var negotiatedProtocol: ApplicationProtocol? { SSLReading.negotiatedProtocol(ssl) }

    /// "TLSv1.3".
    public var protocolVersion: String { String(cString: SSL_get_version(ssl)) }

    /// Ciphertext waiting for the socket.
    public var pendingCiphertext: UnsafeRawBufferPointer { buffers.pointee.output.readable }

    public func ciphertextWritten(_ count: Int) { buffers.pointee.output.consume(count) }

    /// The server closed TCP: once the ciphertext given so far is used up, reads report `.closed`.
    public func ciphertextEnded() { buffers.pointee.inputEnded = true }

    /// Decrypts ciphertext from the front of `ciphertext` into the free space of `plaintext`, advancing the handshake
    /// first; the same contract as `TLSConnection.readPlaintext`. A certificate that fails the check ends in
    /// `.failed` with OpenSSL's reason ("certificate verify failed").
    public func readPlaintext(from ciphertext: inout ByteBuffer, into plaintext: inout ByteBuffer) -> TLSReadResult {
        if let finalRead { return finalRead }
        return withUnsafeMutablePointer(to: &ciphertext) { input in
            buffers.pointee.input = input
            defer { buffers.pointee.input = nil }
            if !handshakeComplete, let end = advanceHandshake() { return end }
            let (total, error) = SSLReading.decrypt(ssl, into: &plaintext)
            if let error, let end = stop(error) {
                finalRead = end
                return total > 0 ? .data(total) : end
            }
            return total > 0 ? .data(total) : .wantMoreCiphertext
        }
    }

    /// Encrypts `bytes` into `pendingCiphertext`; returns how many were taken (0 before the handshake is complete).
    public func writePlaintext(_ bytes: UnsafeRawBufferPointer) -> Int {
        guard finalRead == nil, handshakeComplete, bytes.count > 0 else { return 0 }
        var written = 0
        if SSL_write_ex(ssl, bytes.baseAddress, bytes.count, &written) == 1 { return written }
        if let end = stop(SSL_get_error(ssl, 0)) { finalRead = end }
        return 0
    }

    /// Queues close_notify.
    public func shutdown() {
        guard finalRead == nil else { return }
        if SSL_shutdown(ssl) < 0 { _ = OpenSSLErrors.drain() }
    }

    /// Runs the handshake as far as the input allows; the end of the stream if it failed.
    @discardableResult
    private func advanceHandshake() -> TLSReadResult? {
        let rc = SSL_do_handshake(ssl)
        if rc == 1 { return nil }
        guard let end = stop(SSL_get_error(ssl, rc)) else { return nil }
        finalRead = end
        return end
    }

    /// nil when more ciphertext is needed; otherwise how the stream ended.
    private func stop(_ error: Int32) -> TLSReadResult? {
        switch error {
        case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE:
            return nil
        case SSL_ERROR_ZERO_RETURN:
            return .closed(clean: true)
        case SSL_ERROR_SYSCALL:
            _ = OpenSSLErrors.drain()
            return .closed(clean: false)
        default:
            return .failed(TLSFailure(reason: OpenSSLErrors.drainReason(fallback: "TLS error \(error)")))
        }
    }
}

/// Telling an IP literal from a host name, for SNI (never sent for an address) and the certificate check.
enum SocketAddressText {
    static func unbracketed(_ host: String) -> String {
        host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
    }

    static func isIPLiteral(_ host: String) -> Bool {
        let bare = unbracketed(host)
        if bare.contains(":") { return true }
        let parts = bare.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { UInt8($0) != nil }
    }
}
