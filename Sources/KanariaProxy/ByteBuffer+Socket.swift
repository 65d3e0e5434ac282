import KanariaHTTP
import KanariaPosix

/// What one read from a socket into a buffer found.
enum ReadOutcome {
    /// Bytes arrived; `drained` is true when fewer came than there was room for, so that (edge-triggered) the
    /// socket has nothing more until epoll says so again.
    case data(drained: Bool)
    /// The peer closed its side, or the connection failed.
    case closed
    /// Nothing to read now: the socket is drained.
    case nothing
    /// No room to read into: the socket was not asked, its readiness stands.
    case noRoom
}

extension ReadOutcome {
    /// Records what the read found in a connection's edge-triggered flags.
    /// - Returns: whether the read made progress (bytes, or the end of the stream).
    @inline(__always)
    func record(readable: inout Bool, closed: inout Bool) -> Bool {
        switch self {
        case .data(let drained):
            if drained { readable = false }
            return true
        case .closed:
            readable = false
            closed = true
            return true
        case .nothing:
            readable = false
            return false
        case .noRoom:
            return false
        }
    }
}

extension ByteBuffer {
    /// Reads once from `fd` into the free space after the readable bytes.
    @inline(__always)
    mutating func read(from fd: Int32, io: WorkerIO) -> ReadOutcome {
        let space = writableCount
        guard space > 0 else { return .noRoom }
        switch io.read(fd, into: writable) {
        case .success(let n):
            if n == 0 { return .closed }
            didWrite(n)
            return .data(drained: n < space)
        case .failure(let error):
            return error == .wouldBlock ? .nothing : .closed
        }
    }
}
