import KanariaPosix

/// A network and a clock in memory, in place of the operating system's, so that a `Worker` can be driven by a
/// test one loop turn at a time: what the proxy writes can be read back, what peers send can be fed in, endpoints
/// can refuse connections, and time moves only when the test says so (compare swift-nio's EmbeddedChannel).
///
/// Descriptors are numbers from 10,000 up that never reach the kernel. Each connected socket has a peer; bytes
/// written to one wait in the other's inbox until read. Writes always succeed whole (no backpressure) until the
/// peer has closed. Readiness is edge-triggered like the worker's epoll registrations: a registered socket
/// reports `.readable` once for each arrival of bytes (or of the peer's close) and `.writable` once when it is
/// registered or its connect completes.
///
/// Not thread-safe: one test thread drives it and the worker it serves.
public final class InMemoryNetwork {
    final class Socket {
        var inbox: [UInt8] = []
        var readOffset = 0
        var peer: Int32 = -1
        /// The peer closed (or shut its writing side): reads return 0 once the inbox is empty.
        var peerClosed = false
        var closed = false
        /// A connect that the worker has not yet seen complete; `refused` makes it fail.
        var connecting = false
        var refused = false
        /// The connect hangs: it neither completes nor fails.
        var hangs = false
        var token: UInt64? = nil
        var pending: EpollEvents = []
        var localAddress: SocketAddress?
        var remoteAddress: SocketAddress?
    }

    /// A listening socket: connections dialled to it wait here until accepted.
    final class Listener {
        var backlog: [Int32] = []
        var token: UInt64? = nil
        var pending = false
    }

    /// An upstream endpoint the test plays: every connection the worker opens to its address is accepted, and its
    /// test-side descriptor is appended to `connections`. `refusing` makes new connects fail (a dead endpoint).
    public final class Endpoint {
        public let address: SocketAddress
        public internal(set) var connections: [Int32] = []
        public var refusing = false
        /// New connects never complete (a host that drops SYNs), until the worker gives up on them.
        public var silent = false

        init(address: SocketAddress) {
            self.address = address
        }
    }

    private var sockets: [Int32: Socket] = [:]
    private var listeners: [Int32: Listener] = [:]
    private var endpoints: [String: Endpoint] = [:]
    private var nextDescriptor: Int32 = 10_000
    /// Monotonic milliseconds as the worker sees them.
    public var now: Int64 = 1_000_000

    public init() {}

    // MARK: The test's side

    /// A listening socket for a worker's `ListenerSocket`.
    public func listen() -> Int32 {
        let fd = allocate()
        listeners[fd] = Listener()
        return fd
    }

    /// Opens a client connection to `listener`; returns the client's (test-side) descriptor.
    public func dial(_ listener: Int32, from address: String = "127.0.0.1:50000") -> Int32 {
        let (client, server) = pair()
        sockets[server]!.remoteAddress = SocketAddress(parsing: address)
        listeners[listener]!.backlog.append(server)
        listeners[listener]!.pending = true
        return client
    }

    /// Makes `address` an endpoint the test answers for.
    @discardableResult
    public func serve(_ address: SocketAddress) -> Endpoint {
        let endpoint = Endpoint(address: address)
        endpoints[address.description] = endpoint
        return endpoint
    }

    /// Sends bytes from a test-side descriptor to its peer.
    public func send(_ fd: Int32, _ text: String) {
        _ = write(fd, Array(text.utf8))
    }

    /// Everything that arrived for a test-side descriptor and was not taken yet.
    public func receive(_ fd: Int32) -> String {
        guard let socket = sockets[fd] else { return "" }
        let bytes = socket.inbox[socket.readOffset...]
        socket.inbox.removeAll()
        socket.readOffset = 0
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Whether the other side of a test-side descriptor has closed it (or shut its writing side).
    public func peerClosed(_ fd: Int32) -> Bool { sockets[fd]?.peerClosed ?? true }

    /// Closes a test-side descriptor: its peer reads the end of the stream.
    public func hangUp(_ fd: Int32) { close(fd) }

    // MARK: The worker's side (through WorkerIO)

    func read(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer) -> Result<Int, Errno> {
        guard let socket = sockets[fd], !socket.closed else { return .failure(Errno.connectionReset) }
        let available = socket.inbox.count - socket.readOffset
        if available == 0 { return socket.peerClosed ? .success(0) : .failure(.wouldBlock) }
        let n = min(available, buffer.count)
        socket.inbox.withUnsafeBytes { bytes in
            buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[socket.readOffset..<socket.readOffset + n]))
        }
        socket.readOffset += n
        if socket.readOffset == socket.inbox.count {
            socket.inbox.removeAll(keepingCapacity: true)
            socket.readOffset = 0
        }
        return .success(n)
    }

    func write(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Result<Int, Errno> {
        write(fd, Array(bytes))
    }

    func write(_ fd: Int32, _ bytes: [UInt8]) -> Result<Int, Errno> {
        guard let socket = sockets[fd], !socket.closed, !socket.connecting, let peer = sockets[socket.peer], !peer.closed else {
            return .failure(.brokenPipe)
        }
        peer.inbox.append(contentsOf: bytes)
        if !bytes.isEmpty { peer.pending.insert(.readable) }
        return .success(bytes.count)
    }

    func close(_ fd: Int32) {
        if listeners.removeValue(forKey: fd) != nil { return }
        guard let socket = sockets[fd], !socket.closed else { return }
        socket.closed = true
        if let peer = sockets[socket.peer], !peer.closed {
            peer.peerClosed = true
            peer.pending.insert(.readable)
        }
    }

    func shutdownWrite(_ fd: Int32) {
        guard let socket = sockets[fd], let peer = sockets[socket.peer] else { return }
        peer.peerClosed = true
        peer.pending.insert(.readable)
    }

    func accept(_ listener: Int32) -> Result<(fd: Int32, peer: SocketAddress), Errno> {
        guard let entry = listeners[listener], !entry.backlog.isEmpty else { return .failure(.wouldBlock) }
        let fd = entry.backlog.removeFirst()
        let address = sockets[fd]?.remoteAddress ?? SocketAddress(parsing: "127.0.0.1:50000")!
        return .success((fd, address))
    }

    /// Starts a connect: it completes (or is refused) when the worker next polls.
    func connect(to address: SocketAddress) -> Result<Int32, Errno> {
        let (proxySide, endpointSide) = pair()
        let socket = sockets[proxySide]!
        socket.connecting = true
        socket.remoteAddress = address
        if let endpoint = endpoints[address.description], endpoint.silent {
            socket.hangs = true
        } else if let endpoint = endpoints[address.description], !endpoint.refusing {
            endpoint.connections.append(endpointSide)
        } else {
            socket.refused = true
            sockets[endpointSide]!.closed = true
        }
        return .success(proxySide)
    }

    func pendingError(of fd: Int32) -> Int32 {
        guard let socket = sockets[fd] else { return Errno.connectionReset.code }
        return socket.refused ? Errno.connectionRefused.code : 0
    }

    func localAddress(of fd: Int32) -> SocketAddress? {
        sockets[fd]?.localAddress ?? SocketAddress(parsing: "127.0.0.1:40000")
    }

    /// Watches `fd` for the worker: its events come back from `poll` with `token`.
    func register(_ fd: Int32, token: UInt64) {
        if let listener = listeners[fd] {
            listener.token = token
            return
        }
        guard let socket = sockets[fd] else { return }
        socket.token = token
        if !socket.connecting { socket.pending.insert(.writable) }  // a connect reports writable when it completes
        if socket.inbox.count > socket.readOffset || socket.peerClosed { socket.pending.insert(.readable) }
    }

    /// The edge-triggered events since the last poll, in descriptor order; completes pending connects.
    func poll() -> [(token: UInt64, events: EpollEvents)] {
        var events: [(token: UInt64, events: EpollEvents)] = []
        for (_, listener) in listeners.sorted(by: { $0.key < $1.key }) where listener.pending {
            listener.pending = false
            if let token = listener.token { events.append((token, .readable)) }
        }
        for (_, socket) in sockets.sorted(by: { $0.key < $1.key }) where !socket.closed {
            if socket.connecting && !socket.hangs {
                socket.connecting = false
                socket.pending.insert(socket.refused ? [.writable, .error, .hangUp] : .writable)
            }
            guard !socket.pending.isEmpty, let token = socket.token else { continue }
            events.append((token, socket.pending))
            socket.pending = []
        }
        return events
    }

    // MARK: Descriptors

    private func allocate() -> Int32 {
        nextDescriptor += 1
        return nextDescriptor
    }

    private func pair() -> (Int32, Int32) {
        let a = allocate(), b = allocate()
        let first = Socket(), second = Socket()
        first.peer = b
        second.peer = a
        sockets[a] = first
        sockets[b] = second
        return (a, b)
    }
}
