import KanariaHTTP
import KanariaHTTP2
import KanariaPosix
import KanariaRouting

extension DownstreamConnection {
    // MARK: Starting an exchange

    /// Routes the parsed head (through the exchange machine, as every protocol pairing does) and starts the first
    /// try, or answers itself: 404 (no route), 503 (no endpoint), 301 (https redirect).
    func beginExchange() {
        if snapshot !== worker.snapshot { snapshot = worker.snapshot }
        exchangesServed += 1
        if exchangesServed == 1, head.isUpgrade, upgradeToH2C() { return }
        requestMethod = head.method
        requestVersionMinor = head.versionMinor
        requestHasBody = head.framing != .none
        closeAfterResponse = !head.keepAlive || worker.draining
        let message = inbound.readable
        record.begin(worker: worker, headBytes: head.headLength)
        requestID.clear()
        if head.firstField(.xRequestId) == nil { worker.requestIDs.appendUUID(to: &requestID) }
        if record.log != nil { record.captureRequest(head, message, protocolVersion: head.versionMinor == 0 ? .http10 : .http11, requestID: requestID.readable, clientEndpoint: clientEndpoint, localEndpoint: localEndpoint) }
        let action = clientAddress.withUnsafeBytes { clientIP in
            machine.begin(RequestView(message: message, head: head), listener: listener, snapshot: snapshot,
                          routing: &worker.routing, now: worker.now, clientIP: clientIP)
        }
        switch action {
        case .connect:
            if snapshot.routeRuntimes[machine.route].flags.contains(.mirrors) {
                worker.startMirrors(for: machine, snapshot: snapshot, head: head, message: message, clientAddress: clientAddress,
                                    requestID: requestID.readable, forwardedProto: transport.scheme,
                                    frameChunks: snapshot.table.clusters[machine.cluster].upstreamProtocol == .http2
                                        && head.framing == .chunked,
                                    addChunkedHeader: false, into: &mirrors)
            }
            prepareUpstreamRequest(message)
            phase = .exchanging
            worker.schedule(deadline, at: machine.nextDeadline)
            startTry()
        case .redirectToHTTPS:
            redirectToHTTPS(message)
        case .wait:
            // A fault delay: what the request needs afterwards is taken from its head now.
            if machine.cluster >= 0 { prepareUpstreamRequest(message) } else { prepareRouteAnswer(message) }
            phase = .exchanging
            perform(action)
        default:
            prepareRouteAnswer(message)
            perform(action)
        }
    }

    /// For a route that answers by itself: writes its redirect's `Location` (into `upstreamHead`, unused by such
    /// a route), then drops the client's head from `inbound`.
    private func prepareRouteAnswer(_ message: UnsafeRawBufferPointer) {
        if machine.route >= 0 && snapshot.routeRuntimes[machine.route].flags.contains(.cors) {
            corsOrigin = CorsPolicy.origin(of: head, message: message)
        }
        if machine.route >= 0, case .redirect(let redirect) = snapshot.table.routes[machine.route].action {
            upstreamHead.clear()
            let scheme: StaticString = transport.scheme
            redirect.location(requestScheme: UnsafeRawBufferPointer(start: scheme.utf8Start, count: scheme.utf8CodeUnitCount),
                              authority: head.authority.bytes(in: message), path: RequestView(message: message, head: head).path,
                              listenerPort: gatewayPort, listenerIsTLS: transport.tls != nil, into: &upstreamHead)
        }
        finishHead()
    }

    /// Writes the request as the upstream will get it (HTTP/1.1 head into `upstreamHead`, or HTTP/2 fields), once
    /// per exchange: every try sends the same, then drops the client's head from `inbound`.
    private func prepareUpstreamRequest(_ message: UnsafeRawBufferPointer) {
        upstreamIsHTTP2 = snapshot.table.clusters[machine.cluster].upstreamProtocol == .http2
        let pool = worker.defaultAuthorityPool(endpoint: machine.endpoint, cluster: machine.cluster, snapshot: snapshot)
        if machine.corsAllowed { corsOrigin = CorsPolicy.origin(of: head, message: message) }
        if machine.changesRequest(snapshot) {
            machine.withRequestChanges(snapshot: snapshot, head: head, message: message, scratch: &worker.scratch) {
                writeUpstreamRequest(message, defaultAuthority: pool.authority, changes: $0)
            }
        } else {
            writeUpstreamRequest(message, defaultAuthority: pool.authority, changes: nil)
        }
        finishHead()
        bodyBytesForwarded = false
    }

    private func writeUpstreamRequest(_ message: UnsafeRawBufferPointer, defaultAuthority: [UInt8], changes: RequestChanges?) {
        if upstreamIsHTTP2 {
            let headers = h2Headers ?? HTTP2HeaderBlock(capacity: 1024)
            h2Headers = headers
            HeadRewriter.writeUpstreamRequest(head, message: message, clientAddress: clientAddress, scheme: transport.scheme,
                                              generatedRequestID: requestID.readable, defaultAuthority: defaultAuthority,
                                              into: headers)
            if let changes { HeadRewriter.apply(changes, to: headers) }
            requestBody = BodyTracker(framing: head.framing, dechunk: true)
            return
        }
        upstreamHead.clear()
        defaultAuthority.withUnsafeBytes { defaultHost in
            clientAddress.withUnsafeBytes { client in
                HeadRewriter.writeUpstreamRequest(head, message: message, clientAddress: client,
                                                  generatedRequestID: requestID.readable, defaultHost: defaultHost,
                                                  forwardedProto: transport.scheme, changes: changes, into: &upstreamHead)
            }
        }
        requestBody = BodyTracker(framing: head.framing)
    }

    /// Starts the try the machine asked for: to `machine.endpoint`, over HTTP/1.1 or HTTP/2 as the cluster speaks.
    private func startTry() {
        guard snapshot === worker.snapshot else {
            // A reload replaced the pools this exchange's endpoint indices point into: give up on retrying.
            perform(.answer(.failure(.connectFailure)))
            return
        }
        let position = snapshot.clusterEndpointStart[machine.cluster] + machine.endpointPosition
        record.measure.host = snapshot.endpointHosts[machine.endpoint]
        record.measure.destination = snapshot.endpointDestinations[position]
        endpoint = machine.endpoint
        let pool = worker.pools[endpoint]
        if record.log != nil { captureRoute(pool: pool) }
        responsePhase = .awaitingHead
        responseStarted = false
        if upstreamIsHTTP2 {
            beginHTTP2Upstream(pool: pool)
            return
        }
        upstreamHeadSent = 0
        requestSent = false
        attachUpstream(fresh: machine.freshConnection)
    }

    private func captureRoute(pool: EndpointPool?) {
        guard machine.cluster >= 0 else { return }
        record.captureRoute(route: snapshot.table.routes[machine.route].name,
                            cluster: snapshot.table.clusters[machine.cluster].name, pool: pool)
    }

    /// Appends relayed request body bytes to the mirror copies still collecting.
    func copyToMirrors(_ bytes: UnsafeRawBufferPointer) {
        for mirror in mirrors { mirror.appendBody(bytes) }
    }

    /// The request body is whole: the mirror copies are sent.
    func endMirrors() {
        for mirror in mirrors { mirror.requestEnded() }
        mirrors.removeAll(keepingCapacity: true)
    }

    /// The request will not be whole (the client went away): the copies are dropped.
    func abandonMirrors() {
        for mirror in mirrors { mirror.abandon() }
        mirrors.removeAll(keepingCapacity: true)
    }

    /// A connection of the exchange's cluster was freed while it waited as a pending request.
    func connectionFreed() {
        guard waitingForConnection else { return }
        waitingForConnection = false
        guard snapshot === worker.snapshot else {
            perform(.answer(.failure(.connectFailure)))  // the configuration was replaced meanwhile
            drive()
            return
        }
        attachUpstream(fresh: false)
        drive()
    }

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
            guard case .redirect(let redirect) = snapshot.table.routes[machine.route].action else { break }
            record.noteLocalAnswer(flags: machine.flags, details: "direct_response", machine: machine, snapshot: snapshot)
            respondLocally(status: redirect.code, body: "", close: requestHasBody, location: upstreamHead.readable)
        case .answer(let answer):
            dropTry()
            record.noteLocalAnswer(flags: answer.flags, details: answer.details, machine: machine, snapshot: snapshot)
            // A body the proxy did not read hides the next request: close after answering.
            if requestHasBody && !requestSent { closeAfterResponse = true }
            let extra = answer.corsHeaders ? machine.preflightChanges(snapshot: snapshot, origin: corsOrigin) : nil
            answer.body.withBytes { body in
                respondLocally(status: answer.status, body: body, close: closeAfterResponse, grpcStatus: answer.grpcStatus,
                               extra: extra)
            }
        case .abort(let flags):
            record.measure.flags.insert(flags)
            close()
        }
        worker.countStats(of: &machine, snapshot: snapshot)
        worker.schedule(deadline, at: machine.nextDeadline)
    }

    /// A deadline of the exchange passed (a route or per-try timeout, the end of a retry back-off).
    func deadlinePassed() {
        guard phase == .exchanging else { return }
        perform(machine.timerFired(now: worker.now, replayable: !bodyBytesForwarded, snapshot: snapshot,
                                   routing: &worker.routing))
        drive()
    }

    /// Lets go of the current try's upstream leg: its HTTP/1.1 connection is closed (it may hold an unread
    /// answer), its HTTP/2 stream reset.
    private func dropTry() {
        if waitingForConnection {
            waitingForConnection = false
            worker.cancelPending(deadline.owner, cluster: machine.cluster)
        }
        if let upstream = upstream2 {
            upstream2 = nil
            upstream.abandon(stream: upstreamStream)
            h2RequestLent = 0
        }
        dropUpstream()
    }

    /// Answers 301 with the same authority (without its port) and path under https, as Envoy's `https_redirect`.
    private func redirectToHTTPS(_ message: UnsafeRawBufferPointer) {
        var location = ByteBuffer(capacity: 256)
        defer { location.deallocate() }
        HeadRewriter.writeHTTPSLocation(head, message: message, into: &location)
        finishHead()
        record.measure.details = "direct_response"
        respondLocally(status: 301, body: "", close: requestHasBody, location: location.readable)
    }

    /// The upstream connection being opened for this exchange is established.
    func upstreamConnected(_ connection: UpstreamConnection) {
        machine.connected()
        worker.schedule(deadline, at: machine.nextDeadline)
        worker.noteUpstreamConnected(connection, record: &record)
        drive()
    }

    /// The upstream connection being opened for this exchange failed.
    func upstreamConnectFailed() {
        failExchange(.connectFailure)
        drive()
    }

    /// `Upgrade: h2c` on the first request of a cleartext connection: answer 101 and continue in HTTP/2, the request
    /// becoming stream 1. Returns false when the request does not qualify (it is then served as HTTP/1.1).
    private func upgradeToH2C() -> Bool {
        guard transport.tls == nil else { return false }
        let message = inbound.readable
        guard let settings = HTTP2Session.h2cUpgradeSettings(of: head, message: message) else { return false }
        let session: HTTP2Session
        do {
            session = try HTTP2Session.upgraded(from: head, message: message, settings: settings,
                                                configuration: worker.http2Configuration)
        } catch {
            return false
        }
        finishHead()
        let switching: StaticString = "HTTP/1.1 101 Switching Protocols\r\nconnection: Upgrade\r\nupgrade: h2c\r\n\r\n"
        let answer = UnsafeRawBufferPointer(start: switching.utf8Start, count: switching.utf8CodeUnitCount)
        guard case .success(let n) = transport.write(fd, answer, UnsafeRawBufferPointer(start: nil, count: 0)), n == answer.count else {
            close()
            return true
        }
        guard let connection = worker.upgradeToHTTP2(self, session: session) else {
            close()
            return true
        }
        connection.processEvents()
        connection.drive()
        return true
    }

    /// Drops the parsed head from `inbound`; its spans are stale afterwards.
    func finishHead() {
        inbound.consume(head.headLength)
        parser.reset()
    }

    /// Takes a pooled connection to the chosen endpoint (or opens one) for the current exchange.
    private func attachUpstream(fresh: Bool) {
        let connection: UpstreamConnection
        switch worker.acquireUpstream(endpoint: endpoint, fresh: fresh, cluster: machine.cluster, owner: deadline.owner) {
        case .connection(let acquired):
            connection = acquired
        case .failed:
            failExchange(.connectFailure)
            return
        case .wait:
            waitingForConnection = true
            return
        case .overflow:
            perform(machine.connectionOverflowed(routing: &worker.routing, now: worker.now))
            return
        }
        if connection.state != .connecting {
            worker.shard.upstreamConnectionReused(destination: record.measure.destination)
            if record.log != nil && !connection.localAddress.isEmpty { record.captureUpstreamLocalAddress(connection.localAddress) }
        }  // a new one is counted as opened once its connect succeeds
        connection.owner = .client(Unmanaged.passUnretained(self))
        if connection.state == .connecting {
            machine.connecting(snapshot: snapshot, now: worker.now)
            worker.schedule(deadline, at: machine.nextDeadline)
        } else {
            connection.state = .active
        }
        upstream = connection
    }

    // MARK: Relaying

    func stepExchange() -> Bool {
        if upstream2 != nil || h2ResponseEnded { return stepHTTP2Exchange() }
        guard let upstream else { return false }
        if (requestSent || upstream.state == .connecting) && clientWentAway() { return true }
        if upstream.state == .connecting { return false }
        var progressed = false
        if !requestSent {
            progressed = pumpRequest(upstream)
            if phase != .exchanging || self.upstream !== upstream { return true }
        }
        if pumpResponse(upstream) { return true }
        return progressed && phase == .exchanging
    }

    /// The exchange over an HTTP/2 upstream stream: lend the request body, write the response.
    private func stepHTTP2Exchange() -> Bool {
        if requestSent && !responseStarted && clientWentAway() { return true }
        let progressed = pumpRequestToHTTP2()
        if phase != .exchanging { return true }
        if pumpResponseFromHTTP2() { return true }
        return progressed && phase == .exchanging
    }

    /// Whether the client closed or reset its connection while its request is in flight: then, as Envoy and nginx
    /// do, the exchange is abandoned (counted with the response flag DC) and the upstream connection dropped. Bytes a
    /// client sends meanwhile (a pipelined request) are kept.
    private func clientWentAway() -> Bool {
        if !readClosed && canRead {
            inbound.compact()
            _ = readFromClient()
        }
        guard readClosed else { return false }
        record.measure.details = "downstream_remote_disconnect"
        close()
        return true
    }

    /// Client → upstream: the rewritten head, then the body straight from `inbound`.
    private func pumpRequest(_ upstream: UpstreamConnection) -> Bool {
        var progressed = false
        while true {
            if !requestBody.endIdentified && inbound.readableCount > requestBody.identified {
                do {
                    _ = try requestBody.identify(in: inbound.readable)
                } catch {
                    abortExchange(clientStatus: 400, body: error.reason)
                    return true
                }
            }
            let headLeft = upstreamHead.readableCount - upstreamHeadSent
            let bodyReady = requestBody.identified
            if headLeft == 0 && bodyReady == 0 {
                if requestBody.endIdentified {
                    if !mirrors.isEmpty { endMirrors() }
                    requestSent = true
                    return progressed
                }
                if readClosed {
                    // The client went away in the middle of its body: nothing can complete this exchange.
                    close()
                    return true
                }
                guard canRead else { return progressed }
                inbound.compact()
                guard readFromClient() else { return progressed }
                progressed = true
                continue
            }
            guard upstream.writable else { return progressed }
            let body = UnsafeRawBufferPointer(start: inbound.readable.baseAddress, count: bodyReady)
            let result: Result<Int, Errno>
            if headLeft > 0 {
                let head = UnsafeRawBufferPointer(rebasing: upstreamHead.readable[upstreamHeadSent...])
                result = upstream.write(head, body)
            } else {
                result = upstream.write(body, UnsafeRawBufferPointer(start: nil, count: 0))
            }
            switch result {
            case .success(let n):
                let fromHead = min(n, headLeft)
                upstreamHeadSent += fromHead
                let fromBody = n - fromHead
                if fromBody > 0 {
                    if !mirrors.isEmpty { copyToMirrors(UnsafeRawBufferPointer(start: body.baseAddress, count: fromBody)) }
                    inbound.consume(fromBody)
                    requestBody.forwarded(fromBody)
                    bodyBytesForwarded = true
                    record.measure.requestBytes &+= UInt64(fromBody)
                }
                if n < headLeft + bodyReady { upstream.writable = false }
                progressed = true
            case .failure(let error):
                upstream.writable = false
                if error == .wouldBlock { return progressed }
                failExchange(.connectionTermination)
                return true
            }
        }
    }

    /// Upstream → client: the response head (rewritten into `outbound`), then the body straight from the
    /// upstream's buffer.
    private func pumpResponse(_ upstream: UpstreamConnection) -> Bool {
        var progressed = false
        while true {
            switch responsePhase {
            case .awaitingHead:
                if !upstream.inbound.isEmpty {
                    let complete: Bool
                    do {
                        complete = try upstream.parseResponseHead(for: requestMethod)
                    } catch {
                        failExchange(.protocolError)
                        return true
                    }
                    if complete {
                        if startResponse(upstream) { progressed = true; continue }
                        return true
                    }
                }
                if !outbound.isEmpty && writable {
                    // An interim response (100 Continue) waits here.
                    if !flushOutboundForExchange() { return true }
                }
                if upstream.readClosed {
                    failExchange(upstream.inbound.isEmpty ? .connectionTermination : .protocolError)
                    return true
                }
                guard upstream.canRead, upstream.readSome(limit: worker.headLimits.maxHeadBytes + 1, io: worker.io) else { return progressed }
                progressed = true
            case .body:
                if !responseBody.endIdentified {
                    do {
                        let drop = try responseBody.identify(in: upstream.inbound.readable)
                        if drop > 0 {
                            upstream.inbound.consume(drop)
                            progressed = true
                            continue
                        }
                    } catch {
                        close()  // the head is out: all the client can learn is that the response broke off
                        return true
                    }
                }
                let bodyReady = responseBody.identified
                if outbound.isEmpty && bodyReady == 0 {
                    if responseBody.endIdentified {
                        finishExchange(upstream)
                        return true
                    }
                    if upstream.readClosed {
                        if responseBody.sourceClosed() { continue }
                        close()  // truncated: the upstream closed before the body's end
                        return true
                    }
                    guard upstream.canRead else { return progressed }
                    upstream.inbound.compact()
                    guard upstream.readSome(limit: 0, io: worker.io) else { return progressed }
                    progressed = true
                    continue
                }
                guard writable else { return progressed }
                let body = UnsafeRawBufferPointer(start: upstream.inbound.readable.baseAddress, count: bodyReady)
                let pending = outbound.readableCount
                let result = transport.write(fd, outbound.readable, body)
                switch result {
                case .success(let n):
                    let fromHead = min(n, pending)
                    outbound.consume(fromHead)
                    let fromBody = n - fromHead
                    if fromBody > 0 {
                        upstream.inbound.consume(fromBody)
                        responseBody.forwarded(fromBody)
                    }
                    if n < pending + bodyReady { writable = false }
                    record.measure.responseBytes &+= UInt64(n)
                    lastActivity = worker.now
                    progressed = true
                case .failure(let error):
                    writable = false
                    if error == .wouldBlock { return progressed }
                    close()
                    return true
                }
            }
        }
    }

    /// Handles a complete response head. Returns true to keep relaying, false when the exchange ended.
    private func startResponse(_ upstream: UpstreamConnection) -> Bool {
        let response = upstream.responseHead
        let message = upstream.inbound.readable
        if response.isInformational {
            guard response.status != 101 else {
                failExchange(.protocolError)  // no upgrade was asked for: Upgrade is not forwarded
                return false
            }
            if requestVersionMinor == 1 {
                outbound.append(UnsafeRawBufferPointer(rebasing: message[0..<response.headLength]))
            }
            upstream.inbound.consume(response.headLength)
            upstream.responseParser.reset()
            return true
        }
        if let retry = worker.acceptResponseHead(status: response.status, grpcStatus: nil, replayable: !bodyBytesForwarded,
                                                 machine: &machine, record: &record, snapshot: snapshot) {
            perform(retry)  // the answer goes with its connection
            return false
        }
        let dechunk = response.framing == .chunked && requestVersionMinor == 0
        if response.framing == .untilClose { closeAfterResponse = true }
        var adjustments = HeadRewriter.ResponseAdjustments()
        adjustments.dechunk = dechunk
        adjustments.close = closeAfterResponse || dechunk
        adjustments.keepAliveForHTTP10 = requestVersionMinor == 0 && !adjustments.close
        if dechunk { closeAfterResponse = true }  // the de-chunked body can only be delimited by closing
        HeadRewriter.writeClientResponse(response, message: message, adjustments: adjustments,
                                         changes: machine.changesResponse(snapshot) ? machine.responseChanges(snapshot: snapshot, origin: corsOrigin) : nil,
                                         into: &outbound)
        record.measure.responseCode = response.status
        record.measure.details = "via_upstream"
        record.measure.responseHeadBytes = UInt64(outbound.readableCount)
        record.measure.upstreamAnsweredNanoseconds = monotonicNanoseconds()
        upstream.inbound.consume(response.headLength)
        upstream.responseParser.reset()
        upstreamKeepAlive = response.keepAlive
        responseBody = BodyTracker(framing: response.framing, dechunk: dechunk)
        responsePhase = .body
        responseStarted = true
        return true
    }

    private func flushOutboundForExchange() -> Bool {
        switch transport.write(fd, outbound.readable, UnsafeRawBufferPointer(start: nil, count: 0)) {
        case .success(let n):
            if n < outbound.readableCount { writable = false }
            outbound.consume(n)
            return true
        case .failure(let error):
            writable = false
            if error == .wouldBlock { return true }
            close()
            return false
        }
    }

    // MARK: Ending an exchange

    /// The response was relayed whole: return the upstream connection to its pool when it can carry another
    /// request, then read the next request (or close).
    private func finishExchange(_ upstream: UpstreamConnection) {
        machine.responseEnded()
        worker.schedule(deadline, at: 0)
        self.upstream = nil
        upstream.owner = .none
        upstream.exchangesCompleted += 1
        let reusable = upstreamKeepAlive && requestSent && !upstream.readClosed && upstream.inbound.isEmpty
            && !responseBody.endsAtClose
        if reusable {
            worker.releaseUpstream(upstream)
        } else {
            worker.closeUpstream(upstream)
        }
        completeExchange()
    }

    /// Records the finished exchange, then reads the next request, or closes when the connection must not carry
    /// another (the client asked, the request body was not all read, a drain).
    func completeExchange() {
        if !mirrors.isEmpty { abandonMirrors() }
        if !requestSent { closeAfterResponse = true }
        record.end(worker: worker)
        if closeAfterResponse || worker.draining {
            startLingeringClose()
        } else {
            phase = .readingHead
            lastActivity = worker.now
        }
    }

    /// The try failed. Before the response began, the machine retries it (a stale pooled connection on a new
    /// connection, else as the route's retry policy says) or answers as Envoy does; after, the client connection
    /// is closed, since all it can learn is that the response broke off.
    func failExchange(_ failure: UpstreamFailure) {
        let wasPooled = (upstream?.exchangesCompleted ?? 0) > 0
        dropUpstream()
        if responseStarted {
            record.measure.flags.insert(.UC)
            close()
            return
        }
        perform(machine.upstreamFailed(failure, replayable: !bodyBytesForwarded, stalePooled: wasPooled,
                                       snapshot: snapshot, routing: &worker.routing, now: worker.now))
    }

    /// The client sent a body the proxy cannot relay (bad chunked framing): drop the upstream and answer, then close.
    private func abortExchange(clientStatus: Int, body: String) {
        dropUpstream()
        if responseStarted {
            close()
        } else {
            respondLocally(status: clientStatus, body: body, close: true)
        }
    }

    /// Closes the upstream connection of the exchange, which cannot carry another request.
    func dropUpstream() {
        guard let upstream else { return }
        self.upstream = nil
        upstream.owner = .none
        worker.closeUpstream(upstream)
    }
}
