import KanariaHTTP
import KanariaPosix

/// One lane of HTTP/1.1 load: a keep-alive connection that sends the template request, reads the answer, tells its
/// version, and is free again; with `fresh`, each request opens a connection of its own and closes it after the
/// answer. Edge-triggered: `ready` remembers readiness between events.
final class HTTP1ClientConnection {
    enum State { case closed, connecting, handshaking, sending, awaiting, idle }

    unowned(unsafe) let worker: LoadWorker
    let lane: Int
    private(set) var fd: Int32 = -1
    private(set) var state = State.closed
    private var inbound = ByteBuffer(capacity: 16 * 1024)
    private var io = ConnectionIO(tls: nil)
    private var parser = ResponseHeadParser()
    private var head = ResponseHead()
    private var headDone = false
    private var body = BodyTracker(framing: .none)
    private var capture: [UInt8] = []
    private var written = 0
    private var ready = Readiness()
    private var version = VersionTable.other
    /// When the current request was due (open loop) or sent (closed loop).
    private(set) var intended: UInt64 = 0

    init(worker: LoadWorker, lane: Int) {
        self.worker = worker
        self.lane = lane
        head.headers.reserveCapacity(32)
    }

    deinit {
        if fd >= 0 { Syscall.close(fd) }
        inbound.deallocate()
        io.deallocate()
    }

    var isBusy: Bool { state != .closed && state != .idle }

    /// Starts a request that was due at `intended`.
    func begin(intended: UInt64) {
        self.intended = intended
        written = 0
        headDone = false
        capture.removeAll(keepingCapacity: true)
        if fd < 0 {
            connect()
        } else {
            state = .sending
            send()
        }
    }

    private func connect() {
        switch worker.open(lane: lane) {
        case .success(let opened):
            fd = opened.fd
            io.deallocate()
            io = opened.io
            ready = Readiness()
            state = .connecting
        case .failure(let error):
            fail(.connect, errno: error.code)
        }
    }

    func handle(_ events: EpollEvents) {
        ready.note(events)
        if state == .connecting {
            switch io.completeConnect(fd, writable: ready.writable) {
            case .waiting: return
            case .refused(let error): return fail(.connect, errno: error)
            case .established:
                state = .handshaking
                if io.isReady { return becameReady() }
            }
        }
        if let error = io.flushLeftover(fd, writable: &ready.writable) { return fail(.reset, errno: error.code) }
        if state == .handshaking { receive() }
        if state == .sending { send() }
        if state == .awaiting || state == .idle { receive() }
    }

    /// TLS (if any) is established: the request can go.
    private func becameReady() {
        worker.connected()
        state = .sending
        send()
    }

    private func send() {
        let request = worker.requestBytes
        while written < request.count && ready.writable {
            let result = request.withUnsafeBytes { io.write(fd, UnsafeRawBufferPointer(rebasing: $0[written...])) }
            switch result {
            case .success(let n):
                written += n
                if written < request.count { ready.writable = false }
            case .failure(let error):
                if error == .wouldBlock {
                    ready.writable = false
                } else {
                    fail(.reset, errno: error.code)
                    return
                }
            }
        }
        if written == request.count {
            state = .awaiting
            receive()
        }
    }

    private func receive() {
        while ready.readable && fd >= 0 {
            if inbound.writableCount < 4096 {
                inbound.compact()
                if inbound.writableCount < 4096 { inbound.reserve(16 * 1024) }
            }
            switch io.read(fd, into: &inbound) {
            case .closed:
                ready.readable = false
                peerClosed()
                return
            case .failed(let reason):
                return fail(.protocol, errno: 0, detail: "TLS: \(reason)")
            case .nothing:
                ready.readable = false
                if state == .handshaking && io.isReady { becameReady() }
            case .data(let n, let drained):
                if drained { ready.readable = false }
                if state == .handshaking {
                    if io.isReady { becameReady() }
                    continue
                }
                guard n > 0 else { continue }
                guard state == .awaiting else {
                    close()  // bytes between requests: nobody asked for them
                    return
                }
                process()
            }
        }
    }

    /// Parses the head, then passes over the body, as far as the bytes at hand go.
    private func process() {
        do throws(HTTPParseError) {
            while !headDone {
                guard try parser.parse(inbound.readable, requestMethod: worker.method, into: &head) else { return }
                if head.isInformational {
                    inbound.consume(head.headLength)
                    head.headers.removeAll(keepingCapacity: true)
                    continue
                }
                version = worker.classify(head: head, message: inbound.readable)
                inbound.consume(head.headLength)
                body = BodyTracker(framing: head.framing)
                headDone = true
            }
            _ = try body.identify(in: inbound.readable)
            let n = body.identified
            if worker.capturesBody { capture.append(contentsOf: UnsafeRawBufferPointer(rebasing: inbound.readable[..<n]).prefix(64 * 1024 - capture.count)) }
            inbound.consume(n)
            body.forwarded(n)
            if body.isComplete { finish() }
        } catch {
            fail(.protocol, errno: 0)
        }
    }

    private func peerClosed() {
        if state == .awaiting && headDone && body.sourceClosed() {
            finish()
            return
        }
        if state == .idle {
            close()  // a keep-alive connection the server closed between requests
            return
        }
        fail(.reset, errno: 0)
    }

    private func finish() {
        if worker.capturesBody { version = capture.withUnsafeBytes { worker.classify(body: $0) } }
        worker.answered(lane: lane, version: version, status: head.status, intended: intended)
        head.headers.removeAll(keepingCapacity: true)
        if head.keepAlive && !worker.fresh {
            state = .idle
        } else {
            close()
        }
        inbound.clear()
        worker.free(lane)
    }

    /// The current request failed with `kind`: counts it, drops the connection, frees the lane.
    func fail(_ kind: TransportErrorKind, errno: Int32, detail: String? = nil) {
        let wasConnecting = state == .connecting || state == .handshaking
        close()
        worker.failed(lane: lane, kind: kind, errno: errno, whileConnecting: wasConnecting, detail: detail)
    }

    private func close() {
        worker.close(&fd)
        state = .closed
        inbound.clear()
        parser.reset()
        head.headers.removeAll(keepingCapacity: true)
    }
}
