import KanariaHTTP
import KanariaHTTP2
import KanariaPosix
import KanariaRouting
import KanariaTelemetry
import KanariaTLS

/// A client connection and the exchange it is in. HTTP/1.1 with keep-alive; pipelined requests wait in `inbound`
/// and are answered one after another, in order.
///
/// The connection is a small state machine driven by readiness: every epoll event on its socket or on its
/// upstream's calls `drive()`, which makes all the progress possible without blocking and returns.
final class DownstreamConnection {
    enum Phase {
        /// Waiting for (the rest of) a request head.
        case readingHead
        /// Relaying a request to an upstream and its response back.
        case exchanging
        /// Writing an answer of the proxy's own (`outbound`), then reading the next request or closing.
        case writingLocalResponse
        /// Our side is shut; reading and discarding until the client closes, so that it reads our last answer
        /// before any reset (nginx's lingering close).
        case lingering
        case closed
    }

    enum ResponsePhase { case awaitingHead, body }

    unowned(unsafe) let worker: Worker
    var fd: Int32 = -1
    /// Index of the listener (gateway port) the connection arrived on, in the route table.
    var listener = 0
    var gatewayPort = 0
    /// Bytes from the client not yet handled: the current head or body, and any pipelined requests after it.
    var inbound: ByteBuffer
    /// Bytes for the client not yet written: a response head, or an answer of the proxy's own.
    var outbound: ByteBuffer
    var readable = false
    var writable = true
    var readClosed = false
    /// Plain TCP or TLS.
    var transport = ClientTransport<TLSConnection>()
    /// The x-request-id generated for the current request when the client sent none (before routing, as Envoy).
    var requestID: ByteBuffer
    /// The client's IP address as text, for `x-forwarded-for`.
    var clientAddress: [UInt8] = []
    /// `ip:port` of the client and of the listener it reached, for the access log (empty when it is off).
    var clientEndpoint: [UInt8] = []
    var localEndpoint: [UInt8] = []
    var parser = RequestHeadParser()
    var head = RequestHead()
    var phase = Phase.closed
    /// Requests answered on this connection: HTTP/2 can only be chosen before the first.
    var exchangesServed = 0
    /// Position in the worker's list of open connections.
    var openIndex = -1
    var lastActivity: Int64 = 0

    // The exchange in progress.
    var upstream: UpstreamConnection?
    var upstreamHead: ByteBuffer
    var upstreamHeadSent = 0
    var requestBody = BodyTracker(framing: .none)
    var requestHasBody = false
    var requestSent = false
    var bodyBytesForwarded = false
    var requestMethod = HTTPMethod.get
    var requestVersionMinor: UInt8 = 1
    var endpoint = 0
    var responsePhase = ResponsePhase.awaitingHead
    var responseBody = BodyTracker(framing: .none)
    var responseStarted = false
    var upstreamKeepAlive = true
    var closeAfterResponse = false
    /// The decisions of the exchange in progress (routing, retries, timeouts), and the configuration it began with.
    var machine = ExchangeMachine()
    var snapshot: ConfigSnapshot
    /// The exchange's place in the worker's deadline queue.
    var deadline: DeadlineSlot!
    /// The try waits in its cluster's pending queue for a connection (`maxConnections` reached).
    var waitingForConnection = false
    /// Mirror copies of the current request still collecting its body.
    var mirrors: [MirrorExchange] = []
    /// The request's `Origin`, kept for the answer's CORS headers (routes with a CORS policy only).
    var corsOrigin: [UInt8] = []
    /// The exchange's cluster speaks HTTP/2 (see DownstreamConnection+HTTP2Upstream.swift).
    var upstreamIsHTTP2 = false
    // An HTTP/2 upstream leg (see DownstreamConnection+HTTP2Upstream.swift).
    var upstream2: HTTP2UpstreamConnection?
    var upstreamStream: Int32 = 0
    var h2Headers: HTTP2HeaderBlock?
    /// Request body bytes at the front of `inbound` lent to the upstream session and not yet written.
    var h2RequestLent = 0
    var h2ResponseChunked = false
    var h2ResponseEnded = false
    /// Metrics and access-log line of the request in progress.
    var record = ExchangeRecord(logging: false)

    init(worker: Worker) {
        self.worker = worker
        inbound = ByteBuffer(capacity: 16 * 1024)
        outbound = ByteBuffer(capacity: 4 * 1024)
        upstreamHead = ByteBuffer(capacity: 2 * 1024)
        requestID = ByteBuffer(capacity: 64)
        snapshot = worker.snapshot
        deadline = DeadlineSlot(owner: Worker.token(for: self, tag: Worker.Token.downstreamTag))
    }

    deinit {
        inbound.deallocate()
        outbound.deallocate()
        upstreamHead.deallocate()
        requestID.deallocate()
    }

    /// Makes a recycled object ready for a newly accepted client.
    func reset(fd: Int32, listener: Int, gatewayPort: Int, clientAddress: [UInt8], tls: TLSServerContext?, now: Int64) {
        self.fd = fd
        transport = tls.map { ClientTransport(tls: $0, io: worker.io) } ?? ClientTransport(io: worker.io)
        self.listener = listener
        self.gatewayPort = gatewayPort
        self.clientAddress = clientAddress
        inbound.clear()
        outbound.clear()
        readable = true  // TCP_DEFER_ACCEPT: a connection is accepted once its first bytes are there
        writable = true
        readClosed = false
        parser.reset()
        exchangesServed = 0
        phase = .readingHead
        lastActivity = now
        upstream = nil
        closeAfterResponse = false
        record.measure = ExchangeMeasure()
        if worker.accessLog != nil && record.log == nil { record.log = AccessLogEntry() }
        worker.shard.downstreamConnectionAccepted()
    }

    /// Records readiness from epoll and makes progress.
    @inline(__always)
    func handle(_ events: EpollEvents) {
        if !events.isDisjoint(with: [.readable, .peerHangUp, .hangUp, .error]) { readable = true }
        if events.contains(.writable) || !events.isDisjoint(with: [.hangUp, .error]) {
            writable = true
            if transport.hasPendingOutput, case .failure = transport.flush(fd) { close(); return }
        }
        drive()
    }

    /// Makes every step that can be made without blocking.
    func drive() {
        while true {
            let progressed: Bool
            switch phase {
            case .readingHead: progressed = stepReadingHead()
            case .exchanging: progressed = stepExchange()
            case .writingLocalResponse: progressed = stepWritingLocalResponse()
            case .lingering: progressed = stepLingering()
            case .closed: return
            }
            if !progressed { return }
        }
    }

    // MARK: Reading a request head

    private func stepReadingHead() -> Bool {
        if exchangesServed == 0 && (transport.tls?.negotiatedProtocol == .http2 || !inbound.isEmpty) {
            switch switchToHTTP2IfAsked() {
            case .switched: return false
            case .undecided: if !readClosed && canRead { return readFromClient() } else if readClosed { close() }; return false
            case .http1: break
            }
        }
        if !inbound.isEmpty {
            let blank = RequestHeadParser.leadingEmptyLines(inbound.readable)
            if blank > 0 { inbound.consume(blank) }
            do {
                if try parser.parse(inbound.readable, into: &head) {
                    beginExchange()
                    return true
                }
            } catch {
                parser.reset()
                record.begin(worker: worker, headBytes: inbound.readableCount)
                record.measure.flags.insert(.DPE)
                record.measure.details = "http1.codec_error"
                respondLocally(status: error.status, body: error.reason, close: true)
                return true
            }
        } else if worker.draining {
            close()
            return false
        }
        if readClosed {
            close()
            return false
        }
        guard canRead else { return false }
        if inbound.writableCount < 1024 { inbound.reserve(4096) }
        return readFromClient()
    }

    /// Whether a read may find something: the socket was readable, or TLS holds received records.
    @inline(__always)
    var canRead: Bool { readable || transport.hasBufferedInput }

    /// One read into `inbound`; false when there was nothing to read.
    @inline(__always)
    func readFromClient() -> Bool {
        let outcome = transport.read(fd, into: &inbound, socketReadable: readable)
        if case .data = outcome { lastActivity = worker.now }
        return outcome.record(readable: &readable, closed: &readClosed)
    }

    // MARK: HTTP/2

    enum ProtocolChoice { case http1, undecided, switched }

    /// Before the first request: ALPN h2 or the HTTP/2 preface hand the connection to an HTTP/2 handler.
    private func switchToHTTP2IfAsked() -> ProtocolChoice {
        if transport.tls?.negotiatedProtocol != .http2 {
            switch HTTP2Preface.match(inbound.readable) {
            case .mismatch: return .http1
            case .incomplete: return .undecided
            case .complete: break
            }
        }
        guard let connection = worker.upgradeToHTTP2(self, session: worker.makeHTTP2Session()) else {
            close()
            return .switched
        }
        connection.drive()
        return .switched
    }

    /// The connection now belongs to an HTTP/2 handler: forget it here without closing the socket.
    func handedOver() {
        fd = -1
        phase = .closed
        transport = ClientTransport<TLSConnection>()  // the HTTP/2 handler owns the TLS state now
        worker.retire(self)
    }

    // MARK: Answers of the proxy's own

    /// Queues a short answer of the proxy's own. A request body that was not read makes the connection close
    /// after it, since the next request could not be found.
    func respondLocally(status: Int, body: String, close: Bool, location: UnsafeRawBufferPointer? = nil) {
        var body = body
        body.withUTF8 { respondLocally(status: status, body: UnsafeRawBufferPointer($0), close: close, location: location) }
    }

    /// The same with the body as bytes; `grpcStatus` (≥ 0) makes it a trailers-only gRPC answer's head.
    func respondLocally(status: Int, body: UnsafeRawBufferPointer, close: Bool, location: UnsafeRawBufferPointer? = nil,
                        grpcStatus: Int = -1, extra: ResponseChanges? = nil) {
        let mustClose = close || closeAfterResponse || worker.draining
        outbound.clear()
        HeadRewriter.writeLocalResponse(status: status, body: body, close: mustClose, headRequest: requestMethod == .head,
                                        location: location, grpcStatus: grpcStatus, extra: extra, into: &outbound)
        record.measure.responseCode = status
        if grpcStatus >= 0 { record.measure.grpcStatus = grpcStatus }
        record.measure.responseBytes = UInt64(outbound.readableCount)
        record.measure.responseHeadBytes = UInt64(outbound.readableCount - (requestMethod == .head ? 0 : body.count))
        closeAfterResponse = mustClose
        phase = .writingLocalResponse
    }

    private func stepWritingLocalResponse() -> Bool {
        guard flushOutbound() else { return false }
        guard outbound.isEmpty else { return false }
        record.end(worker: worker)
        if closeAfterResponse {
            startLingeringClose()
        } else {
            phase = .readingHead
        }
        return true
    }

    /// Writes as much of `outbound` as the socket takes. False when the client is gone (then the connection is
    /// closed) or nothing could be written.
    private func flushOutbound() -> Bool {
        while !outbound.isEmpty && writable {
            switch transport.write(fd, outbound.readable, UnsafeRawBufferPointer(start: nil, count: 0)) {
            case .success(let n):
                if n < outbound.readableCount { writable = false }
                outbound.consume(n)
            case .failure(let error):
                writable = false
                if error != .wouldBlock {
                    close()
                    return false
                }
            }
        }
        return true
    }

    /// Closes once `outbound` is written: shuts our side, then waits for the client's close (see `.lingering`).
    func startLingeringClose() {
        guard outbound.isEmpty else {
            phase = .writingLocalResponse
            return
        }
        transport.shutdownWrite(fd)
        phase = .lingering
        lastActivity = worker.now
    }

    private func stepLingering() -> Bool {
        while canRead && !readClosed {
            inbound.clear()
            _ = readFromClient()
        }
        if readClosed { close() }
        return false
    }

    // MARK: Closing

    /// Closes the client connection and any upstream attached to it.
    func close() {
        guard phase != .closed else { return }
        if waitingForConnection {
            waitingForConnection = false
            worker.cancelPending(deadline.owner, cluster: machine.cluster)
        }
        machine.finish(routing: &worker.routing, now: worker.now)
        worker.schedule(deadline, at: 0)
        if !mirrors.isEmpty { abandonMirrors() }
        if let upstream = upstream2 {
            upstream2 = nil
            upstream.abandon(stream: upstreamStream)  // takes back the request bytes lent from `inbound`
            h2ResponseEnded = false
        }
        if record.measure.open {
            record.measure.flags.insert(.DC)  // the client went away before the exchange ended
            record.end(worker: worker)
        }
        dropUpstream()
        transport.release()
        worker.io.close(fd)
        worker.shard.downstreamConnectionClosed()
        fd = -1
        phase = .closed
        worker.retire(self)
    }
}
