import KanariaHTTP
import KanariaPosix
import KanariaTLS

/// The bytes of one load connection, in clear or through TLS: reads give plaintext, writes take plaintext. With TLS
/// the handshake runs inside `read` (and `flush` sends what it produced); `isReady` says when requests may go.
struct ConnectionIO {
    enum ReadOutcome {
        /// Plaintext arrived; `drained`: the socket has nothing more for now.
        case data(Int, drained: Bool)
        /// Nothing to read now (or only handshake progress).
        case nothing
        /// The server closed the connection (or reset it).
        case closed
        /// TLS failed: the reason (a certificate that does not verify, say).
        case failed(String)
    }

    private(set) var tls: TLSClientConnection?
    private var ciphertext: ByteBuffer?

    init(tls: TLSClientConnection?) {
        self.tls = tls
        ciphertext = tls.map { _ in ByteBuffer(capacity: 32 * 1024) }
    }

    func deallocate() { ciphertext?.deallocate() }

    /// Plain connections are ready once connected; TLS ones once the handshake is complete.
    var isReady: Bool { tls?.handshakeComplete ?? true }

    /// Reads once from the socket into the free space of `plaintext` (decrypting with TLS).
    mutating func read(_ fd: Int32, into plaintext: inout ByteBuffer) -> ReadOutcome {
        guard let tls else {
            let space = plaintext.writableCount
            switch Syscall.read(fd, into: plaintext.writable) {
            case .success(0): return .closed
            case .success(let n):
                plaintext.didWrite(n)
                return .data(n, drained: n < space)
            case .failure(let error): return error == .wouldBlock ? .nothing : .closed
            }
        }
        var drained = false
        var arrived = 0
        var buffer = ciphertext!
        defer { ciphertext = buffer }
        if buffer.writableCount < 4096 { buffer.compact() }
        let space = buffer.writableCount
        switch Syscall.read(fd, into: buffer.writable) {
        case .success(0): tls.ciphertextEnded()
        case .success(let n):
            buffer.didWrite(n)
            arrived = n
            drained = n < space
        case .failure(let error):
            if error != .wouldBlock { return .closed }
            drained = true
        }
        let result = tls.readPlaintext(from: &buffer, into: &plaintext)
        _ = flush(fd)
        switch result {
        case .data(let n): return .data(n, drained: false)
        case .wantMoreCiphertext: return arrived > 0 ? .data(0, drained: drained) : .nothing
        case .closed: return .closed
        case .failed(let failure): return .failed(failure.reason)
        }
    }

    /// Writes plaintext: straight to the socket, or encrypted and then flushed. Returns the bytes taken.
    mutating func write(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Result<Int, Errno> {
        guard let tls else { return Syscall.write(fd, bytes) }
        let taken = tls.writePlaintext(bytes)
        if case .failure(let error) = flush(fd), error != .wouldBlock { return .failure(error) }
        return .success(taken)
    }

    /// Sends TLS output waiting for the socket (handshake messages, records). `.wouldBlock` when some is left.
    @discardableResult
    mutating func flush(_ fd: Int32) -> Result<Void, Errno> {
        guard let tls else { return .success(()) }
        while true {
            let pending = tls.pendingCiphertext
            guard pending.count > 0 else { return .success(()) }
            switch Syscall.write(fd, pending) {
            case .success(let n):
                tls.ciphertextWritten(n)
                if n < pending.count { return .failure(.wouldBlock) }
            case .failure(let error):
                return .failure(error)
            }
        }
    }

    /// Whether TLS output is still waiting for the socket.
    var hasPendingOutput: Bool { (tls?.pendingCiphertext.count ?? 0) > 0 }

    /// What a connecting socket's first writability means.
    enum ConnectStep {
        /// Not writable yet.
        case waiting
        /// The connection was refused (or failed): SO_ERROR's errno.
        case refused(Int32)
        /// TCP is up; the TLS hello (if any) is on its way.
        case established
    }

    /// Checks a non-blocking connect once the socket is writable, and starts TLS.
    mutating func completeConnect(_ fd: Int32, writable: Bool) -> ConnectStep {
        guard writable else { return .waiting }
        let error = Socket.pendingError(of: fd)
        guard error == 0 else { return .refused(error) }
        flush(fd)
        return .established
    }

    /// Sends TLS output left over from an earlier write, if the socket takes it. Returns a hard error.
    mutating func flushLeftover(_ fd: Int32, writable: inout Bool) -> Errno? {
        guard writable && hasPendingOutput, case .failure(let error) = flush(fd) else { return nil }
        writable = false
        return error == .wouldBlock ? nil : error
    }
}

/// A connection's edge-triggered readiness, remembered between epoll events until a read or write drains it.
struct Readiness {
    var readable = false
    var writable = false

    mutating func note(_ events: EpollEvents) {
        if !events.isDisjoint(with: [.readable, .peerHangUp, .hangUp, .error]) { readable = true }
        if !events.isDisjoint(with: [.writable, .hangUp, .error]) { writable = true }
    }
}
