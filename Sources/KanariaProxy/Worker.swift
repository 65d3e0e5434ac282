import KanariaHTTP
import KanariaHTTP2
import KanariaPosix
import KanariaRouting
import KanariaTelemetry

/// One event-loop thread: its own epoll, listeners (SO_REUSEPORT), client connections, upstream pools, weighted
/// picker state and request-id generator. Nothing here is shared with another worker; the only cross-thread
/// traffic is `ProxyControl` (a new configuration, drain).
final class Worker {
    /// epoll tokens: connection objects are 16-byte aligned, so the low four bits of their address say what they
    /// are; control descriptors (the wake-up eventfd, the timer, listeners) have small numbers shifted past them.
    enum Token {
        static let downstreamTag: UInt64 = 1
        static let upstreamTag: UInt64 = 2
        static let http2Tag: UInt64 = 3
        static let http2UpstreamTag: UInt64 = 4
        static let streamTag: UInt64 = 5
        static let mirrorTag: UInt64 = 6
        static let tagMask: UInt64 = 15
        static let wake: UInt64 = 0 << 4
        static let timer: UInt64 = 1 << 4
        static func listener(_ index: Int) -> UInt64 { UInt64(index + 2) << 4 }
    }

    let index: Int
    let control: ProxyControl
    let options: ProxyOptions
    let headLimits = HeadLimits()
    /// Sockets and the clock: the operating system's, or an in-memory network's.
    let io: WorkerIO
    /// Keeps an in-memory network alive for `io`, which does not retain it.
    private let inMemoryNetwork: InMemoryNetwork?
    private let epoll: Epoll
    private let timer: PeriodicTimer
    /// This worker's listening sockets with the route-table listener each serves.
    private var listeners: [ListenerSocket]
    private(set) var snapshot: ConfigSnapshot
    private var snapshotGeneration: Int
    var routing: RoutingState
    var pools: [EndpointPool]
    var requestIDs: RequestIDGenerator
    /// Per cluster, the owners (tokens) waiting for a connection under `maxConnections`, first come first served.
    private var pending: [Int: [UInt64]] = [:]
    /// Pending exchange deadlines (timeouts, retry back-offs).
    private var deadlines = DeadlineQueue()
    /// Coarse monotonic time of the current loop turn, in milliseconds.
    private(set) var now: Int64
    private(set) var draining = false
    private var drainDeadline: Int64 = 0

    /// Open client connections (for timeouts and draining).
    private var open: [DownstreamConnection] = []
    private var openHTTP2: [HTTP2DownstreamConnection] = []
    private var retiredHTTP2: [HTTP2DownstreamConnection] = []
    private var spareExchanges: [StreamExchange] = []
    private var spareMirrors: [MirrorExchange] = []
    private var retiredMirrors: [MirrorExchange] = []
    /// Mirrors collecting or sending a copy now (the worker holds them while their connections are watched).
    private var activeMirrors: [MirrorExchange] = []
    private var retiredExchanges: [StreamExchange] = []
    private var retiredHTTP2Upstreams: [HTTP2UpstreamConnection] = []
    /// Bytes a request's head is rewritten from (a rewritten path), valid during one head write.
    var scratch = ByteBuffer(capacity: 1024)
    /// The iovec array for HTTP/2 connections' vectored writes.
    let vectors = VectorWriter(capacity: 64)
    /// How the worker's HTTP/2 server sessions are set up (its protections against floods and malformed frames).
    let http2Configuration = HTTP2Configuration()
    /// Connections closed during this turn: kept alive until its events are all handled, then recycled.
    private var retiredDownstreams: [DownstreamConnection] = []
    private var retiredUpstreams: [UpstreamConnection] = []
    private var spareDownstreams: [DownstreamConnection] = []
    private var spareUpstreams: [UpstreamConnection] = []
    private static let maxSpare = 256

    /// This worker's metrics, written by this thread only.
    let shard: MetricShard
    /// Where access-log lines go; nil when access logging is off.
    let accessLog: AccessLogSink?
    /// Access-log lines not yet written: flushed at the end of each loop turn.
    private var accessLogBuffer: [UInt8] = []

    /// - Parameter io: the operating system's sockets and clock, or an in-memory network (then the test drives the
    ///   worker with `turn()` instead of `run()`).
    init(index: Int, control: ProxyControl, options: ProxyOptions, shard: MetricShard, accessLog: AccessLogSink?,
         listeners: [ListenerSocket], io: WorkerIO = .system) throws(Errno) {
        self.index = index
        self.io = io
        self.inMemoryNetwork = io.network
        self.control = control
        self.options = options
        self.shard = shard
        self.accessLog = accessLog
        self.listeners = listeners
        self.epoll = try Epoll(capacity: 512)
        self.timer = try PeriodicTimer(periodMilliseconds: 1000)
        let (snapshot, generation) = control.currentSnapshot()
        self.snapshot = snapshot
        self.snapshotGeneration = generation
        let seed = systemRandom64()
        self.routing = RoutingState(table: snapshot.table, split: options.split, seed: seed)
        routing.generation = snapshot.generation
        self.pools = Self.makePools(for: snapshot, reusing: [])
        self.requestIDs = RequestIDGenerator(seed: seed ^ 0x5DEE_CE66_D1CE_4E5B)
        self.now = io.now()
        if let network = io.network {
            for (i, entry) in listeners.enumerated() { network.register(entry.fd, token: Token.listener(i)) }
            return
        }
        try epoll.add(control.wakeFD(for: index), events: [.readable], token: Token.wake)
        try epoll.add(timer.fd, events: [.readable], token: Token.timer)
        for (i, entry) in listeners.enumerated() {
            try epoll.add(entry.fd, events: [.readable], token: Token.listener(i))
        }
    }

    // MARK: The loop

    /// Runs until a drain completes.
    func run() {
        while true {
            let count = epoll.wait(timeoutMilliseconds: deadlines.isEmpty ? -1 : deadlines.waitMilliseconds(now: io.now()))
            now = io.now()
            if control.generation != snapshotGeneration { adoptNewSnapshot() }
            for i in 0..<count {
                let (token, events) = epoll.event(at: i)
                dispatch(token, events)
            }
            if endTurn() { break }
        }
        shutDown()
    }

    /// One loop turn over an in-memory network: the events it has pending, then due deadlines. Returns false
    /// when there was nothing to do (the worker is quiet until the test sends something or moves the clock).
    @discardableResult
    func turn() -> Bool {
        guard let network = io.network else { preconditionFailure("turn() drives a worker over an InMemoryNetwork") }
        now = io.now()
        if control.generation != snapshotGeneration { adoptNewSnapshot() }
        let events = network.poll()
        for (token, readiness) in events { dispatch(token, readiness) }
        let due = deadlines.nextTime.map { $0 < now } ?? false
        _ = endTurn()
        return !events.isEmpty || due
    }

    /// Runs `turn()` until the worker is quiet (at most `limit` turns).
    func settle(limit: Int = 1000) {
        for _ in 0..<limit where turn() {}
    }

    /// Hands one readiness event to the connection (or control descriptor) its token names.
    @inline(__always)
    private func dispatch(_ token: UInt64, _ events: EpollEvents) {
        switch token & Token.tagMask {
        case Token.downstreamTag:
            let connection = Unmanaged<DownstreamConnection>.fromOpaque(UnsafeRawPointer(bitPattern: UInt(token & ~Token.tagMask))!)
            connection._withUnsafeGuaranteedRef { if $0.fd >= 0 { $0.handle(events) } }
        case Token.upstreamTag:
            let connection = Unmanaged<UpstreamConnection>.fromOpaque(UnsafeRawPointer(bitPattern: UInt(token & ~Token.tagMask))!)
            connection._withUnsafeGuaranteedRef { if $0.fd >= 0 { handleUpstream($0, events) } }
        case Token.http2UpstreamTag:
            let connection = Unmanaged<HTTP2UpstreamConnection>.fromOpaque(UnsafeRawPointer(bitPattern: UInt(token & ~Token.tagMask))!)
            connection._withUnsafeGuaranteedRef { if $0.state != .closed { $0.handle(events) } }
        case Token.http2Tag:
            let connection = Unmanaged<HTTP2DownstreamConnection>.fromOpaque(UnsafeRawPointer(bitPattern: UInt(token & ~Token.tagMask))!)
            connection._withUnsafeGuaranteedRef { if !$0.closed { $0.handle(events) } }
        default:
            handleControl(token, events)
        }
    }

    /// The end of a loop turn: due deadlines, recycling, the access log. True when a drain has completed.
    @inline(__always)
    private func endTurn() -> Bool {
        if !deadlines.isEmpty { fireDueDeadlines() }
        recycleRetired()
        if !accessLogBuffer.isEmpty { flushAccessLog() }
        return draining && (open.isEmpty && openHTTP2.isEmpty || now >= drainDeadline)
    }

    /// Closes everything once the loop has ended.
    private func shutDown() {
        for connection in open { connection.close() }
        for connection in openHTTP2 { connection.close() }
        recycleRetired()
        if !accessLogBuffer.isEmpty { flushAccessLog() }
        for pool in pools { for connection in pool.idle { io.close(connection.fd) } }
    }

    /// The periodic checks (idle, header and connect timeouts) that the timer descriptor runs once a second;
    /// a test over an in-memory network calls it after moving the clock.
    func checkTimeoutsNow() {
        now = io.now()
        checkTimeouts()
    }

    private func handleControl(_ token: UInt64, _ events: EpollEvents) {
        switch token {
        case Token.wake:
            control.acknowledgeWake(for: index)
            if control.isDraining && !draining { beginDrain() }
        case Token.timer:
            timer.acknowledge()
            checkTimeouts()
        default:
            acceptConnections(listenerSlot: Int(token >> 4) - 2)
        }
    }

    /// Watches a connection's socket, edge-triggered for reading and writing; its events come back tagged with
    /// the (unretained) connection object itself.
    private func watch(_ fd: Int32, for connection: AnyObject, tag: UInt64, replacing: Bool = false) throws(Errno) {
        let token = Self.token(for: connection, tag: tag)
        if let network = io.network {
            network.register(fd, token: token)
            return
        }
        let events: EpollEvents = [.readable, .writable, .peerHangUp, .edgeTriggered]
        if replacing {
            try epoll.modify(fd, events: events, token: token)
        } else {
            try epoll.add(fd, events: events, token: token)
        }
    }

    /// The token of `object` (unretained) with `tag`: how epoll events and deadlines name their owner.
    static func token(for object: AnyObject, tag: UInt64) -> UInt64 {
        UInt64(UInt(bitPattern: Unmanaged.passUnretained(object).toOpaque())) | tag
    }

    /// Hands a response head to an exchange's machine. Returns nil when the head is to be relayed (its flags and the
    /// stats the machine produced are recorded), or the action (a retry) the owner must carry out instead.
    func acceptResponseHead(status: Int, grpcStatus: Int?, replayable: Bool, machine: inout ExchangeMachine,
                            record: inout ExchangeRecord, snapshot: ConfigSnapshot) -> ExchangeAction? {
        switch machine.responseHead(status: status, grpcStatus: grpcStatus, replayable: replayable, snapshot: snapshot,
                                    routing: &routing, now: now) {
        case .relay(let flags):
            record.measure.flags.insert(flags)
            countStats(of: &machine, snapshot: snapshot)
            return nil
        case .none:
            return nil
        case let action:
            return action
        }
    }

    /// Counts the Envoy cluster stats an exchange produced (retries, timeouts) against its cluster.
    @inline(__always)
    func countStats(of machine: inout ExchangeMachine, snapshot: ConfigSnapshot) {
        guard machine.stats.rawValue != 0, machine.cluster >= 0 else { return }
        let cluster = snapshot.clusterStatIDs[machine.cluster]
        let stats = machine.takeStats()
        stats.forEach { shard.count($0, cluster: cluster) }
        if stats.contains(ClusterStatEvents(.outlierDetectionEjections)) && machine.ejectedEndpoint >= 0 {
            shard.setHostEjected(snapshot.endpointHosts[machine.ejectedEndpoint], true)
        }
    }

    /// The pool whose `authority` is the Host of a request that has none (HTTP/1.0): the chosen endpoint's, or
    /// before one is chosen (during a fault delay) the cluster's first; an empty pool when it has none.
    func defaultAuthorityPool(endpoint: Int, cluster: Int, snapshot: ConfigSnapshot) -> EndpointPool {
        if endpoint >= 0 { return pools[endpoint] }
        if let first = snapshot.table.clusters[cluster].endpoints.first { return pools[first] }
        return EndpointPool(address: nil, authority: [])
    }

    // MARK: Deadlines

    /// Sets (or, with 0, cancels) the deadline of an exchange; `deadlinePassed` is called on its owner once
    /// `time` has come.
    @inline(__always)
    func schedule(_ slot: DeadlineSlot, at time: Int64) {
        if time == 0 && !slot.isScheduled { return }
        deadlines.schedule(slot, at: time)
    }

    /// Tells the owners of every deadline that has passed.
    private func fireDueDeadlines() {
        while let slot = deadlines.popDue(now: now) {
            let pointer = UnsafeRawPointer(bitPattern: UInt(slot.owner & ~Token.tagMask))!
            switch slot.owner & Token.tagMask {
            case Token.downstreamTag:
                Unmanaged<DownstreamConnection>.fromOpaque(pointer)._withUnsafeGuaranteedRef { $0.deadlinePassed() }
            case Token.streamTag:
                Unmanaged<StreamExchange>.fromOpaque(pointer)._withUnsafeGuaranteedRef { $0.deadlinePassed() }
            case Token.mirrorTag:
                Unmanaged<MirrorExchange>.fromOpaque(pointer)._withUnsafeGuaranteedRef { $0.deadlinePassed() }
            default:
                break
            }
        }
    }

    // MARK: Access log

    /// Formats one line into this worker's buffer; it is written at the end of the loop turn.
    func appendAccessLog(_ entry: AccessLogEntry) {
        guard let accessLog else { return }
        formatAccessLog(entry, format: accessLog.format, into: &accessLogBuffer)
        if accessLogBuffer.count >= 64 * 1024 { flushAccessLog() }
    }

    private func flushAccessLog() {
        guard let accessLog else { return }
        accessLogBuffer.withUnsafeBytes { _ = Syscall.writeAll(accessLog.fd, $0) }
        accessLogBuffer.removeAll(keepingCapacity: true)
    }

    // MARK: Clients

    private func acceptConnections(listenerSlot: Int) {
        guard listenerSlot < listeners.count else { return }
        let entry = listeners[listenerSlot]
        for _ in 0..<64 {
            switch io.accept(entry.fd) {
            case .success(let (fd, peer)):
                io.setNoDelay(fd)
                let connection = spareDownstreams.popLast() ?? DownstreamConnection(worker: self)
                connection.reset(fd: fd, listener: entry.listener, gatewayPort: entry.gatewayPort,
                                 clientAddress: Array(peer.host.utf8), tls: entry.tls, now: now)
                if accessLog != nil {
                    connection.clientEndpoint = Array(peer.description.utf8)
                    connection.localEndpoint = entry.localAddress
                }
                do {
                    try watch(fd, for: connection, tag: Token.downstreamTag)
                } catch {
                    io.close(fd)
                    spareDownstreams.append(connection)
                    continue
                }
                connection.openIndex = open.count
                open.append(connection)
                connection.drive()
            case .failure:
                return  // EAGAIN, or out of descriptors: try again on the next readiness
            }
        }
    }

    /// Called by a connection as it closes: forget it now, recycle it after this turn's events.
    func retire(_ connection: DownstreamConnection) {
        // Keep it alive first: epoll dispatch holds no reference of its own, `open` may hold the last one.
        retiredDownstreams.append(connection)
        let index = connection.openIndex
        if index >= 0 {
            let last = open.removeLast()
            if last !== connection {
                open[index] = last
                last.openIndex = index
            }
            connection.openIndex = -1
        }
    }

    // MARK: HTTP/2 clients

    /// Hands a client connection over from its HTTP/1.1 handler to an HTTP/2 one (prior knowledge, ALPN h2, or an
    /// h2c upgrade): same socket, new epoll token.
    func upgradeToHTTP2(_ client: DownstreamConnection, session: HTTP2Session) -> HTTP2DownstreamConnection? {
        let connection = HTTP2DownstreamConnection(from: client, session: session)
        do {
            try watch(connection.fd, for: connection, tag: Token.http2Tag, replacing: true)
        } catch {
            return nil
        }
        connection.openIndex = openHTTP2.count
        openHTTP2.append(connection)
        client.handedOver()
        return connection
    }

    /// A new server session with this worker's protections.
    func makeHTTP2Session() -> HTTP2Session {
        HTTP2Session(role: .server, configuration: http2Configuration)
    }

    func retire(_ connection: HTTP2DownstreamConnection) {
        retiredHTTP2.append(connection)
        let index = connection.openIndex
        if index >= 0 {
            let last = openHTTP2.removeLast()
            if last !== connection {
                openHTTP2[index] = last
                last.openIndex = index
            }
            connection.openIndex = -1
        }
    }

    /// An h2c connection to `endpoint` with room for another stream: an open one, or a new one being connected.
    func acquireHTTP2Upstream(endpoint: Int, destination: Int32) -> HTTP2UpstreamConnection? {
        let pool = pools[endpoint]
        if let connection = pool.http2.first(where: { $0.acceptsStreams }) { return connection }
        guard let address = pool.address, case .success(let fd) = io.connect(to: address) else { return nil }
        let connection = HTTP2UpstreamConnection(worker: self, fd: fd, pool: pool)
        connection.openedFor = destination
        do {
            try watch(fd, for: connection, tag: Token.http2UpstreamTag)
        } catch {
            io.close(fd)
            return nil
        }
        pool.http2.append(connection)
        return connection
    }

    /// Called by an HTTP/2 upstream connection as it closes.
    func retire(_ connection: HTTP2UpstreamConnection) {
        retiredHTTP2Upstreams.append(connection)
        connection.pool.http2.removeAll { $0 === connection }
    }

    /// A mirror exchange to fill, held by the worker until it comes back through `recycle` (its owner lets go
    /// of it once the copy is sent).
    func makeMirror() -> MirrorExchange {
        let mirror = spareMirrors.popLast() ?? MirrorExchange(worker: self)
        mirror.activeIndex = activeMirrors.count
        activeMirrors.append(mirror)
        return mirror
    }

    /// A finished mirror: reused after this loop turn.
    func recycle(_ mirror: MirrorExchange) {
        retiredMirrors.append(mirror)
        let index = mirror.activeIndex
        guard index >= 0 else { return }
        let last = activeMirrors.removeLast()
        if last !== mirror {
            activeMirrors[index] = last
            last.activeIndex = index
        }
        mirror.activeIndex = -1
    }

    func makeStreamExchange() -> StreamExchange {
        spareExchanges.popLast() ?? StreamExchange()
    }

    /// A finished exchange: reused only after this loop turn, since code that ended it may still be unwinding.
    func recycle(_ exchange: StreamExchange) {
        retiredExchanges.append(exchange)
    }

    private func recycleRetired() {
        if !retiredHTTP2.isEmpty { retiredHTTP2.removeAll(keepingCapacity: true) }
        if !retiredMirrors.isEmpty {
            for mirror in retiredMirrors where spareMirrors.count < Self.maxSpare { spareMirrors.append(mirror) }
            retiredMirrors.removeAll(keepingCapacity: true)
        }
        if !retiredHTTP2Upstreams.isEmpty { retiredHTTP2Upstreams.removeAll(keepingCapacity: true) }
        if !retiredExchanges.isEmpty {
            for exchange in retiredExchanges {
                exchange.connection = nil
                if spareExchanges.count < Self.maxSpare { spareExchanges.append(exchange) }
            }
            retiredExchanges.removeAll(keepingCapacity: true)
        }
        if !retiredDownstreams.isEmpty {
            for connection in retiredDownstreams where spareDownstreams.count < Self.maxSpare {
                spareDownstreams.append(connection)
            }
            retiredDownstreams.removeAll(keepingCapacity: true)
        }
        if !retiredUpstreams.isEmpty {
            for connection in retiredUpstreams where spareUpstreams.count < Self.maxSpare {
                spareUpstreams.append(connection)
            }
            retiredUpstreams.removeAll(keepingCapacity: true)
        }
    }

    // MARK: Upstreams

    /// What `acquireUpstream` gives a try.
    enum UpstreamAcquisition {
        case connection(UpstreamConnection)
        /// Connecting failed at once.
        case failed
        /// The cluster is at `maxConnections`: the owner waits in the cluster's pending queue (`connectionFreed`
        /// is called on it when a connection of the cluster is released or closed).
        case wait
        /// At `maxConnections` with `http1MaxPendingRequests` already waiting: 503 UO.
        case overflow
    }

    /// An idle pooled connection to `endpoint`, or a new one being connected for `cluster`, within its
    /// circuit breaker's `maxConnections`; past it the owner (`token`) waits as a pending request, or overflows.
    func acquireUpstream(endpoint: Int, fresh: Bool, cluster: Int, owner token: UInt64) -> UpstreamAcquisition {
        let pool = pools[endpoint]
        if !fresh, let connection = pool.idle.popLast() {
            connection.state = .active
            return .connection(connection)
        }
        let limited = cluster >= 0 && cluster < routing.traffic.limited.count && routing.traffic.limited[cluster]
        if limited && !routing.traffic.breakers[cluster].tryAcquireConnection() {
            shard.count(.upstreamCxOverflow, cluster: snapshot.clusterStatIDs[cluster])
            guard routing.traffic.breakers[cluster].tryAcquirePending() else { return .overflow }
            pending[cluster, default: []].append(token)
            return .wait
        }
        guard let connection = acquireUpstream(endpoint: endpoint, fresh: true) else {
            if limited { routing.traffic.breakers[cluster].releaseConnection() }
            return .failed
        }
        if limited {
            connection.breakerCluster = cluster
            connection.breakerGeneration = snapshot.generation
        }
        return .connection(connection)
    }

    /// An owner waiting for a connection of `cluster` goes away (or gives up): it leaves the queue.
    func cancelPending(_ token: UInt64, cluster: Int) {
        guard let index = pending[cluster]?.firstIndex(of: token) else { return }
        pending[cluster]!.remove(at: index)
        if cluster < routing.traffic.breakers.count { routing.traffic.breakers[cluster].releasePending() }
    }

    /// A connection of `cluster` was released to its pool or closed: the first owner waiting for one tries again.
    private func wakePending(cluster: Int) {
        guard var queue = pending[cluster], !queue.isEmpty else { return }
        let token = queue.removeFirst()
        pending[cluster] = queue
        if cluster < routing.traffic.breakers.count { routing.traffic.breakers[cluster].releasePending() }
        wake(token)
    }

    /// Tells a pending owner that a connection may be had.
    private func wake(_ token: UInt64) {
        let pointer = UnsafeRawPointer(bitPattern: UInt(token & ~Token.tagMask))!
        switch token & Token.tagMask {
        case Token.downstreamTag:
            Unmanaged<DownstreamConnection>.fromOpaque(pointer)._withUnsafeGuaranteedRef { $0.connectionFreed() }
        case Token.streamTag:
            Unmanaged<StreamExchange>.fromOpaque(pointer)._withUnsafeGuaranteedRef { $0.connectionFreed() }
        default:
            break
        }
    }

    /// An idle pooled connection to `endpoint`, or a new one being connected; nil when connecting failed at once.
    func acquireUpstream(endpoint: Int, fresh: Bool) -> UpstreamConnection? {
        let pool = pools[endpoint]
        if !fresh, let connection = pool.idle.popLast() {
            connection.state = .active
            return connection
        }
        guard let address = pool.address else { return nil }
        guard case .success(let fd) = io.connect(to: address) else { return nil }
        let connection = spareUpstreams.popLast() ?? UpstreamConnection()
        connection.reset(fd: fd, pool: pool, now: now, io: io)
        do {
            try watch(fd, for: connection, tag: Token.upstreamTag)
        } catch {
            io.close(fd)
            connection.fd = -1
            spareUpstreams.append(connection)
            return nil
        }
        return connection
    }

    private func handleUpstream(_ connection: UpstreamConnection, _ events: EpollEvents) {
        if !events.isDisjoint(with: [.readable, .peerHangUp, .hangUp, .error]) { connection.readable = true }
        if !events.isDisjoint(with: [.writable, .hangUp, .error]) {
            connection.writable = true
            // TLS bytes already taken from the request (or the handshake's) wait for the socket: send them first.
            if connection.state != .connecting && connection.transport.hasPendingOutput,
               case .failure = connection.transport.flush(connection.fd) {
                connection.readClosed = true
            }
        }
        switch connection.state {
        case .connecting:
            guard !events.isDisjoint(with: [.writable, .hangUp, .error]) else { return }
            guard io.pendingError(of: connection.fd) == 0 else {
                let owner = connection.owner
                closeUpstream(connection)
                switch owner {
                case .client(let client): client._withUnsafeGuaranteedRef { $0.upstreamConnectFailed() }
                case .stream(let stream): stream._withUnsafeGuaranteedRef { $0.upstreamFailed(.connectFailure) }
                case .mirror(let mirror): mirror._withUnsafeGuaranteedRef { $0.upstreamFailed() }
                case .none: break
                }
                return
            }
            connection.state = .active
            if connection.transport.hasPendingOutput { _ = connection.transport.flush(connection.fd) }  // the ClientHello
            switch connection.owner {
            case .client(let client): client._withUnsafeGuaranteedRef { $0.upstreamConnected(connection) }
            case .stream(let stream): stream._withUnsafeGuaranteedRef { $0.upstreamConnected(connection) }
            case .mirror(let mirror): mirror._withUnsafeGuaranteedRef { $0.drive() }
            case .none: break
            }
        case .active:
            switch connection.owner {
            case .client(let client): client._withUnsafeGuaranteedRef { $0.drive() }
            case .stream(let stream): stream._withUnsafeGuaranteedRef { $0.upstreamReady() }
            case .mirror(let mirror): mirror._withUnsafeGuaranteedRef { $0.drive() }
            case .none: break
            }
        case .idle:
            // An idle connection has nothing to say: the upstream closed it (or broke protocol). Drop it.
            closeUpstream(connection)  // first: the pool may hold the last reference
            connection.pool.remove(connection)
        case .closed:
            break
        }
    }

    /// A new upstream connection is established: count it and note its local address for the access log.
    func noteUpstreamConnected(_ connection: UpstreamConnection, record: inout ExchangeRecord) {
        shard.upstreamConnectionOpened(destination: record.measure.destination)
        if record.log != nil, let local = io.localAddress(of: connection.fd) {
            connection.localAddress = Array(local.description.utf8)
            record.captureUpstreamLocalAddress(connection.localAddress)
        }
    }

    /// Returns a connection whose exchange completed cleanly to its pool.
    func releaseUpstream(_ connection: UpstreamConnection) {
        let pool = connection.pool!
        let cluster = connection.breakerCluster
        let perConnection = cluster >= 0 && cluster < routing.traffic.maxRequestsPerConnection.count
            ? routing.traffic.maxRequestsPerConnection[cluster] : 0
        guard !draining, pool.isCurrent, pool.idle.count < pool.maxIdle,
              perConnection == 0 || connection.exchangesCompleted < perConnection else {
            closeUpstream(connection)
            return
        }
        connection.state = .idle
        connection.since = now
        pool.idle.append(connection)
        if cluster >= 0 { wakePending(cluster: cluster) }
    }

    func closeUpstream(_ connection: UpstreamConnection) {
        guard connection.state != .closed else { return }
        connection.transport.release()
        io.close(connection.fd)
        connection.fd = -1
        connection.state = .closed
        connection.owner = .none
        retiredUpstreams.append(connection)
        let cluster = connection.breakerCluster
        guard cluster >= 0 else { return }
        connection.breakerCluster = -1
        guard connection.breakerGeneration == snapshot.generation, cluster < routing.traffic.breakers.count else { return }
        routing.traffic.breakers[cluster].releaseConnection()
        wakePending(cluster: cluster)
    }

    // MARK: Timeouts and draining

    private func checkHTTP2Timeouts() {
        var i = 0
        while i < openHTTP2.count {
            let connection = openHTTP2[i]
            let before = openHTTP2.count
            if connection.streams.isEmpty && now - connection.lastActivity > options.idleTimeoutMilliseconds {
                connection.beginGoingAway()
                connection.close()
            } else if connection.session.incompleteHeads > 0 {
                // A request head (HEADERS without its last CONTINUATION) must arrive within the header timeout.
                if connection.incompleteHeadsSince == 0 {
                    connection.incompleteHeadsSince = now
                } else if now - connection.incompleteHeadsSince > options.headerTimeoutMilliseconds {
                    connection.session.terminate(error: .protocolError)
                    connection.requestFlush()
                    connection.close()
                }
            } else {
                connection.incompleteHeadsSince = 0
            }
            if openHTTP2.count == before { i += 1 }
        }
    }

    private func checkTimeouts() {
        // Outlier detection: ejections whose time is up end here.
        for (cluster, position) in routing.traffic.sweep(now: now) where cluster < snapshot.table.clusters.count {
            shard.setHostEjected(snapshot.endpointHosts[snapshot.table.clusters[cluster].endpoints[position]], false)
        }
        checkHTTP2Timeouts()
        var i = 0
        while i < open.count {
            let connection = open[i]
            let before = open.count
            checkTimeout(connection)
            if open.count == before { i += 1 }
        }
        for pool in pools {
            for connection in pool.http2 {
                if connection.state == .connecting && now - connection.since > options.connectTimeoutMilliseconds {
                    connection.close(failure: .connectFailure)
                } else if connection.streamCount == 0 && now - connection.since > options.upstreamIdleTimeoutMilliseconds {
                    connection.close(failure: .connectionTermination)
                }
            }
            while let oldest = pool.idle.first, now - oldest.since > pool.idleTimeoutMilliseconds {
                pool.idle.removeFirst()
                closeUpstream(oldest)
            }
        }
    }

    private func checkTimeout(_ connection: DownstreamConnection) {
        let idle = now - connection.lastActivity
        switch connection.phase {
        case .readingHead:
            if connection.inbound.isEmpty {
                if idle > options.idleTimeoutMilliseconds { connection.close() }
            } else if idle > options.headerTimeoutMilliseconds {
                connection.record.begin(worker: self, headBytes: connection.inbound.readableCount)
                connection.record.measure.details = "request_header_timeout"
                connection.respondLocally(status: 408, body: "request header timeout", close: true)
                connection.drive()
            }
        case .exchanging:
            break  // the exchange's own deadlines (connect, route and per-try timeouts) are in the deadline queue
        case .lingering, .writingLocalResponse:
            if idle > 5_000 { connection.close() }
        case .closed:
            break
        }
    }

    private func beginDrain() {
        draining = true
        drainDeadline = now + options.drainTimeoutMilliseconds
        for entry in listeners { io.close(entry.fd) }
        listeners.removeAll()
        for connection in openHTTP2 { connection.beginGoingAway() }
        for pool in pools {
            for connection in pool.idle { closeUpstream(connection) }
            pool.idle.removeAll()
        }
        var i = 0
        while i < open.count {
            let connection = open[i]
            let before = open.count
            if connection.phase == .readingHead && connection.inbound.isEmpty { connection.close() }
            if open.count == before { i += 1 }
        }
    }

    // MARK: Configuration

    /// Switches to the newest published configuration. Exchanges in flight keep their upstream connection; idle
    /// pooled connections to endpoints that are still configured are kept.
    private func adoptNewSnapshot() {
        let (snapshot, generation) = control.currentSnapshot()
        self.snapshot = snapshot
        snapshotGeneration = generation
        routing = RoutingState(table: snapshot.table, split: options.split, seed: systemRandom64())
        for i in listeners.indices {
            if let tls = snapshot.listenerTLS[listeners[i].gatewayPort] { listeners[i].tls = tls }
        }
        for host in snapshot.endpointHosts { shard.setHostEjected(host, false) }  // detectors start over
        let waiting = pending
        pending = [:]
        for (_, tokens) in waiting {
            for token in tokens { wake(token) }  // they find the configuration replaced and give up
        }
        routing.generation = snapshot.generation
        let old = pools
        pools = Self.makePools(for: snapshot, reusing: old)
        for pool in old where !pools.contains(where: { $0 === pool }) {
            pool.isCurrent = false
            for connection in pool.idle { closeUpstream(connection) }
            pool.idle.removeAll()
        }
    }

    private static func makePools(for snapshot: ConfigSnapshot, reusing old: [EndpointPool]) -> [EndpointPool] {
        snapshot.endpointAddresses.enumerated().map { index, address in
            let authority = snapshot.endpointAuthorities[index]
            let pool = old.first(where: { $0.authority == authority }) ?? EndpointPool(address: address, authority: authority)
            pool.idleTimeoutMilliseconds = snapshot.endpointIdleTimeouts[index]
            pool.tls = snapshot.endpointTLS[index]
            pool.maxIdle = snapshot.endpointMaxIdle[index]
            return pool
        }
    }
}
