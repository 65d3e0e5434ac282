import KanariaHTTP
import KanariaHTTP2
import KanariaPosix
import KanariaRouting
import KanariaTelemetry

/// One HTTP/2 stream of a client connection, proxied on its own: routed, drawn to a destination and relayed to an
/// HTTP/1.1 upstream connection of the pool, independently of the connection's other streams. This is what makes
/// the split per request on a long-lived HTTP/2 connection.
///
/// Request bodies are copied (framed as chunks when their length is unknown) into `upstreamOut`, at most 64 KiB at a
/// time, and only what was copied is acknowledged to the client's flow-control window. Response bodies are lent
/// to the session straight from the upstream connection's read buffer (nghttp2's NO_COPY), and consumed from it
/// when the session says they were written.
final class StreamExchange {
    enum ResponsePhase {
        case awaitingHead
        case body
        /// Everything the response has was handed to the session (or it was answered locally).
        case done
    }

    unowned(unsafe) var connection: HTTP2DownstreamConnection!
    var stream: Int32 = 0
    var endpoint = 0
    var upstream: UpstreamConnection?
    /// The request head and body bytes not yet written upstream.
    var upstreamOut: ByteBuffer
    var requestChunked = false
    var requestHasBody = false
    /// The client ended its side of the stream.
    var requestEndReceived = false
    /// The end of the request (the terminating chunk, when chunked) is in `upstreamOut`.
    var requestEndQueued = false
    var requestMethod = HTTPMethod.get
    var bodyBytesForwarded = false
    /// Bytes of the request were written to an upstream (a try's bytes cannot be taken back).
    var requestBytesWritten = false
    /// The decisions of the exchange (routing, retries, timeouts), and the configuration it began with.
    var machine = ExchangeMachine()
    var snapshot: ConfigSnapshot?
    /// The exchange's place in the worker's deadline queue.
    var deadline: DeadlineSlot!
    var responsePhase = ResponsePhase.awaitingHead
    var responseBody = BodyTracker(framing: .none)
    /// Response body bytes lent to the session and not yet written (at the front of the upstream's buffer).
    var lent = 0
    var upstreamKeepAlive = true
    /// This exchange reset its stream (the upstream failed mid-response): not the client's doing.
    var resetHere = false
    var record = ExchangeRecord(logging: false)
    var requestID: ByteBuffer
    // An HTTP/2 upstream leg (see StreamExchange+HTTP2Upstream.swift).
    var upstream2: HTTP2UpstreamConnection?
    var upstreamStream: Int32 = 0
    /// Request body bytes of `upstreamOut` lent to the upstream session and not yet written.
    var requestBodyLent = 0
    /// Response body bytes of the upstream session's blocks lent to the client session and not yet written.
    var responseLentFromUpstream = 0
    var upstreamStreamEnded = false
    var releasedDownstreamEarly = false
    /// The upstream's response head is waiting to be submitted (see `upstreamResponse`).
    var responseHeadPending = false
    let headers = HTTP2HeaderBlock(capacity: 1024)
    static let maxPendingRequestBytes = 64 * 1024

    init() {
        upstreamOut = ByteBuffer(capacity: 2048)
        requestID = ByteBuffer(capacity: 64)
        deadline = DeadlineSlot(owner: Worker.token(for: self, tag: Worker.Token.streamTag))
    }

    deinit {
        upstreamOut.deallocate()
        requestID.deallocate()
    }

    var worker: Worker { connection.worker }
    var session: HTTP2Session { connection.session }

    /// Makes a recycled object ready for a new stream.
    func reset(connection: HTTP2DownstreamConnection, stream: Int32) {
        self.connection = connection
        self.stream = stream
        upstream = nil
        upstreamOut.clear()
        requestChunked = false
        requestHasBody = false
        requestEndReceived = false
        requestEndQueued = false
        bodyBytesForwarded = false
        requestBytesWritten = false
        responsePhase = .awaitingHead
        lent = 0
        upstreamKeepAlive = true
        resetHere = false
        upstreamHeadCopy.removeAll(keepingCapacity: true)
        upstream2 = nil
        upstreamStream = 0
        requestBodyLent = 0
        responseLentFromUpstream = 0
        upstreamStreamEnded = false
        releasedDownstreamEarly = false
        responseHeadPending = false
        if connection.worker.accessLog != nil && record.log == nil { record.log = AccessLogEntry() }
        record.measure = ExchangeMeasure()
    }

    // MARK: Starting

    /// Routes the request of the stream through the exchange machine, as an HTTP/1.1 request is routed, and starts
    /// the first try, or answers itself.
    func begin(_ request: RequestView) {
        let head = request.head
        let message = request.message
        if snapshot !== worker.snapshot { snapshot = worker.snapshot }
        let snapshot = self.snapshot!
        requestMethod = head.method
        requestChunked = head.framing == .chunked
        requestHasBody = head.framing != .none
        record.begin(worker: worker, headBytes: head.headLength)
        if isGRPC(head, message) { record.measure.requestProtocol = .grpc }
        requestID.clear()
        if head.firstField(.xRequestId) == nil { worker.requestIDs.appendUUID(to: &requestID) }
        if record.log != nil {
            record.captureRequest(head, message, protocolVersion: .http2, requestID: requestID.readable,
                                  clientEndpoint: connection.clientEndpoint, localEndpoint: connection.localEndpoint)
        }
        let action = connection.clientAddress.withUnsafeBytes { clientIP in
            machine.begin(request, listener: connection.listener, snapshot: snapshot, routing: &worker.routing,
                          now: worker.now, clientIP: clientIP)
        }
        switch action {
        case .connect:
            if snapshot.routeRuntimes[machine.route].flags.contains(.mirrors) {
                worker.startMirrors(for: machine, snapshot: snapshot, head: head, message: message,
                                    clientAddress: connection.clientAddress, requestID: requestID.readable,
                                    forwardedProto: connection.transport.scheme, frameChunks: requestChunked,
                                    addChunkedHeader: requestChunked, into: &mirrors)
            }
            prepareUpstreamRequest(head, message)
            worker.schedule(deadline, at: machine.nextDeadline)
            startTry()
        case .redirectToHTTPS:
            record.measure.details = "direct_response"
            respondLocally(status: 301, body: "", location: httpsLocation(head, message))
        case .wait:
            // A fault delay: what the request needs afterwards is taken from its head now.
            if machine.cluster >= 0 { prepareUpstreamRequest(head, message) } else { prepareRouteAnswer(request) }
            perform(action)
        default:
            prepareRouteAnswer(request)
            perform(action)
        }
    }

    /// For a route that answers with a redirect: its `Location`, built from the request now.
    private func prepareRouteAnswer(_ request: RequestView) {
        if let snapshot, machine.route >= 0 && snapshot.routeRuntimes[machine.route].flags.contains(.cors) {
            corsOrigin = CorsPolicy.origin(of: request.head, message: request.message)
        }
        guard let snapshot, machine.route >= 0, case .redirect(let redirect) = snapshot.table.routes[machine.route].action else {
            return
        }
        var location = ByteBuffer(capacity: 256)
        defer { location.deallocate() }
        let scheme: StaticString = connection.transport.scheme
        redirect.location(requestScheme: UnsafeRawBufferPointer(start: scheme.utf8Start, count: scheme.utf8CodeUnitCount),
                          authority: request.authority, path: request.path, listenerPort: connection.gatewayPort,
                          listenerIsTLS: connection.transport.tls != nil, into: &location)
        redirectLocation = Array(location.readable)
    }

    /// Writes the request as the upstream will get it, once per exchange: an HTTP/1.1 head into `upstreamOut`
    /// (kept in `upstreamHeadCopy` for another try), or HTTP/2 fields into `headers`.
    private func prepareUpstreamRequest(_ head: RequestHead, _ message: UnsafeRawBufferPointer) {
        let snapshot = self.snapshot!
        let authority = worker.defaultAuthorityPool(endpoint: machine.endpoint, cluster: machine.cluster, snapshot: snapshot).authority
        if machine.corsAllowed { corsOrigin = CorsPolicy.origin(of: head, message: message) }
        if machine.changesRequest(snapshot) {
            machine.withRequestChanges(snapshot: snapshot, head: head, message: message, scratch: &worker.scratch) {
                writeUpstreamRequest(head, message, defaultAuthority: authority, changes: $0)
            }
        } else {
            writeUpstreamRequest(head, message, defaultAuthority: authority, changes: nil)
        }
    }

    private func writeUpstreamRequest(_ head: RequestHead, _ message: UnsafeRawBufferPointer, defaultAuthority: [UInt8],
                                      changes: RequestChanges?) {
        if snapshot!.table.clusters[machine.cluster].upstreamProtocol == .http2 {
            HeadRewriter.writeUpstreamRequest(head, message: message, clientAddress: connection.clientAddress,
                                              scheme: connection.transport.scheme, generatedRequestID: requestID.readable,
                                              defaultAuthority: defaultAuthority, into: headers)
            if let changes { HeadRewriter.apply(changes, to: headers) }
            return
        }
        defaultAuthority.withUnsafeBytes { defaultHost in
            connection.clientAddress.withUnsafeBytes { client in
                HeadRewriter.writeUpstreamRequest(head, message: message, clientAddress: client,
                                                  generatedRequestID: requestID.readable, defaultHost: defaultHost,
                                                  chunkedBody: requestChunked, forwardedProto: connection.transport.scheme,
                                                  changes: changes, into: &upstreamOut)
            }
        }
        upstreamHeadCopy.append(contentsOf: upstreamOut.readable)
        if !requestHasBody { requestEndQueued = true }
    }

    /// Submits the response head `head` to the client, with the route's response changes when it has any.
    func submitResponseHead(_ head: ResponseHead, message: UnsafeRawBufferPointer, endStream: Bool) throws(HTTP2Error) {
        guard let snapshot, machine.changesResponse(snapshot), let changes = machine.responseChanges(snapshot: snapshot, origin: corsOrigin) else {
            return try session.submitResponse(stream: stream, head: head, message: message, endStream: endStream)
        }
        let block = responseHeaders ?? HTTP2HeaderBlock(capacity: 1024)
        responseHeaders = block
        block.removeAll()
        block.append(response: head, message: message)
        changes.apply(to: block)
        try session.submitResponse(stream: stream, headers: block, endStream: endStream)
    }

    /// Starts the try the machine asked for: to `machine.endpoint`, over HTTP/1.1 or HTTP/2 as the cluster speaks.
    private func startTry() {
        guard let snapshot, snapshot === worker.snapshot else {
            perform(.answer(.failure(.connectFailure)))  // a reload replaced the pools the indices point into
            return
        }
        record.measure.host = snapshot.endpointHosts[machine.endpoint]
        record.measure.destination = snapshot.endpointDestinations[snapshot.clusterEndpointStart[machine.cluster] + machine.endpointPosition]
        let pool = worker.pools[machine.endpoint]
        if record.log != nil { captureRoute(pool: pool) }
        endpoint = machine.endpoint
        responsePhase = .awaitingHead
        if snapshot.table.clusters[machine.cluster].upstreamProtocol == .http2 {
            beginHTTP2Upstream(pool: pool)
            return
        }
        if requestBytesWritten {
            // Another try of a request without a body whose head went to the last one: the same head again. (A
            // request with a body is tried again only while nothing of it was written: `upstreamOut` still holds it.)
            upstreamOut.clear()
            upstreamHeadCopy.withUnsafeBytes { upstreamOut.append($0) }
            requestEndQueued = true
            requestBytesWritten = false
        }
        attachUpstream(fresh: machine.freshConnection)
    }

    private func captureRoute(pool: EndpointPool?) {
        guard let snapshot, machine.cluster >= 0 else { return }
        record.captureRoute(route: snapshot.table.routes[machine.route].name,
                            cluster: snapshot.table.clusters[machine.cluster].name, pool: pool)
    }

    /// Whether another try could send the whole request again.
    var replayable: Bool { !requestBytesWritten || !requestHasBody }

    /// Carries out what the exchange machine decided.
    func perform(_ action: ExchangeAction) {
        switch action {
        case .none, .relay, .redirectToHTTPS:
            break
        case .connect:
            dropTry()
            startTry()
        case .wait:
            dropTry()
            record.measure.flags.insert(machine.flags)
        case .redirect:
            guard let snapshot, case .redirect(let redirect) = snapshot.table.routes[machine.route].action else { break }
            record.noteLocalAnswer(flags: machine.flags, details: "direct_response", machine: machine, snapshot: snapshot)
            respondLocally(status: redirect.code, body: "", location: redirectLocation)
        case .answer(let answer):
            dropTry()
            if let snapshot {
                record.noteLocalAnswer(flags: answer.flags, details: answer.details, machine: machine, snapshot: snapshot)
            } else {
                record.measure.flags.insert(answer.flags)
                record.measure.details = answer.details
            }
            let extra = answer.corsHeaders ? snapshot.map { machine.preflightChanges(snapshot: $0, origin: corsOrigin) } : nil
            answer.body.withBytes { respondLocally(status: answer.status, body: $0, grpcStatus: answer.grpcStatus, extra: extra) }
        case .abort(let flags):
            record.measure.flags.insert(flags)
            resetStream()
            connection.requestFlush()
        }
        if let snapshot { worker.countStats(of: &machine, snapshot: snapshot) }
        worker.schedule(deadline, at: machine.nextDeadline)
    }

    /// A deadline of the exchange passed (a route or per-try timeout, the end of a retry back-off).
    func deadlinePassed() {
        guard let snapshot, connection != nil else { return }
        perform(machine.timerFired(now: worker.now, replayable: replayable, snapshot: snapshot, routing: &worker.routing))
        connection.requestFlush()
    }

    /// A connection of the exchange's cluster was freed while it waited as a pending request.
    func connectionFreed() {
        guard waitingForConnection, connection != nil else { return }
        waitingForConnection = false
        guard let snapshot, snapshot === worker.snapshot else {
            perform(.answer(.failure(.connectFailure)))  // the configuration was replaced meanwhile
            connection.requestFlush()
            return
        }
        attachUpstream(fresh: false)
        connection.requestFlush()
    }

    /// Leaves the cluster's pending queue, if the exchange waits there.
    private func leavePendingQueue() {
        guard waitingForConnection else { return }
        waitingForConnection = false
        worker.cancelPending(deadline.owner, cluster: machine.cluster)
    }

    /// Lets go of the current try's upstream leg (an HTTP/1.1 connection is closed, an HTTP/2 stream reset).
    private func dropTry() {
        leavePendingQueue()
        dropHTTP2Upstream()
        dropUpstream()
    }

    private func isGRPC(_ head: RequestHead, _ message: UnsafeRawBufferPointer) -> Bool {
        for field in head.headers where field.name.count == 12 {
            if HTTPBytes.equalsIgnoringCase(field.name.bytes(in: message), "content-type") {
                let value = field.value.bytes(in: message)
                return value.count >= 16 && HTTPBytes.equalsIgnoringCase(UnsafeRawBufferPointer(rebasing: value[0..<16]), "application/grpc")
            }
        }
        return false
    }

    private func httpsLocation(_ head: RequestHead, _ message: UnsafeRawBufferPointer) -> [UInt8] {
        var location = ByteBuffer(capacity: 256)
        defer { location.deallocate() }
        HeadRewriter.writeHTTPSLocation(head, message: message, into: &location)
        return Array(location.readable)
    }

    /// Answers the stream with a response of the proxy's own.
    func respondLocally(status: Int, body: String, location: [UInt8]? = nil) {
        var body = body
        body.withUTF8 { respondLocally(status: status, body: UnsafeRawBufferPointer($0), location: location) }
    }

    /// The same with the body as bytes; `grpcStatus` (≥ 0) makes it a trailers-only gRPC answer (one HEADERS
    /// frame with END_STREAM).
    func respondLocally(status: Int, body: UnsafeRawBufferPointer, location: [UInt8]? = nil, grpcStatus: Int = -1,
                        extra: ResponseChanges? = nil) {
        record.measure.responseCode = status
        record.measure.responseBytes = UInt64(body.count)
        if grpcStatus >= 0 { record.measure.grpcStatus = grpcStatus }
        responsePhase = .done
        do throws(HTTP2Error) {
            if location != nil || grpcStatus >= 0 || extra != nil {
                let block = HTTP2HeaderBlock(capacity: 256)
                block.append(name: ":status", decimal: status)
                if let location { location.withUnsafeBytes { block.append(name: "location", value: $0) } }
                if grpcStatus >= 0 {
                    block.append(name: "content-type", value: "application/grpc")
                    block.append(name: "grpc-status", decimal: grpcStatus)
                }
                block.append(name: "server", value: "kanaria")
                extra?.apply(to: block)
                try session.submitResponse(stream: stream, headers: block, endStream: true)
            } else {
                try session.submitLocalResponse(stream: stream, status: status, body: body)
            }
        } catch {
            resetStream()
        }
        connection.requestFlush()
    }

    private func attachUpstream(fresh: Bool) {
        let connection: UpstreamConnection
        switch worker.acquireUpstream(endpoint: endpoint, fresh: fresh, cluster: machine.cluster, owner: deadline.owner) {
        case .connection(let acquired):
            connection = acquired
        case .failed:
            upstreamFailed(.connectFailure)
            return
        case .wait:
            waitingForConnection = true
            return
        case .overflow:
            perform(machine.connectionOverflowed(routing: &worker.routing, now: worker.now))
            self.connection.requestFlush()
            return
        }
        connection.owner = .stream(Unmanaged.passUnretained(self))
        if connection.state == .connecting, let snapshot {
            machine.connecting(snapshot: snapshot, now: worker.now)
            worker.schedule(deadline, at: machine.nextDeadline)
        }
        if connection.state != .connecting {
            connection.state = .active
            worker.shard.upstreamConnectionReused(destination: record.measure.destination)
            record.captureUpstreamLocalAddress(connection.localAddress)
        }
        upstream = connection
        if connection.state == .active { upstreamReady() }
    }

    // MARK: Events from the session

    /// Body bytes of the request arrived.
    func requestDataArrived() {
        bodyBytesForwarded = true
        if upstream2 != nil { pumpRequestHTTP2() } else { pumpRequest() }
    }

    /// The client ended the request.
    func requestEnded() {
        requestEndReceived = true
        if upstream2 != nil { pumpRequestHTTP2() } else { pumpRequest() }
    }

    /// `count` response body bytes the session held were written to the client.
    func responseBytesWritten(_ count: Int) {
        if upstream2 != nil || responseLentFromUpstream > 0 {
            responseBytesWrittenFromHTTP2Upstream(count)
            return
        }
        guard let upstream else { return }
        lent -= count
        upstream.inbound.consume(count)
        responseBody.forwarded(count)
        record.measure.responseBytes &+= UInt64(count)
        pumpResponse(upstream)
    }

    /// The stream closed: normally once the whole response was written, or because it was reset (by the client,
    /// by the session's protections, or by this exchange). Returns the upstream connection to its pool when it can
    /// carry another request, and records the request.
    func streamClosed(_ error: HTTP2ErrorCode) {
        leavePendingQueue()
        abandonMirrors()
        machine.finish(routing: &worker.routing, now: worker.now)
        worker.schedule(deadline, at: 0)
        if error == .noError && responsePhase == .done {
            if let upstream {
                self.upstream = nil
                upstream.owner = .none
                upstream.exchangesCompleted += 1
                let reusable = upstreamKeepAlive && requestEndQueued && upstreamOut.isEmpty && !upstream.readClosed
                    && upstream.inbound.isEmpty && !responseBody.endsAtClose
                if reusable { worker.releaseUpstream(upstream) } else { worker.closeUpstream(upstream) }
            }
        } else {
            if !resetHere {
                // The client reset the stream (or the session did, for it) before the exchange ended.
                record.measure.flags.insert(.DC)
                record.measure.details = "downstream_remote_disconnect"
            }
            dropUpstream()
        }
        dropHTTP2Upstream()
        record.end(worker: worker)
    }

    /// The connection is going away: abandon the exchange (the session is being torn down with it).
    func abandon() {
        leavePendingQueue()
        abandonMirrors()
        machine.finish(routing: &worker.routing, now: worker.now)
        worker.schedule(deadline, at: 0)
        if record.measure.open && responsePhase != .done { record.measure.flags.insert(.DC) }
        if upstream2 != nil {
            session.release(stream: stream)  // takes back what the upstream session lent it, before that goes
            dropHTTP2Upstream()
        }
        dropUpstream()
        record.end(worker: worker)
    }

    func resetStream() {
        resetHere = true
        session.reset(stream: stream, error: .internalError)
    }

    private func dropUpstream() {
        guard let upstream else { return }
        self.upstream = nil
        upstream.owner = .none
        worker.closeUpstream(upstream)
    }

    // MARK: Events from the upstream connection

    func upstreamConnected(_ connection: UpstreamConnection) {
        machine.connected()
        worker.schedule(deadline, at: machine.nextDeadline)
        worker.noteUpstreamConnected(connection, record: &record)
        upstreamReady()
    }

    /// The upstream connection is readable or writable: relay what can be relayed.
    func upstreamReady() {
        guard let upstream, upstream.state == .active, let connection else { return }
        pumpRequest()
        if self.upstream === upstream { pumpResponse(upstream) }
        connection.requestFlush()
    }

    /// The try failed. Before the response began, the machine retries it or answers as Envoy does; after, the
    /// client's stream is reset.
    func upstreamFailed(_ failure: UpstreamFailure) {
        let wasPooled = (upstream?.exchangesCompleted ?? 0) > 0
        dropUpstream()
        guard responsePhase == .awaitingHead, let snapshot else {
            record.measure.flags.insert(.UC)
            resetStream()
            connection.requestFlush()
            return
        }
        perform(machine.upstreamFailed(failure, replayable: replayable, stalePooled: wasPooled, snapshot: snapshot,
                                       routing: &worker.routing, now: worker.now))
        connection.requestFlush()
    }

    /// The request's `Origin`, kept for the answer's CORS headers (routes with a CORS policy only).
    var corsOrigin: [UInt8] = []
    /// Mirror copies of the request still collecting its body.
    var mirrors: [MirrorExchange] = []
    /// The try waits in its cluster's pending queue for a connection (`maxConnections` reached).
    var waitingForConnection = false

    /// The request body is whole: the mirror copies are sent.
    func endMirrors() {
        guard !mirrors.isEmpty else { return }
        for mirror in mirrors { mirror.requestEnded() }
        mirrors.removeAll(keepingCapacity: true)
    }

    /// The request will not be whole: the copies are dropped.
    func abandonMirrors() {
        guard !mirrors.isEmpty else { return }
        for mirror in mirrors { mirror.abandon() }
        mirrors.removeAll(keepingCapacity: true)
    }
    /// The response head as the client gets it, when the route changes it.
    private var responseHeaders: HTTP2HeaderBlock?
    /// The `Location` of a route redirect, built when the request arrived.
    private var redirectLocation: [UInt8] = []

    /// The request head as first written, kept for one retry while no body byte was sent.
    private var upstreamHeadCopy: [UInt8] = []

    // MARK: Relaying the request

    /// Copies request body bytes from the session into `upstreamOut` (chunk-framed when the length is unknown),
    /// acknowledging them to the client's window, and writes `upstreamOut` to the upstream.
    func pumpRequest() {
        var copied = false
        while true {
            // Copy every buffered run (the session keeps the body in blocks) while there is room.
            while !requestEndQueued {
                let run = session.receivedBody(stream: stream)
                let n = min(run.count, Self.maxPendingRequestBytes - upstreamOut.readableCount)
                if n > 0 {
                    if requestChunked {
                        upstreamOut.append(hex: n)
                        upstreamOut.append("\r\n")
                    }
                    upstreamOut.append(UnsafeRawBufferPointer(rebasing: run[0..<n]))
                    if requestChunked { upstreamOut.append("\r\n") }
                    for mirror in mirrors { mirror.appendBody(UnsafeRawBufferPointer(rebasing: run[0..<n])) }
                    session.consume(stream: stream, count: n)
                    record.measure.requestBytes &+= UInt64(n)
                    copied = true
                }
                if requestEndReceived && session.receivedBodyCount(stream: stream) == 0 {
                    if requestChunked { upstreamOut.append("0\r\n\r\n") }
                    requestEndQueued = true
                    endMirrors()
                }
                if n == 0 || n < run.count { break }
            }
            guard let upstream, upstream.state == .active else { break }
            var wrote = false
            while !upstreamOut.isEmpty && upstream.writable {
                switch upstream.write(upstreamOut.readable, UnsafeRawBufferPointer(start: nil, count: 0)) {
                case .success(let n):
                    if n < upstreamOut.readableCount { upstream.writable = false }
                    upstreamOut.consume(n)
                    requestBytesWritten = true
                    wrote = true
                case .failure(let error):
                    upstream.writable = false
                    if error != .wouldBlock {
                        upstreamFailed(.connectionTermination)
                        return
                    }
                }
            }
            // Room was made: copy more of what the client already sent, if any.
            if !wrote || requestEndQueued || session.receivedBodyCount(stream: stream) == 0 { break }
        }
        if copied { connection.requestFlush() }  // the client's window reopens
    }

    // MARK: Relaying the response

    /// Parses the upstream's response head, submits it to the session, then lends body bytes as they are found.
    func pumpResponse(_ upstream: UpstreamConnection) {
        while self.upstream === upstream {
            switch responsePhase {
            case .awaitingHead:
                if !upstream.inbound.isEmpty {
                    let complete: Bool
                    do {
                        complete = try upstream.parseResponseHead(for: requestMethod)
                    } catch {
                        upstreamFailed(.protocolError)
                        return
                    }
                    if complete {
                        startResponse(upstream)
                        continue
                    }
                }
                if upstream.readClosed {
                    upstreamFailed(upstream.inbound.isEmpty ? .connectionTermination : .protocolError)
                    return
                }
                guard upstream.canRead, upstream.readSome(limit: worker.headLimits.maxHeadBytes + 1, io: worker.io) else { return }
            case .body:
                if !relayBody(upstream) { return }
            case .done:
                return
            }
        }
    }

    private func startResponse(_ upstream: UpstreamConnection) {
        let response = upstream.responseHead
        let message = upstream.inbound.readable
        if response.isInformational {
            if response.status != 101 {
                try? session.submitResponse(stream: stream, head: response, message: message, endStream: false)
            }
            upstream.inbound.consume(response.headLength)
            upstream.responseParser.reset()
            return
        }
        if let snapshot {
            if let retry = worker.acceptResponseHead(status: response.status, grpcStatus: nil, replayable: replayable,
                                                     machine: &machine, record: &record, snapshot: snapshot) {
                perform(retry)  // the answer goes with its connection
                return
            }
        }
        let noBody = response.framing == .none
        do throws(HTTP2Error) {
            try submitResponseHead(response, message: message, endStream: noBody)
        } catch {
            resetStream()
        }
        record.measure.responseCode = response.status
        record.measure.details = "via_upstream"
        record.measure.upstreamAnsweredNanoseconds = monotonicNanoseconds()
        record.measure.responseHeadBytes = UInt64(response.headLength)
        record.measure.responseBytes &+= UInt64(response.headLength)
        upstream.inbound.consume(response.headLength)
        upstream.responseParser.reset()
        upstreamKeepAlive = response.keepAlive
        responseBody = BodyTracker(framing: response.framing, dechunk: response.framing == .chunked)
        responsePhase = noBody ? .done : .body
        connection.requestFlush()
    }

    /// Lends newly found body bytes to the session; reads more from the upstream when it has nothing to lend.
    /// Returns false when it must wait (for the session to write, or the upstream to send).
    private func relayBody(_ upstream: UpstreamConnection) -> Bool {
        if !responseBody.endIdentified {
            do {
                let drop = try responseBody.identify(in: upstream.inbound.readable)
                if drop > 0 {
                    // Framing (chunk sizes): dropped only when nothing before it is still lent.
                    upstream.inbound.consume(drop)
                    return true
                }
            } catch {
                record.measure.flags.insert(.UPE)
                resetStream()
                dropUpstream()
                connection.requestFlush()
                return false
            }
        }
        let fresh = responseBody.identified - lent
        if fresh > 0 {
            let start = upstream.inbound.readable.baseAddress! + lent
            let end = responseBody.endIdentified && !responseBody.endsAtClose
            session.offerBody(stream: stream, UnsafeRawBufferPointer(start: start, count: fresh), endOfBody: end)
            lent += fresh
            if end { responsePhase = .done }
            connection.requestFlush()
            return true
        }
        if responseBody.endIdentified {
            session.finishBody(stream: stream)
            responsePhase = .done
            connection.requestFlush()
            return false
        }
        if upstream.readClosed {
            if responseBody.sourceClosed() { return true }
            record.measure.flags.insert(.UC)
            resetStream()
            dropUpstream()
            connection.requestFlush()
            return false
        }
        guard upstream.canRead, upstream.readSome(limit: 0, mayMove: lent == 0, io: worker.io) else { return false }
        return true
    }
}
