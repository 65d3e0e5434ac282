import CKanariaLinux
#if canImport(Glibc)
import Glibc
#endif

/// Socket set-up calls: listening, accepting, connecting, options. Descriptors are non-blocking and close-on-exec.
public enum Socket {
    /// A listening TCP socket bound to `address` with SO_REUSEADDR and SO_REUSEPORT, so that every worker can bind
    /// its own listener to the same port and the kernel spreads connections over them.
    public static func listen(on address: SocketAddress, backlog: Int32 = 1024, deferAccept: Bool = false) throws(Errno) -> Int32 {
        let fd = socket(address.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw Errno.current }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, socklen_t(MemoryLayout<Int32>.size))
        if deferAccept {
            // Accept a connection only once its first bytes have arrived (nginx's `deferred`), saving a wake-up.
            var seconds: Int32 = 1
            setsockopt(fd, Int32(IPPROTO_TCP), TCP_DEFER_ACCEPT, &seconds, socklen_t(MemoryLayout<Int32>.size))
        }
        let bound = address.withSockaddr { bind(fd, $0, $1) }
        guard bound == 0, Glibc.listen(fd, backlog) == 0 else {
            let error = Errno.current
            Syscall.close(fd)
            throw error
        }
        return fd
    }

    /// The address a socket is bound to (to learn the port the kernel chose for port 0).
    public static func localAddress(of fd: Int32) throws(Errno) -> SocketAddress {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let result = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard result == 0 else { throw Errno.current }
        return SocketAddress(storage: storage)
    }

    /// Accepts one pending connection, non-blocking (`.wouldBlock` when there is none), with the peer's address.
    @inline(__always)
    public static func accept(_ listener: Int32) -> Result<(fd: Int32, peer: SocketAddress), Errno> {
        var peer = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        while true {
            let fd = withUnsafeMutablePointer(to: &peer) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    ckanaria_accept4(listener, $0, &length, Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue))
                }
            }
            if fd >= 0 { return .success((fd, SocketAddress(storage: peer))) }
            let error = Errno.current
            if error.code != EINTR { return .failure(error) }
        }
    }

    /// Starts a non-blocking connect. Returns the descriptor; the connection is established when it becomes
    /// writable (check `pendingError`). Fails at once only for local errors.
    public static func connect(to address: SocketAddress) -> Result<Int32, Errno> {
        let fd = socket(address.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return .failure(Errno.current) }
        setNoDelay(fd)
        let result = address.withSockaddr { Glibc.connect(fd, $0, $1) }
        if result == 0 || ckanaria_errno() == EINPROGRESS { return .success(fd) }
        let error = Errno.current
        Syscall.close(fd)
        return .failure(error)
    }

    /// SO_ERROR: the outcome of a non-blocking connect (0 when it succeeded).
    public static func pendingError(of fd: Int32) -> Int32 {
        var error: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length)
        return error
    }

    /// Disables Nagle's algorithm: a proxy writes whole messages and must not delay them.
    public static func setNoDelay(_ fd: Int32) {
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    }

    /// Closes with a reset instead of a FIN (SO_LINGER 0), for a connection that misbehaved.
    public static func abort(_ fd: Int32) {
        var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
        Syscall.close(fd)
    }

    /// Stops writing (sends FIN) while still reading.
    public static func shutdownWrite(_ fd: Int32) {
        _ = shutdown(fd, Int32(SHUT_WR))
    }
}
