import KanariaHTTP
import KanariaHTTP2
import KanariaPosix

/// Who a stream of an HTTP/2 upstream connection belongs to: a stream of an HTTP/2 client, or an HTTP/1.1 client
/// connection. Unretained: the owner holds the connection.
enum HTTP2UpstreamStreamOwner {
    case stream(Unmanaged<StreamExchange>)
    case client(Unmanaged<DownstreamConnection>)
}

/// An h2c connection from a worker to one upstream endpoint whose port speaks HTTP/2 (a Service port named
/// `http2-…`/`grpc-…` or with that appProtocol, as Istio selects it). Shared by the worker's exchanges to that
/// endpoint: each gets a stream of its own, up to the peer's concurrency limit.
final class HTTP2UpstreamConnection {
    enum State { case connecting, active, closed }

    unowned(unsafe) let worker: Worker
    private(set) var fd: Int32
    private(set) var state = State.connecting
    let session: HTTP2Session
    unowned(unsafe) let pool: EndpointPool
    var inbound: ByteBuffer
    var readable = false
    var writable = false
    var readClosed = false
    /// The peer sent GOAWAY: no new streams here.
    private(set) var goingAway = false
    private var owners: [Int32: HTTP2UpstreamStreamOwner] = [:]
    /// Exchanges whose response head waits for the end of the current batch of events.
    private var pendingHeads: [StreamExchange] = []
    /// The metrics destination of the exchange the connection was opened for (counted as opened under it).
    var openedFor: Int32 = 0
    /// When the connect began, or when the connection last carried no stream.
    var since: Int64
    private var flushing = false
    private var flushAgain = false
    private var chunks: [UnsafeRawBufferPointer] = []

    init(worker: Worker, fd: Int32, pool: EndpointPool) {
        self.worker = worker
        self.fd = fd
        self.pool = pool
        session = HTTP2Session(role: .client, configuration: worker.http2Configuration)
        inbound = ByteBuffer(capacity: 16 * 1024)
        since = worker.now
        chunks.reserveCapacity(64)
    }

    deinit { inbound.deallocate() }

    /// Whether another exchange can open a stream here now.
    var acceptsStreams: Bool { state != .closed && !goingAway && (state == .connecting || session.canOpenStream) }

    var streamCount: Int { owners.count }

    // MARK: Streams

    /// Opens a stream for `owner` with `headers`; nil when the session refuses.
    func open(_ headers: HTTP2HeaderBlock, method: HTTPMethod, endStream: Bool, owner: HTTP2UpstreamStreamOwner) -> Int32? {
        let stream: Int32
        do throws(HTTP2Error) {
            stream = try session.submitRequest(headers: headers, method: method, endStream: endStream)
        } catch {
            return nil
        }
        owners[stream] = owner
        return stream
    }

    func notePendingHead(_ exchange: StreamExchange) {
        pendingHeads.append(exchange)
    }

    /// The owner is done with its stream: resets it if it is still open, and releases it.
    func abandon(stream: Int32) {
        guard owners.removeValue(forKey: stream) != nil else { return }
        session.reset(stream: stream, error: .cancel)
        session.release(stream: stream)
        requestFlush()
    }

    /// Releases a stream that closed, once its owner no longer lends its received bytes to a client session.
    func release(stream: Int32) {
        guard state != .closed else { return }
        session.release(stream: stream)
    }

    // MARK: Readiness

    func handle(_ events: EpollEvents) {
        if !events.isDisjoint(with: [.readable, .peerHangUp, .hangUp, .error]) { readable = true }
        if !events.isDisjoint(with: [.writable, .hangUp, .error]) { writable = true }
        if state == .connecting {
            guard writable else { return }
            guard worker.io.pendingError(of: fd) == 0 else {
                close(failure: .connectFailure)
                return
            }
            state = .active
            worker.shard.upstreamConnectionOpened(destination: openedFor)
        }
        drive()
    }

    func drive() {
        guard state == .active else { return }
        while !readClosed && readable {
            if inbound.writableCount < 4096 { inbound.reserve(16 * 1024) }
            let outcome = inbound.read(from: fd, io: worker.io)
            let progressed = outcome.record(readable: &readable, closed: &readClosed)
            if !inbound.isEmpty {
                do throws(HTTP2Error) {
                    try session.receive(inbound.readable)
                } catch {
                    close(failure: .protocolError)
                    return
                }
                inbound.clear()
                processEvents()
                if state == .closed { return }
            }
            if !progressed { break }
        }
        if readClosed {
            close(failure: .connectionTermination)
            return
        }
        requestFlush()
    }

    private func processEvents() {
        while let event = session.nextEvent() {
            switch event {
            case .response(let stream):
                dispatch(stream) { $0.upstreamResponse() } client: { $0.h2UpstreamResponse() }
            case .informationalResponse(let stream):
                dispatch(stream) { $0.upstreamInformational() } client: { _ in }
            case .data(let stream):
                dispatch(stream) { $0.upstreamData() } client: { $0.h2UpstreamData() }
            case .trailers(let stream):
                dispatch(stream) { $0.upstreamTrailers() } client: { $0.h2UpstreamEnded() }
            case .endOfStream(let stream):
                dispatch(stream) { $0.upstreamEnded() } client: { $0.h2UpstreamEnded() }
            case .bodyWritten(let stream, let count):
                dispatch(stream) { $0.upstreamRequestBodyWritten(count) } client: { $0.h2UpstreamRequestBodyWritten(count) }
            case .streamClosed(let stream, let error):
                // The owner releases the stream when its client no longer holds the stream's received bytes.
                guard let owner = owners.removeValue(forKey: stream) else {
                    session.release(stream: stream)
                    continue
                }
                switch owner {
                case .stream(let exchange): exchange._withUnsafeGuaranteedRef { $0.upstreamStreamClosed(error) }
                case .client(let client): client._withUnsafeGuaranteedRef { $0.h2UpstreamStreamClosed(error) }
                }
                if owners.isEmpty { since = worker.now }
            case .goAwayReceived:
                goingAway = true
            case .goAwaySent, .request:
                break
            }
        }
        if !pendingHeads.isEmpty {
            let waiting = pendingHeads
            pendingHeads.removeAll(keepingCapacity: true)
            for exchange in waiting where exchange.upstream2 === self { exchange.submitPendingHead(endStream: false) }
        }
    }

    @inline(__always)
    private func dispatch(_ stream: Int32, _ toExchange: (StreamExchange) -> Void, client toClient: (DownstreamConnection) -> Void) {
        switch owners[stream] {
        case .stream(let exchange)?: exchange._withUnsafeGuaranteedRef { toExchange($0) }
        case .client(let client)?: client._withUnsafeGuaranteedRef { toClient($0) }
        case nil: break
        }
    }

    /// Lets the session send what it can: now, or at the end of the flush already running.
    func requestFlush() {
        guard state == .active else { return }
        if flushing {
            flushAgain = true
            return
        }
        flushing = true
        defer { flushing = false }
        repeat {
            flushAgain = false
            flushOnce()
        } while flushAgain && state == .active
        if state == .active && session.isFinished && owners.isEmpty { close(failure: .connectionTermination) }
    }

    private func flushOnce() {
        guard state == .active else { return }
        switch writeHTTP2Output(session, chunks: &chunks, maxChunks: worker.vectors.capacity, writable: &writable,
                                processEvents: { processEvents(); return state == .active },
                                write: { worker.io.write(fd, $0, vectors: worker.vectors) }) {
        case .waiting: break
        case .sessionFailed: close(failure: .protocolError)
        case .writeFailed: close(failure: .connectionTermination)
        }
    }

    /// Closes the connection; every stream still open fails with `failure`.
    func close(failure: UpstreamFailure) {
        guard state != .closed else { return }
        state = .closed
        let open = owners
        owners.removeAll()
        // Owners first: they take back what their clients were lent from this session's buffers.
        for (_, owner) in open {
            switch owner {
            case .stream(let exchange): exchange._withUnsafeGuaranteedRef { $0.upstreamConnectionFailed(failure) }
            case .client(let client): client._withUnsafeGuaranteedRef { $0.h2UpstreamConnectionFailed(failure) }
            }
        }
        worker.io.close(fd)
        fd = -1
        worker.retire(self)
    }
}
