import KanariaHTTP
import KanariaHTTP2
import KanariaPosix
import KanariaTelemetry

/// HTTP/2 in, HTTP/2 out: a client stream relayed to a stream of an h2c upstream connection (gRPC). Response bodies
/// are lent from the upstream session's receive blocks to the client session (NO_COPY) and consumed upstream when
/// written; trailers (`grpc-status`) are relayed as trailers. Request bodies are copied into `upstreamOut`, at most
/// 64 KiB ahead, so that the two sessions never lend each other bytes in both directions (which would make it
/// impossible to release either stream first).
extension StreamExchange {
    /// Opens a stream for the current try on an h2c connection to the endpoint (the request's fields are in
    /// `headers`, written once per exchange).
    func beginHTTP2Upstream(pool: EndpointPool) {
        upstreamStreamEnded = false
        responseLentFromUpstream = 0
        requestBodyLent = 0
        guard let upstream = worker.acquireHTTP2Upstream(endpoint: machine.endpoint, destination: record.measure.destination),
              let stream = upstream.open(headers, method: requestMethod, endStream: !requestHasBody,
                                         owner: .stream(Unmanaged.passUnretained(self))) else {
            upstreamFailed(.connectFailure)
            return
        }
        upstream2 = upstream
        upstreamStream = stream
        worker.shard.upstreamConnectionReused(destination: record.measure.destination)
        if !requestHasBody { requestEndQueued = true }
        upstream.requestFlush()
    }

    /// Copies request body bytes from the client session into `upstreamOut` and offers them upstream.
    func pumpRequestHTTP2() {
        guard let upstream = upstream2, !requestEndQueued else { return }
        var copied = false
        while true {
            let run = session.receivedBody(stream: stream)
            guard !run.isEmpty else { break }
            // Lent bytes must not move: grow or compact the buffer only when nothing in it is lent.
            if requestBodyLent == 0 {
                upstreamOut.clear()
                upstreamOut.reserve(min(run.count, Self.maxPendingRequestBytes))
            }
            let n = min(run.count, upstreamOut.writableCount, Self.maxPendingRequestBytes - requestBodyLent)
            guard n > 0 else { break }
            let start = upstreamOut.writeIndex
            upstreamOut.append(UnsafeRawBufferPointer(rebasing: run[0..<n]))
            for mirror in mirrors { mirror.appendBody(UnsafeRawBufferPointer(rebasing: run[0..<n])) }
            session.consume(stream: stream, count: n)
            upstream.session.offerBody(stream: upstreamStream,
                                       UnsafeRawBufferPointer(start: upstreamOut.base + start, count: n))
            requestBodyLent += n
            requestBytesWritten = true
            record.measure.requestBytes &+= UInt64(n)
            copied = true
        }
        if requestEndReceived && session.receivedBodyCount(stream: stream) == 0 {
            upstream.session.finishBody(stream: upstreamStream)
            requestEndQueued = true
            endMirrors()
        }
        if copied { connection.requestFlush() }  // the client's window reopens
        upstream.requestFlush()
    }

    // MARK: Events from the upstream stream

    func upstreamRequestBodyWritten(_ count: Int) {
        requestBodyLent -= count
        upstreamOut.consume(count)
        pumpRequestHTTP2()
    }

    func upstreamInformational() {
        guard let upstream = upstream2, let view = upstream.session.response(stream: upstreamStream) else { return }
        try? session.submitResponse(stream: stream, head: view.head, message: view.message, endStream: false)
        connection.requestFlush()
    }

    /// The upstream's response head arrived. It is submitted to the client once it is known whether the stream
    /// ended with it (gRPC's trailers-only answers must stay a single HEADERS frame with END_STREAM): at the next
    /// body or end event, or when the upstream connection has handled everything it read.
    func upstreamResponse() {
        guard let upstream = upstream2, let view = upstream.session.response(stream: upstreamStream) else { return }
        let grpcStatus = view.value(ofField: "grpc-status").map(Self.decimal)
        if let snapshot {
            switch machine.responseHead(status: view.head.status, grpcStatus: grpcStatus, replayable: replayable,
                                        snapshot: snapshot, routing: &worker.routing, now: worker.now) {
            case .relay(let flags):
                record.measure.flags.insert(flags)
                worker.countStats(of: &machine, snapshot: snapshot)
            case .none: break
            case let action:
                perform(action)  // retried: the stream is reset
                connection.requestFlush()
                return
            }
        }
        responseHeadPending = true
        upstream.notePendingHead(self)
        record.measure.responseCode = view.head.status
        record.measure.details = "via_upstream"
        record.measure.upstreamAnsweredNanoseconds = monotonicNanoseconds()
        record.measure.responseHeadBytes = UInt64(view.head.headLength)
        record.measure.responseBytes &+= UInt64(view.head.headLength)
        if let grpcStatus { record.measure.grpcStatus = grpcStatus }
        responsePhase = .body
    }

    /// Submits the response head held back by `upstreamResponse`.
    func submitPendingHead(endStream: Bool) {
        guard responseHeadPending, let upstream = upstream2,
              let view = upstream.session.response(stream: upstreamStream) else { return }
        responseHeadPending = false
        do throws(HTTP2Error) {
            try submitResponseHead(view.head, message: view.message, endStream: endStream)
        } catch {
            resetStream()
        }
        if endStream { responsePhase = .done }
        connection.requestFlush()
    }

    func upstreamData() {
        guard let upstream = upstream2 else { return }
        submitPendingHead(endStream: false)
        var offered = false
        while true {
            let run = upstream.session.receivedBody(stream: upstreamStream, from: responseLentFromUpstream)
            guard !run.isEmpty else { break }
            session.offerBody(stream: stream, run)
            responseLentFromUpstream += run.count
            offered = true
        }
        if offered { connection.requestFlush() }
    }

    func upstreamTrailers() {
        guard let upstream = upstream2 else { return }
        upstreamData()
        if let trailers = upstream.session.trailers(stream: upstreamStream) {
            if let status = trailers.value(ofField: "grpc-status") { record.measure.grpcStatus = Self.decimal(status) }
            do throws(HTTP2Error) {
                try session.submitTrailers(stream: stream, fields: trailers.fields, message: trailers.message)
            } catch {
                session.finishBody(stream: stream)
            }
        } else {
            session.finishBody(stream: stream)
        }
        responsePhase = .done
        connection.requestFlush()
    }

    func upstreamEnded() {
        guard responsePhase != .done else { return }
        if responseHeadPending, let upstream = upstream2,
           upstream.session.receivedBodyCount(stream: upstreamStream) == 0 {
            submitPendingHead(endStream: true)  // a trailers-only answer
            return
        }
        upstreamData()
        session.finishBody(stream: stream)
        responsePhase = .done
        connection.requestFlush()
    }

    /// The client session wrote `count` response bytes lent from the upstream session: consume them there.
    func responseBytesWrittenFromHTTP2Upstream(_ count: Int) {
        responseLentFromUpstream -= count
        record.measure.responseBytes &+= UInt64(count)
        guard let upstream = upstream2 else { return }
        upstream.session.consume(stream: upstreamStream, count: count)
        if upstreamStreamEnded && responseLentFromUpstream == 0 { releaseHTTP2UpstreamStream() }
        upstream.requestFlush()
    }

    /// The upstream stream closed. Normally the response has all been relayed (or is still being written from
    /// its blocks: then it is released once written); if it was reset, the client's stream fails as Envoy's would.
    func upstreamStreamClosed(_ error: HTTP2ErrorCode) {
        upstreamStreamEnded = true
        if error != .noError && responsePhase != .done {
            if responsePhase == .awaitingHead {
                releaseHTTP2UpstreamStream()
                upstream2 = nil
                upstreamFailed(error == .refusedStream ? .refusedStream : .connectionTermination)
                return
            }
            record.measure.flags.insert(.UC)
            resetStream()
            connection.requestFlush()
        }
        if responseLentFromUpstream == 0 { releaseHTTP2UpstreamStream() }
    }

    /// The whole upstream connection failed.
    func upstreamConnectionFailed(_ failure: UpstreamFailure) {
        upstreamStreamEnded = true
        guard responsePhase != .done || responseLentFromUpstream > 0 else {
            upstream2 = nil
            return
        }
        if responsePhase == .awaitingHead {
            upstream2 = nil
            upstreamFailed(failure)
            return
        }
        // Mid-response: the client's stream is reset; releasing it takes back what it was lent.
        record.measure.flags.insert(.UC)
        resetStream()
        session.release(stream: stream)
        releasedDownstreamEarly = true
        responseLentFromUpstream = 0
        upstream2 = nil
        connection.requestFlush()
    }

    /// Releases the upstream stream (once nothing of it is lent to the client session).
    func releaseHTTP2UpstreamStream() {
        guard let upstream = upstream2, upstreamStream != 0 else { return }
        upstream.release(stream: upstreamStream)
        upstreamStream = 0
    }

    /// The client stream closed (or the connection is going away): the upstream stream goes too. The client
    /// stream has already been released, so nothing of the upstream's is lent any more.
    func dropHTTP2Upstream() {
        guard let upstream = upstream2 else { return }
        upstream2 = nil
        if upstreamStream != 0 {
            if upstreamStreamEnded {
                upstream.release(stream: upstreamStream)
            } else {
                upstream.abandon(stream: upstreamStream)
            }
            upstreamStream = 0
        }
    }

    static func decimal(_ bytes: UnsafeRawBufferPointer) -> Int {
        var value = 0
        for c in bytes where c >= 48 && c <= 57 { value = value * 10 + Int(c - 48) }
        return value
    }
}
