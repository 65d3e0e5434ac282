import KanariaHTTP
import KanariaPosix
import KanariaTLS

/// A connection from a worker to one upstream endpoint. Either connecting, attached to the client exchange it
/// serves (`owner`), or idle in its endpoint's pool. The response parser lives here because the response bytes do.
final class UpstreamConnection {
    enum State {
        case connecting
        case active
        case idle
        case closed
    }

    var fd: Int32 = -1
    var state = State.closed
    var inbound: ByteBuffer
    /// Edge-triggered readiness, as last reported by epoll and not yet used up.
    var readable = false
    var writable = false
    /// The upstream closed its side (a read returned 0) or the connection failed.
    var readClosed = false
    /// The exchange this connection is serving.
    var owner = UpstreamOwner.none
    unowned(unsafe) var pool: EndpointPool!
    /// Requests completed on this connection: more than 0 means it came from the pool and may be stale.
    var exchangesCompleted = 0
    /// When the current connect began, or when the connection went idle.
    var since: Int64 = 0
    /// The proxy's `ip:port` on this connection, for the access log (empty when access logging is off).
    var localAddress: [UInt8] = []
    var responseParser = ResponseHeadParser()
    /// The cluster whose circuit breaker counts this connection (`maxConnections`), and the configuration
    /// generation it was counted under; -1 when no breaker counts it.
    var breakerCluster = -1
    var breakerGeneration = 0
    /// Plain TCP, or TLS to the upstream (a DestinationRule's `tls.mode: SIMPLE`).
    var transport = ClientTransport<TLSClientConnection>()
    /// The TLS handshake has completed (always true over plain TCP): until then writes take nothing.
    private var handshakeDone = true
    var responseHead = ResponseHead()

    init() {
        inbound = ByteBuffer(capacity: 16 * 1024)
    }

    deinit { inbound.deallocate() }

    /// Makes a recycled object ready for a new descriptor.
    func reset(fd: Int32, pool: EndpointPool, now: Int64, io: WorkerIO) {
        if let tls = pool.tls {
            transport = ClientTransport(session: TLSClientConnection(context: tls.context, serverName: tls.serverName), io: io)
            handshakeDone = false
        } else {
            transport = ClientTransport(io: io)
            handshakeDone = true
        }
        self.fd = fd
        self.pool = pool
        state = .connecting
        inbound.clear()
        readable = false
        writable = false
        readClosed = false
        owner = .none
        exchangesCompleted = 0
        localAddress.removeAll(keepingCapacity: true)
        since = now
        breakerCluster = -1
        responseParser.reset()
    }

    /// Parses the response head at the front of `inbound` into `responseHead`; true once it is complete.
    func parseResponseHead(for method: HTTPMethod) throws(HTTPParseError) -> Bool {
        try responseParser.parse(inbound.readable, requestMethod: method, into: &responseHead)
    }

    /// Reads into `inbound`, growing it only up to `limit` bytes of unread data. With `mayMove` false the unread
    /// bytes stay where they are (an HTTP/2 stream has lent them to its session): only the free tail is read into.
    /// - Returns: false when nothing could be read now (no data, or no room).
    func readSome(limit: Int, mayMove: Bool = true, io: WorkerIO) -> Bool {
        if inbound.writableCount == 0 {
            if !mayMove || inbound.readableCount >= limit { return false }
            inbound.reserve(4096)
        }
        guard let tls = transport.tls else { return inbound.read(from: fd, io: io).record(readable: &readable, closed: &readClosed) }
        let progressed = transport.read(fd, into: &inbound, socketReadable: readable).record(readable: &readable, closed: &readClosed)
        if !handshakeDone && tls.handshakeComplete {
            // Writes refused while the handshake ran (the socket itself was writable): the owner writes again now.
            handshakeDone = true
            writable = true
            return true
        }
        return progressed
    }

    /// Whether a read may find something: the socket was readable, or TLS holds decrypted bytes.
    var canRead: Bool { readable || transport.hasBufferedInput }

    /// Writes `first` then `second` to the upstream (through TLS when it speaks it); the contract of
    /// `ClientTransport.write`.
    @inline(__always)
    func write(_ first: UnsafeRawBufferPointer, _ second: UnsafeRawBufferPointer) -> Result<Int, Errno> {
        transport.write(fd, first, second)
    }
}

/// Who an upstream connection is serving: an HTTP/1.1 client connection, an HTTP/2 stream, or nobody (idle or
/// connecting for nobody). Unretained: the owner holds the connection, not the other way round.
enum UpstreamOwner {
    case none
    case client(Unmanaged<DownstreamConnection>)
    case stream(Unmanaged<StreamExchange>)
    case mirror(Unmanaged<MirrorExchange>)
}

/// One worker's keep-alive connections to one endpoint, most recently used first out.
final class EndpointPool {
    let address: SocketAddress?
    /// `address:port` as bytes (the Host for a request that has none).
    let authority: [UInt8]
    /// TLS to this endpoint, when the DestinationRule of a cluster it is in says `tls.mode: SIMPLE`.
    var tls: UpstreamTLSTarget?
    var idle: [UpstreamConnection] = []
    /// HTTP/2 connections to the endpoint, shared by many streams.
    var http2: [HTTP2UpstreamConnection] = []
    /// False once a new configuration no longer has this endpoint: connections finishing then are closed.
    var isCurrent = true
    /// How long an idle connection is kept (the clusters' `idleTimeout`, Istio's default 1 h).
    var idleTimeoutMilliseconds: Int64 = 3_600_000
    /// The most idle connections kept (the clusters' `maxConnections`; unlimited by Istio's default).
    var maxIdle = Int.max

    init(address: SocketAddress?, authority: [UInt8]) {
        self.address = address
        self.authority = authority
    }

    func remove(_ connection: UpstreamConnection) {
        if let index = idle.lastIndex(where: { $0 === connection }) { idle.remove(at: index) }
    }
}

/// How to speak TLS to an endpoint: the client context (its CA and ALPN) and the name checked and sent by SNI.
struct UpstreamTLSTarget {
    let context: TLSClientContext
    let serverName: String
}
