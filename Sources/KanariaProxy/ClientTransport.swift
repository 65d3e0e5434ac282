import KanariaHTTP
import KanariaPosix
import KanariaTLS

/// How a client's bytes travel: straight on the socket, or through TLS. Client connections read and write through
/// it; with plain TCP it is one system call, with TLS it feeds OpenSSL from and to buffers the connection owns.
struct ClientTransport<Session: TLSSession> {
    /// nil for plain TCP.
    private(set) var tls: Session?
    /// Ciphertext read from the socket and not yet decrypted (TLS only).
    private var ciphertext = ByteBuffer?.none
    /// Why TLS failed, for the log; nil while it has not.
    private(set) var failure: TLSFailure?
    /// The worker's sockets.
    private let io: WorkerIO

    /// A transport over the TLS session `session` (server or client side).
    init(session: Session, io: WorkerIO) {
        tls = session
        ciphertext = ByteBuffer(capacity: 16 * 1024)
        self.io = io
    }

    /// Plain TCP.
    init(io: WorkerIO = .system) {
        self.io = io
    }

    mutating func release() {
        ciphertext?.deallocate()
        ciphertext = nil
        tls = nil
    }

    /// The scheme the client used, for `x-forwarded-proto`.
    var scheme: StaticString { tls == nil ? "http" : "https" }

    /// Bytes of TLS output waiting for the socket.
    var hasPendingOutput: Bool { tls?.hasPendingCiphertext ?? false }

    /// Whether more plaintext may be ready without the socket (TLS records already received).
    var hasBufferedInput: Bool {
        guard let tls else { return false }
        return !(ciphertext?.isEmpty ?? true) || tls.hasBufferedInput
    }

    // MARK: Reading

    /// Reads what is ready into `inbound`. `socketReadable` is the edge-triggered readiness of the socket.
    @inline(__always)
    mutating func read(_ fd: Int32, into inbound: inout ByteBuffer, socketReadable: Bool) -> ReadOutcome {
        guard let tls else { return inbound.read(from: fd, io: io) }
        return readTLS(tls, fd, into: &inbound, socketReadable: socketReadable)
    }

    private mutating func readTLS(_ tls: Session, _ fd: Int32, into inbound: inout ByteBuffer,
                                  socketReadable: Bool) -> ReadOutcome {
        var socketReadable = socketReadable
        while true {
            guard inbound.writableCount > 0 else { return .noRoom }
            let result = tls.readPlaintext(from: &ciphertext!, into: &inbound)
            _ = flush(fd)  // the handshake and post-handshake messages are written while reading
            switch result {
            case .data(let count):
                if count == 0 { return .noRoom }
                return .data(drained: !socketReadable && !hasBufferedInput)
            case .wantMoreCiphertext:
                guard socketReadable else { return .nothing }
                ciphertext!.reserve(4096)
                switch ciphertext!.read(from: fd, io: io) {
                case .data(let drained):
                    if drained { socketReadable = false }
                case .closed:
                    tls.ciphertextEnded()
                    socketReadable = false
                case .nothing:
                    return .nothing
                case .noRoom:
                    return .noRoom
                }
            case .closed:
                return .closed
            case .failed(let why):
                failure = why
                _ = flush(fd)  // an alert may say why
                return .closed
            }
        }
    }

    // MARK: Writing

    /// Writes `first` then `second`: returns how many of their bytes were taken, or `.wouldBlock` when none could
    /// be. With TLS, taken bytes may still sit encrypted in `pendingOutput`; fewer taken than given means the
    /// socket is full (an EPOLLOUT edge will follow).
    @inline(__always)
    mutating func write(_ fd: Int32, _ first: UnsafeRawBufferPointer, _ second: UnsafeRawBufferPointer) -> Result<Int, Errno> {
        guard let tls else { return io.write(fd, first, second) }
        return writeTLS(tls, fd, first, second)
    }

    private mutating func writeTLS(_ tls: Session, _ fd: Int32, _ first: UnsafeRawBufferPointer,
                                   _ second: UnsafeRawBufferPointer) -> Result<Int, Errno> {
        var taken = 0
        let total = first.count + second.count
        while taken < total {
            switch flush(fd) {
            case .failure(let error): return taken > 0 ? .success(taken) : .failure(error)
            case .success(false): return taken > 0 ? .success(taken) : .failure(.wouldBlock)
            case .success(true): break
            }
            let a = taken < first.count ? UnsafeRawBufferPointer(rebasing: first[taken...]) : UnsafeRawBufferPointer(start: nil, count: 0)
            let b = taken <= first.count ? second : UnsafeRawBufferPointer(rebasing: second[(taken - first.count)...])
            let n = tls.writePlaintext(a, b)
            if n == 0 { break }
            taken += n
        }
        switch flush(fd) {
        case .failure(let error) where taken == 0: return .failure(error)
        default: break
        }
        return taken > 0 ? .success(taken) : .failure(.wouldBlock)
    }

    /// Writes `buffers` in order (an HTTP/2 session's output); the same contract as `write`.
    mutating func write(_ fd: Int32, _ buffers: [UnsafeRawBufferPointer], vectors: VectorWriter) -> Result<Int, Errno> {
        guard let tls else { return io.write(fd, buffers, vectors: vectors) }
        var taken = 0
        for buffer in buffers {
            switch writeTLS(tls, fd, buffer, UnsafeRawBufferPointer(start: nil, count: 0)) {
            case .success(let n):
                taken += n
                if n < buffer.count { return .success(taken) }
            case .failure(let error):
                return taken > 0 ? .success(taken) : .failure(error)
            }
        }
        return .success(taken)
    }

    /// Sends pending TLS output. `.success(true)` when none is left.
    @discardableResult
    mutating func flush(_ fd: Int32) -> Result<Bool, Errno> {
        guard let tls else { return .success(true) }
        while tls.hasPendingCiphertext {
            switch io.write(fd, tls.pendingCiphertext) {
            case .success(let n):
                tls.ciphertextWritten(n)
                if tls.hasPendingCiphertext { return .success(false) }
            case .failure(let error):
                return error == .wouldBlock ? .success(false) : .failure(error)
            }
        }
        return .success(true)
    }

    /// Ends our side: a TLS close_notify first, then FIN.
    mutating func shutdownWrite(_ fd: Int32) {
        if let tls {
            tls.shutdown()
            _ = flush(fd)
        }
        io.shutdownWrite(fd)
    }
}

extension ClientTransport where Session == TLSConnection {
    /// A transport that terminates TLS with `context` (a client connection to an HTTPS Gateway server).
    init(tls context: TLSServerContext, io: WorkerIO) {
        self.init(session: TLSConnection(context: context), io: io)
    }
}
