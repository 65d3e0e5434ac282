import COpenSSL
import KanariaHTTP

/// The server side of one client's TLS connection, pure of sockets: ciphertext in, plaintext out, and the reverse.
///
/// The proxy owns the socket and the ciphertext buffer it reads into; OpenSSL reads straight from that buffer (see
/// `BufferBIO`). Ciphertext to send collects in `pendingCiphertext` until the socket takes it. Nothing blocks: a
/// call makes what progress the bytes at hand allow and says what it needs next.
///
///     // readable: socket → ciphertext → plaintext → parser
///     read(fd) into ciphertext (or on EOF: tls.ciphertextEnded())
///     loop: switch tls.readPlaintext(from: &ciphertext, into: &inbound)
///           .data(n)             → parse inbound; call again when inbound has room
///           .wantMoreCiphertext  → back to the socket (only now: ciphertext is empty)
///           .closed(clean)       → the client is done sending
///           .failed(why)         → flush pendingCiphertext (an alert), close
///     flush pendingCiphertext after every call: the handshake and TLS 1.3 tickets write while reading
///
///     // writable: plaintext → ciphertext → socket
///     let taken = tls.writePlaintext(head, body)   // fewer than offered when pendingCiphertext is full
///     send(fd, tls.pendingCiphertext) → tls.ciphertextWritten(n)
///
/// One worker thread uses a connection; different connections may be used on different threads at once.
///
/// Costs, server side, measured in memory on the 2-core development machine (OpenSSL 3.0, AES-NI, ECDSA P-256):
/// a full TLS 1.3 handshake 0.4–0.6 ms of CPU (RSA 2048: ~0.9 ms), a TLS 1.3 resumption ~0.4 ms (it still does
/// ECDHE), a TLS 1.2 resumption ~0.08 ms; bulk data ~2 GB/s each way in 16 KB records; a 200-byte head with a
/// 1,000-byte body 2.2 µs joined, 4.3 µs as two records. This layer allocates nothing per record; OpenSSL 3.0
/// itself makes three 40-byte allocations per record written and one per record read (its WPACKET bookkeeping).
public final class TLSConnection {
    /// How many ciphertext bytes may wait for the socket: `writePlaintext` takes no plaintext that would pass it, so
    /// the buffer behind `pendingCiphertext` grows to this size (from 4 KB) and no further.
    public static let defaultCiphertextLimit = 64 * 1024

    public let context: TLSServerContext
    /// The `SSL` object, owned.
    private let ssl: OpaquePointer
    /// The BIO's buffers; the BIO itself belongs to `ssl`.
    private let buffers: UnsafeMutablePointer<BIOBuffers>
    private let ciphertextLimit: Int
    /// Set once the stream has ended or failed; every later read reports it again.
    private var finalRead: TLSReadResult?
    private var shutdownSent = false
    /// Where `writePlaintext(_:_:)` joins a head and the start of a body; made on first use.
    private var coalescingScratch: UnsafeMutableRawPointer?

    /// A server connection for one accepted client.
    public init(context: TLSServerContext, ciphertextLimit: Int = TLSConnection.defaultCiphertextLimit) {
        guard let ssl = SSL_new(context.context) else { fatalError("SSL_new failed: out of memory") }
        self.context = context
        self.ssl = ssl
        self.ciphertextLimit = ciphertextLimit
        buffers = .allocate(capacity: 1)
        buffers.initialize(to: BIOBuffers(output: ByteBuffer(capacity: 4 * 1024)))
        let bio = BufferBIO.make(over: buffers)
        SSL_set_bio(ssl, bio, bio)
        SSL_set_accept_state(ssl)
    }

    deinit {
        SSL_free(ssl)
        coalescingScratch?.deallocate()
        buffers.pointee.output.deallocate()
        buffers.deinitialize(count: 1)
        buffers.deallocate()
    }

    // MARK: State

    /// The handshake is done: `negotiatedProtocol` is final and plaintext flows.
    public var handshakeComplete: Bool { SSL_is_init_finished(ssl) == 1 }

    /// OpenSSL holds input not yet returned: decrypted plaintext that did not fit, or whole records not yet
    /// decrypted. Call `readPlaintext` again when there is room, even if the socket has nothing new.
    public var hasBufferedInput: Bool { SSL_has_pending(ssl) == 1 }

    /// The protocol agreed by ALPN; nil when the client offered none that the server offers (then speak HTTP/1.1),
    /// or before the handshake has got that far.
    public var negotiatedProtocol: ApplicationProtocol? { SSLReading.negotiatedProtocol(ssl) }

    /// The host name the client asked for by SNI, if any.
    public var serverName: String? {
        SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name).map { String(cString: $0) }
    }

    /// The negotiated protocol version ("TLSv1.3"), for logs.
    public var protocolVersion: String { String(cString: SSL_get_version(ssl)) }

    /// Whether a handshake resumed an earlier session (by ticket).
    public var sessionReused: Bool { SSL_session_reused(ssl) == 1 }

    // MARK: Reading

    /// Decrypts ciphertext from the front of `ciphertext` into the free space of `plaintext`, driving the handshake
    /// first. Consumes from `ciphertext` what OpenSSL took; appends to `plaintext` at most its `writableCount`
    /// bytes (reserve room first: with none, this returns `.data(0)`).
    public func readPlaintext(from ciphertext: inout ByteBuffer, into plaintext: inout ByteBuffer) -> TLSReadResult {
        if let finalRead { return finalRead }
        return withUnsafeMutablePointer(to: &ciphertext) { input in
            buffers.pointee.input = input
            defer { buffers.pointee.input = nil }
            let (total, error) = SSLReading.decrypt(ssl, into: &plaintext)
            guard let error else { return .data(total) }  // plaintext is full
            guard let end = readStop(error) else { return total > 0 ? .data(total) : .wantMoreCiphertext }
            finalRead = end
            return total > 0 ? .data(total) : end
        }
    }

    /// The peer closed its side of TCP: once the ciphertext given so far is used up, reads report `.closed`.
    public func ciphertextEnded() {
        buffers.pointee.inputEnded = true
    }

    /// Maps an `SSL_read` error to the end of the stream, or to nil when more ciphertext is needed.
    private func readStop(_ error: Int32) -> TLSReadResult? {
        switch error {
        case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE:
            return nil
        case SSL_ERROR_ZERO_RETURN:
            return .closed(clean: true)
        case SSL_ERROR_SYSCALL:
            _ = OpenSSLErrors.drain()
            return .closed(clean: false)
        default:
            let entries = OpenSSLErrors.drain()
            guard let first = entries.first else { return .failed(TLSFailure(reason: "TLS error \(error)")) }
            if first.library == ERR_LIB_SSL && first.reasonCode == SSL_R_UNEXPECTED_EOF_WHILE_READING {
                return .closed(clean: false)
            }
            let plainHTTP = first.library == ERR_LIB_SSL && first.reasonCode == SSL_R_HTTP_REQUEST
            return .failed(TLSFailure(reason: first.reason, isPlainHTTPRequest: plainHTTP))
        }
    }

    // MARK: Writing

    /// Encrypts as much of `bytes` as fits under the ciphertext limit into `pendingCiphertext`, in records of up to
    /// 16 KB. Returns how many bytes were taken: 0 when `pendingCiphertext` is full (flush it first), before the
    /// handshake is complete, after `shutdown()`, or once the connection has failed.
    public func writePlaintext(_ bytes: UnsafeRawBufferPointer) -> Int {
        guard !shutdownSent, !isFailed, bytes.count > 0 else { return 0 }
        let room = ciphertextLimit - buffers.pointee.output.readableCount
        // Less each record's header, tag and padding, so that the ciphertext stays within the limit.
        let allowance = room - (room + Self.maximumRecordPlaintext - 1) / Self.maximumRecordPlaintext * Self.recordOverheadBound
        guard allowance > 0 else { return 0 }
        var written = 0
        if SSL_write_ex(ssl, bytes.baseAddress, min(bytes.count, allowance), &written) == 1 { return written }
        let error = SSL_get_error(ssl, 0)
        if error != SSL_ERROR_WANT_READ && error != SSL_ERROR_WANT_WRITE {
            let reason = OpenSSLErrors.drainReason(fallback: "TLS error \(error)")
            if finalRead == nil { finalRead = .failed(TLSFailure(reason: reason)) }
        }
        return 0
    }

    /// Encrypts `first` then `second` as if they were one buffer, the way `writev` sends a head and a body: a small
    /// `first` shares its record with the start of `second` (one record costs 22 bytes on the wire and about 1.5 µs
    /// of CPU, whatever its size). Returns how many bytes were taken, counted from the start of `first`: a 300-byte
    /// head and a 10,240-byte body with room to spare give 10,540, in two records: the head with 3,796 bytes of
    /// body, then the other 6,444.
    public func writePlaintext(_ first: UnsafeRawBufferPointer, _ second: UnsafeRawBufferPointer) -> Int {
        guard !first.isEmpty else { return writePlaintext(second) }
        guard !second.isEmpty, first.count < Self.coalescingLimit else { return writePlaintext(first) }
        let fromSecond = min(second.count, Self.coalescingLimit - first.count)
        let scratch = coalescingScratch ?? .allocate(byteCount: Self.coalescingLimit, alignment: 16)
        coalescingScratch = scratch
        scratch.copyMemory(from: first.baseAddress!, byteCount: first.count)
        (scratch + first.count).copyMemory(from: second.baseAddress!, byteCount: fromSecond)
        let packed = first.count + fromSecond
        let taken = writePlaintext(UnsafeRawBufferPointer(start: scratch, count: packed))
        guard taken == packed, fromSecond < second.count else { return taken }
        return taken + writePlaintext(UnsafeRawBufferPointer(rebasing: second[fromSecond...]))
    }

    /// TLS's largest record payload.
    static let maximumRecordPlaintext = 16 * 1024
    /// At least what a record adds to its plaintext: 22 bytes in TLS 1.3, 29 for TLS 1.2 AES-GCM; 64 is safe.
    static let recordOverheadBound = 64

    /// How much of a head and a body `writePlaintext(_:_:)` copies to send in one record.
    static let coalescingLimit = 4 * 1024

    /// Ciphertext waiting for the socket: handshake messages, records, alerts.
    public var pendingCiphertext: UnsafeRawBufferPointer { buffers.pointee.output.readable }

    public var hasPendingCiphertext: Bool { !buffers.pointee.output.isEmpty }

    /// Drops the first `count` bytes of `pendingCiphertext`, which the socket took.
    public func ciphertextWritten(_ count: Int) {
        buffers.pointee.output.consume(count)
    }

    // MARK: Closing

    /// Queues a close_notify alert in `pendingCiphertext`: no more plaintext will be written. Does not wait for the
    /// client's; after a failure it does nothing, since there is no session left to close.
    public func shutdown() {
        guard !shutdownSent, !isFailed else { return }
        shutdownSent = true
        if SSL_shutdown(ssl) < 0 { _ = OpenSSLErrors.drain() }
    }

    private var isFailed: Bool {
        if case .failed = finalRead { return true }
        return false
    }
}
