import KanariaHTTP
import KanariaHTTP2
import KanariaPosix

/// One lane of HTTP/2 load (h2c): a connection with up to `streams` requests in flight, each a stream of
/// KanariaHTTP2's client session. Answers are recorded on the lane in the order their streams were opened, so that
/// windows follow the order the proxy saw the requests in, whatever order the answers come back in.
final class HTTP2ClientConnection {
    enum State { case closed, connecting, handshaking, active }

    private struct Exchange {
        var intended: UInt64
        /// Order of opening on this lane.
        var sequence: Int
        var version = VersionTable.other
        var status = 0
        var capture: [UInt8] = []
    }

    unowned(unsafe) let worker: LoadWorker
    let lane: Int
    let streams: Int
    private(set) var fd: Int32 = -1
    private var state = State.closed
    private var session: HTTP2Session?
    private let headers: HTTP2HeaderBlock
    private var open: [Int32: Exchange] = [:]
    /// Requests due before the connection was ready, by intended time.
    private var waiting: [UInt64] = []
    private var inbound = ByteBuffer(capacity: 32 * 1024)
    private var io = ConnectionIO(tls: nil)
    private var chunks: [UnsafeRawBufferPointer] = []
    private let writer = VectorWriter(capacity: 64)
    private var ready = Readiness()
    private var goingAway = false
    private var flushing = false
    /// Answers (version indices, or nil for a failed stream) waiting for an earlier stream's, by sequence.
    private var reorder = LaneOrder()

    init(worker: LoadWorker, lane: Int, streams: Int) {
        self.worker = worker
        self.lane = lane
        self.streams = streams
        headers = HTTP2HeaderBlock()
        for field in worker.plan.template.http2Fields {
            Array(field.name.utf8).withUnsafeBytes { name in
                Array(field.value.utf8).withUnsafeBytes { value in headers.append(name: name, value: value) }
            }
        }
        open.reserveCapacity(streams * 2)
        chunks.reserveCapacity(64)
    }

    deinit {
        if fd >= 0 { Syscall.close(fd) }
        inbound.deallocate()
        io.deallocate()
    }

    /// Requests in flight or waiting for the connection.
    var inFlight: Int { open.count + waiting.count }

    /// How many more requests this lane can take now.
    var room: Int { state == .closed && inFlight > 0 ? 0 : streams - inFlight }

    func begin(intended: UInt64) {
        waiting.append(intended)
        switch state {
        case .closed: connect()
        case .connecting, .handshaking: break
        case .active:
            submitWaiting()
            flush()
        }
    }

    private func connect() {
        goingAway = false
        switch worker.open(lane: lane) {
        case .success(let opened):
            fd = opened.fd
            io.deallocate()
            io = opened.io
            ready = Readiness()
            state = .connecting
        case .failure(let error):
            failAll(.connect, errno: error.code, connecting: true)
        }
    }

    func handle(_ events: EpollEvents) {
        ready.note(events)
        if state == .connecting {
            switch io.completeConnect(fd, writable: ready.writable) {
            case .waiting: return
            case .refused(let error): return failAll(.connect, errno: error, connecting: true)
            case .established:
                state = .handshaking
                if io.isReady { becameReady() }
            }
        }
        if let error = io.flushLeftover(fd, writable: &ready.writable) {
            return failAll(.reset, errno: error.code, connecting: false)
        }
        if state == .handshaking { receive() }
        guard state == .active else { return }
        receive()
        flush()
    }

    /// TLS (if any) is established and agreed on h2: the session starts and the waiting requests go.
    private func becameReady() {
        if let tls = io.tls, tls.negotiatedProtocol != .http2 {
            return failAll(.protocol, errno: 0, connecting: true, detail: "the server did not agree to h2 by ALPN")
        }
        worker.connected()
        state = .active
        session = HTTP2Session(role: .client, configuration: Self.configuration)
        submitWaiting()
    }

    /// Windows as large as the answers need: a load generator reads every byte at once.
    static let configuration: HTTP2Configuration = {
        var configuration = HTTP2Configuration()
        configuration.initialStreamWindowSize = 1 << 20
        configuration.connectionWindowSize = 16 << 20
        return configuration
    }()

    private func submitWaiting() {
        guard let session else { return }
        let body = worker.requestBody
        while !waiting.isEmpty && !goingAway {
            let intended = waiting.removeFirst()
            let stream: Int32
            do throws(HTTP2Error) {
                stream = try session.submitRequest(headers: headers, method: worker.method, endStream: body.isEmpty)
            } catch {
                record(sequence: reorder.open(), version: nil)
                worker.failed(lane: lane, kind: .protocol, errno: 0, whileConnecting: false)
                continue
            }
            if !body.isEmpty { session.offerBody(stream: stream, body, endOfBody: true) }
            open[stream] = Exchange(intended: intended, sequence: reorder.open())
        }
    }

    private func receive() {
        while ready.readable && (state == .active || state == .handshaking) {
            switch io.read(fd, into: &inbound) {
            case .closed:
                ready.readable = false
                return failAll(.reset, errno: 0, connecting: state == .handshaking)
            case .failed(let reason):
                return failAll(.protocol, errno: 0, connecting: state == .handshaking, detail: "TLS: \(reason)")
            case .nothing:
                ready.readable = false
                if state == .handshaking && io.isReady { becameReady() }
            case .data(_, let drained):
                if drained { ready.readable = false }
                if state == .handshaking {
                    if io.isReady { becameReady() }
                    if state != .active { continue }
                }
                guard let session, !inbound.isEmpty else { continue }
                do throws(HTTP2Error) {
                    try session.receive(inbound.readable)
                } catch {
                    return failAll(.protocol, errno: 0, connecting: false)
                }
                inbound.clear()
                processEvents()
            }
        }
    }

    private func processEvents() {
        guard let session else { return }
        while let event = session.nextEvent() {
            switch event {
            case .response(let stream):
                guard let view = session.response(stream: stream) else { continue }
                open[stream]?.status = view.head.status
                open[stream]?.version = worker.classify(head: view.head, message: view.message)
            case .data(let stream):
                let count = session.receivedBodyCount(stream: stream)
                if worker.capturesBody, open[stream] != nil {
                    while open[stream]!.capture.count < 64 * 1024 {
                        let run = session.receivedBody(stream: stream)
                        guard !run.isEmpty else { break }
                        open[stream]!.capture.append(contentsOf: run)
                        session.consume(stream: stream, count: run.count)
                    }
                }
                session.consume(stream: stream, count: count)
            case .endOfStream(let stream):
                guard let exchange = open.removeValue(forKey: stream) else { continue }
                complete(exchange)
            case .streamClosed(let stream, _):
                if let exchange = open.removeValue(forKey: stream) {
                    record(sequence: exchange.sequence, version: nil)
                    worker.failed(lane: lane, kind: .reset, errno: 0, whileConnecting: false)
                }
                session.release(stream: stream)
            case .goAwayReceived:
                goingAway = true
            case .informationalResponse, .trailers, .bodyWritten, .goAwaySent, .request:
                break
            }
        }
    }

    private func complete(_ exchange: Exchange) {
        guard exchange.status != 0 else {
            record(sequence: exchange.sequence, version: nil)
            worker.failed(lane: lane, kind: .protocol, errno: 0, whileConnecting: false)
            return
        }
        var version = exchange.version
        if worker.capturesBody { version = exchange.capture.withUnsafeBytes { worker.classify(body: $0) } }
        worker.answered(lane: lane, version: version, status: exchange.status, intended: exchange.intended, windows: false)
        record(sequence: exchange.sequence, version: version)
        if goingAway && open.isEmpty { close() }
        worker.free(lane)
    }

    /// Feeds the lane's windows in opening order.
    private func record(sequence: Int, version: Int?) {
        reorder.complete(sequence, version: version) { worker.recordWindow(lane: lane, version: $0) }
    }

    private func flush() {
        guard let session, !flushing else { return }
        flushing = true
        defer { flushing = false }
        while state == .active {
            do throws(HTTP2Error) {
                try session.prepareOutput()
            } catch {
                failAll(.protocol, errno: 0, connecting: false)
                return
            }
            processEvents()
            guard state == .active, session.pendingOutputBytes > 0, ready.writable else { return }
            chunks.removeAll(keepingCapacity: true)
            let total = session.gatherOutput(into: &chunks, maxChunks: writer.capacity)
            switch write(chunks) {
            case .success(let n):
                if n < total { ready.writable = false }
                session.didWrite(n)
            case .failure(let error):
                ready.writable = false
                if error != .wouldBlock {
                    failAll(.reset, errno: error.code, connecting: false)
                    return
                }
            }
        }
    }

    /// Writes the session's output: in one sendmsg in clear, or record by record through TLS.
    private func write(_ chunks: [UnsafeRawBufferPointer]) -> Result<Int, Errno> {
        guard io.tls != nil else { return writer.write(fd, chunks) }
        var taken = 0
        for chunk in chunks {
            switch io.write(fd, chunk) {
            case .success(let n):
                taken += n
                if n < chunk.count { return .success(taken) }
            case .failure(let error):
                return taken > 0 ? .success(taken) : .failure(error)
            }
        }
        return .success(taken)
    }

    /// Fails the requests in flight for longer than the timeout (their intended time is before `cutoff`): the
    /// connection is dropped, since its streams' answers can no longer be told apart from late ones.
    func expire(olderThan cutoff: UInt64) {
        let opening = state == .connecting || state == .handshaking
        let late = open.values.contains { $0.intended < cutoff } || (opening && waiting.contains { $0 < cutoff })
        if late { failAll(.timeout, errno: 0, connecting: opening) }
    }

    /// Every request in flight or waiting fails with `kind`; the connection closes.
    private func failAll(_ kind: TransportErrorKind, errno: Int32, connecting: Bool, detail: String? = nil) {
        let count = open.count + waiting.count
        for exchange in open.values.sorted(by: { $0.sequence < $1.sequence }) { record(sequence: exchange.sequence, version: nil) }
        open.removeAll(keepingCapacity: true)
        waiting.removeAll(keepingCapacity: true)
        close()
        if count > 0 { worker.failed(lane: lane, kind: kind, errno: errno, whileConnecting: connecting, count: count, detail: detail) }
    }

    private func close() {
        worker.close(&fd)
        state = .closed
        session = nil
        inbound.clear()
    }
}
