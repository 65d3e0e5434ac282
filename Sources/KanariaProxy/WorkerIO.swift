import KanariaPosix

/// A worker's only way to sockets and time: the operating system's (system calls, epoll, the monotonic clock), or
/// an `InMemoryNetwork` that a test drives. Every socket operation of the proxy's request path goes through here.
///
/// The real path costs one predictable branch on a stored flag before the system call; the in-memory network is a
/// concrete class, so nothing here is an existential or a closure.
struct WorkerIO {
    let inMemory: Bool
    /// Unretained, so that passing the value around costs nothing: the worker keeps the network alive.
    unowned(unsafe) let network: InMemoryNetwork?

    /// The operating system's sockets and clock.
    static var system: WorkerIO { WorkerIO(inMemory: false, network: nil) }

    /// The sockets and clock of `network`.
    static func memory(_ network: InMemoryNetwork) -> WorkerIO {
        WorkerIO(inMemory: true, network: network)
    }

    @inline(__always)
    func read(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer) -> Result<Int, Errno> {
        if _slowPath(inMemory) { return network!.read(fd, into: buffer) }
        return Syscall.read(fd, into: buffer)
    }

    @inline(__always)
    func write(_ fd: Int32, _ buffer: UnsafeRawBufferPointer) -> Result<Int, Errno> {
        if _slowPath(inMemory) { return network!.write(fd, buffer) }
        return Syscall.write(fd, buffer)
    }

    /// Writes `first` then `second` (either may be empty) with as few system calls as possible.
    @inline(__always)
    func write(_ fd: Int32, _ first: UnsafeRawBufferPointer, _ second: UnsafeRawBufferPointer) -> Result<Int, Errno> {
        if _slowPath(inMemory) { return network!.write(fd, Array(first) + Array(second)) }
        if second.isEmpty { return Syscall.write(fd, first) }
        if first.isEmpty { return Syscall.write(fd, second) }
        return Syscall.writev(fd, first, second)
    }

    /// Writes `buffers` in order through the worker's iovec array (HTTP/2 frames and the bodies they carry).
    @inline(__always)
    func write(_ fd: Int32, _ buffers: [UnsafeRawBufferPointer], vectors: VectorWriter) -> Result<Int, Errno> {
        if _slowPath(inMemory) {
            var bytes: [UInt8] = []
            for buffer in buffers.prefix(vectors.capacity) { bytes.append(contentsOf: buffer) }
            return network!.write(fd, bytes)
        }
        return vectors.write(fd, buffers)
    }

    func close(_ fd: Int32) {
        if _slowPath(inMemory) { return network!.close(fd) }
        Syscall.close(fd)
    }

    func shutdownWrite(_ fd: Int32) {
        if _slowPath(inMemory) { return network!.shutdownWrite(fd) }
        Socket.shutdownWrite(fd)
    }

    @inline(__always)
    func accept(_ listener: Int32) -> Result<(fd: Int32, peer: SocketAddress), Errno> {
        if _slowPath(inMemory) { return network!.accept(listener) }
        return Socket.accept(listener)
    }

    func setNoDelay(_ fd: Int32) {
        if !inMemory { Socket.setNoDelay(fd) }
    }

    /// Starts a non-blocking connect; the connection is up once writable with no `pendingError`.
    func connect(to address: SocketAddress) -> Result<Int32, Errno> {
        if _slowPath(inMemory) { return network!.connect(to: address) }
        return Socket.connect(to: address)
    }

    func pendingError(of fd: Int32) -> Int32 {
        if _slowPath(inMemory) { return network!.pendingError(of: fd) }
        return Socket.pendingError(of: fd)
    }

    func localAddress(of fd: Int32) -> SocketAddress? {
        if _slowPath(inMemory) { return network!.localAddress(of: fd) }
        return try? Socket.localAddress(of: fd)
    }

    /// Monotonic milliseconds.
    @inline(__always)
    func now() -> Int64 {
        if _slowPath(inMemory) { return network!.now }
        return monotonicMilliseconds()
    }
}
