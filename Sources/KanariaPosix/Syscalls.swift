import CKanariaLinux
#if canImport(Glibc)
import Glibc
#endif

/// An errno value from a failed system call.
public struct Errno: Error, Equatable, Sendable, CustomStringConvertible {
    public let code: Int32
    public init(_ code: Int32) { self.code = code }

    public static let wouldBlock = Errno(EAGAIN)
    public static let inProgress = Errno(EINPROGRESS)
    public static let interrupted = Errno(EINTR)
    public static let connectionRefused = Errno(ECONNREFUSED)
    public static let connectionReset = Errno(ECONNRESET)
    public static let brokenPipe = Errno(EPIPE)

    public var description: String { String(cString: strerror(code)) + " (errno \(code))" }

    @inline(__always) static var current: Errno { Errno(ckanaria_errno()) }
}

/// System calls, each retried on EINTR and returning either a count or an `Errno`. The only place the proxy talks to
/// the kernel about file descriptors.
public enum Syscall {
    /// Reads into `buffer`. Returns the byte count (0 at end of stream), or `.wouldBlock`.
    @inline(__always)
    public static func read(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer) -> Result<Int, Errno> {
        while true {
            let n = Glibc.read(fd, buffer.baseAddress, buffer.count)
            if n >= 0 { return .success(n) }
            let error = Errno.current
            if error.code != EINTR { return .failure(error) }
        }
    }

    /// Writes `buffer`. Returns how many bytes the kernel took, or an error (`.wouldBlock` when none).
    @inline(__always)
    public static func write(_ fd: Int32, _ buffer: UnsafeRawBufferPointer) -> Result<Int, Errno> {
        while true {
            let n = Glibc.send(fd, buffer.baseAddress, buffer.count, Int32(MSG_NOSIGNAL))
            if n >= 0 { return .success(n) }
            let error = Errno.current
            if error.code != EINTR { return .failure(error) }
        }
    }

    /// Writes two buffers in one call (a head and the start of a body).
    @inline(__always)
    public static func writev(_ fd: Int32, _ first: UnsafeRawBufferPointer, _ second: UnsafeRawBufferPointer) -> Result<Int, Errno> {
        var vectors = (
            iovec(iov_base: UnsafeMutableRawPointer(mutating: first.baseAddress), iov_len: first.count),
            iovec(iov_base: UnsafeMutableRawPointer(mutating: second.baseAddress), iov_len: second.count)
        )
        return withUnsafeMutableBytes(of: &vectors) { raw in
            let iov = raw.baseAddress!.assumingMemoryBound(to: iovec.self)
            var message = msghdr()
            message.msg_iov = iov
            message.msg_iovlen = 2
            while true {
                let n = Glibc.sendmsg(fd, &message, Int32(MSG_NOSIGNAL))
                if n >= 0 { return .success(n) }
                let error = Errno.current
                if error.code != EINTR { return .failure(error) }
            }
        }
    }

    /// Opens `path` for appending (creating it, mode 0644), for logs.
    public static func openForAppending(_ path: String) -> Result<Int32, Errno> {
        let fd = Glibc.open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
        return fd >= 0 ? .success(fd) : .failure(Errno.current)
    }

    /// Writes all of `bytes`, waiting when the descriptor is full (for log files and standard output, which are
    /// blocking descriptors). Returns false when the descriptor failed.
    @discardableResult
    public static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let n = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if n > 0 {
                offset += n
            } else if n < 0 && ckanaria_errno() == EINTR {
                continue
            } else {
                return false
            }
        }
        return true
    }

    @inline(__always)
    public static func close(_ fd: Int32) {
        _ = Glibc.close(fd)  // Linux releases the descriptor even when close reports EINTR: never retry.
    }
}

/// Writes many buffers in one `sendmsg` (an HTTP/2 connection's frames and the body bytes they carry), through
/// a preallocated iovec array: one per event-loop thread.
public final class VectorWriter {
    public let capacity: Int
    private let vectors: UnsafeMutablePointer<iovec>

    public init(capacity: Int = 64) {
        self.capacity = capacity
        vectors = .allocate(capacity: capacity)
    }

    deinit { vectors.deallocate() }

    /// Writes `buffers` (at most `capacity` of them; the rest are left for the next call) in order.
    public func write(_ fd: Int32, _ buffers: [UnsafeRawBufferPointer]) -> Result<Int, Errno> {
        let count = min(buffers.count, capacity)
        for i in 0..<count {
            vectors[i] = iovec(iov_base: UnsafeMutableRawPointer(mutating: buffers[i].baseAddress), iov_len: buffers[i].count)
        }
        var message = msghdr()
        message.msg_iov = vectors
        message.msg_iovlen = count
        while true {
            let n = Glibc.sendmsg(fd, &message, Int32(MSG_NOSIGNAL))
            if n >= 0 { return .success(n) }
            let error = Errno.current
            if error.code != EINTR { return .failure(error) }
        }
    }
}
