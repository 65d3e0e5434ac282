import KanariaHTTP
import KanariaHTTP2
import KanariaPosix
import KanariaTelemetry

/// HTTP/1.1 in, HTTP/2 out: a request of an HTTP/1.1 client relayed on a stream of an h2c upstream connection.
/// The request body is lent to the upstream session from `inbound` (de-chunked when it came chunked); the response
/// is written to the client as HTTP/1.1, chunked when HTTP/2 gave no length, copied through `outbound` at most
/// 64 KiB ahead of the client.
extension DownstreamConnection {
    static let maxPendingResponseBytes = 64 * 1024

    /// Opens a stream for the current try on an h2c connection to the endpoint (the request's fields are in
    /// `h2Headers`, written once per exchange).
    func beginHTTP2Upstream(pool: EndpointPool) {
        requestSent = !requestHasBody
        h2RequestLent = 0
        h2ResponseChunked = false
        h2ResponseEnded = false
        guard let headers = h2Headers, let upstream = worker.acquireHTTP2Upstream(endpoint: machine.endpoint, destination: record.measure.destination),
              let stream = upstream.open(headers, method: requestMethod, endStream: requestSent,
                                         owner: .client(Unmanaged.passUnretained(self))) else {
            failExchange(.connectFailure)
            return
        }
        upstream2 = upstream
        upstreamStream = stream
        worker.shard.upstreamConnectionReused(destination: record.measure.destination)
        upstream.requestFlush()
    }

    /// Lends the request body in `inbound` to the upstream stream; reads more of it from the client.
    func pumpRequestToHTTP2() -> Bool {
        guard let upstream = upstream2, !requestSent else { return false }
        var progressed = false
        while true {
            do {
                if h2RequestLent == 0 {
                    let drop = try requestBody.identify(in: inbound.readable)
                    if drop > 0 {
                        inbound.consume(drop)
                        progressed = true
                        continue
                    }
                } else if !requestBody.endIdentified {
                    _ = try requestBody.identify(in: inbound.readable)
                }
            } catch {
                upstream.abandon(stream: upstreamStream)
                upstream2 = nil
                respondLocally(status: 400, body: error.reason, close: true)
                return true
            }
            let fresh = requestBody.identified - h2RequestLent
            if fresh > 0 {
                if !mirrors.isEmpty {
                    copyToMirrors(UnsafeRawBufferPointer(start: inbound.readable.baseAddress! + h2RequestLent, count: fresh))
                }
                upstream.session.offerBody(stream: upstreamStream,
                                           UnsafeRawBufferPointer(start: inbound.readable.baseAddress! + h2RequestLent, count: fresh))
                h2RequestLent += fresh
                bodyBytesForwarded = true
                record.measure.requestBytes &+= UInt64(fresh)
                progressed = true
                continue
            }
            if requestBody.endIdentified && requestBody.identified == 0 {
                if !mirrors.isEmpty { endMirrors() }
                upstream.session.finishBody(stream: upstreamStream)
                requestSent = true
                break
            }
            // More body from the client: only into the free tail while bytes are lent.
            guard canRead, !readClosed, inbound.writableCount > 0 || h2RequestLent == 0 else { break }
            if h2RequestLent == 0 { inbound.compact() }
            guard readFromClient() else { break }
            progressed = true
            if readClosed && !requestBody.endIdentified {
                close()
                return true
            }
        }
        upstream.requestFlush()
        return progressed
    }

    /// Writes the response in `outbound` to the client; finishes the exchange once the upstream ended and all is
    /// written. Returns true when the phase changed.
    func pumpResponseFromHTTP2() -> Bool {
        if !outbound.isEmpty && writable {
            switch transport.write(fd, outbound.readable, UnsafeRawBufferPointer(start: nil, count: 0)) {
            case .success(let n):
                if n < outbound.readableCount { writable = false }
                outbound.consume(n)
                record.measure.responseBytes &+= UInt64(n)
                lastActivity = worker.now
            case .failure(let error):
                writable = false
                if error != .wouldBlock {
                    close()
                    return true
                }
            }
        }
        if outbound.isEmpty && h2ResponseEnded {
            finishHTTP2Exchange()
            return true
        }
        if outbound.readableCount < Self.maxPendingResponseBytes { h2UpstreamData() }
        return false
    }

    private func finishHTTP2Exchange() {
        machine.responseEnded()
        worker.schedule(deadline, at: 0)
        if let upstream = upstream2 {
            upstream.release(stream: upstreamStream)
            upstream2 = nil
        }
        h2ResponseEnded = false
        completeExchange()
    }

    // MARK: Events from the upstream stream

    func h2UpstreamRequestBodyWritten(_ count: Int) {
        h2RequestLent -= count
        inbound.consume(count)
        requestBody.forwarded(count)
        drive()
    }

    func h2UpstreamResponse() {
        guard let upstream = upstream2, let view = upstream.session.response(stream: upstreamStream) else { return }
        let grpcStatus = view.value(ofField: "grpc-status").map(StreamExchange.decimal)
        switch machine.responseHead(status: view.head.status, grpcStatus: grpcStatus, replayable: !bodyBytesForwarded,
                                    snapshot: snapshot, routing: &worker.routing, now: worker.now) {
        case .relay(let flags):
            record.measure.flags.insert(flags)
            worker.countStats(of: &machine, snapshot: snapshot)
        case .none:
            break
        case let action:
            perform(action)
            drive()
            return
        }
        var adjustments = HeadRewriter.ResponseAdjustments()
        let hasLength = view.head.firstField(.contentLength) != nil
        let bodiless = requestMethod == .head || view.head.status == 204 || view.head.status == 304
        if !hasLength && !bodiless {
            if requestVersionMinor == 1 { h2ResponseChunked = true } else { closeAfterResponse = true }
        }
        adjustments.addChunked = h2ResponseChunked
        adjustments.close = closeAfterResponse
        adjustments.keepAliveForHTTP10 = requestVersionMinor == 0 && !closeAfterResponse
        HeadRewriter.writeClientResponse(view.head, message: view.message, adjustments: adjustments,
                                         changes: worker.responseChanges(machine, snapshot: snapshot, origin: corsOrigin),
                                         into: &outbound)
        record.measure.responseCode = view.head.status
        record.measure.details = "via_upstream"
        record.measure.upstreamAnsweredNanoseconds = monotonicNanoseconds()
        record.measure.responseHeadBytes = UInt64(outbound.readableCount)
        if let status = view.value(ofField: "grpc-status") { record.measure.grpcStatus = StreamExchange.decimal(status) }
        responseStarted = true
        responsePhase = .body
        drive()
    }

    /// Copies response body bytes from the upstream session into `outbound` (as chunks when chunked).
    func h2UpstreamData() {
        guard let upstream = upstream2, responseStarted else { return }
        var copied = 0
        while outbound.readableCount < Self.maxPendingResponseBytes {
            let run = upstream.session.receivedBody(stream: upstreamStream)
            guard !run.isEmpty else { break }
            let n = min(run.count, Self.maxPendingResponseBytes)
            if h2ResponseChunked {
                outbound.append(hex: n)
                outbound.append("\r\n")
            }
            outbound.append(UnsafeRawBufferPointer(rebasing: run[0..<n]))
            if h2ResponseChunked { outbound.append("\r\n") }
            upstream.session.consume(stream: upstreamStream, count: n)
            copied += n
        }
        if copied > 0 {
            upstream.requestFlush()
            if phase == .exchanging { drive() }
        }
    }

    func h2UpstreamEnded() {
        guard let upstream = upstream2, responseStarted, !h2ResponseEnded else { return }
        h2UpstreamData()
        guard upstream.session.receivedBodyCount(stream: upstreamStream) == 0 else { return }
        if h2ResponseChunked {
            outbound.append("0\r\n")
            if let trailers = upstream.session.trailers(stream: upstreamStream) {
                if let status = trailers.value(ofField: "grpc-status") { record.measure.grpcStatus = StreamExchange.decimal(status) }
                for field in trailers.fields { outbound.append(field.line.bytes(in: trailers.message)) }
            }
            outbound.append("\r\n")
        }
        h2ResponseEnded = true
        drive()
    }

    func h2UpstreamStreamClosed(_ error: HTTP2ErrorCode) {
        guard upstream2 != nil else { return }
        if error == .noError {
            if !h2ResponseEnded && responseStarted { h2UpstreamEnded() }
            if h2ResponseEnded { return }
        }
        h2UpstreamConnectionFailed(error == .refusedStream ? .refusedStream : .connectionTermination)
    }

    func h2UpstreamConnectionFailed(_ failure: UpstreamFailure) {
        if let upstream = upstream2 {
            upstream.release(stream: upstreamStream)
            upstream2 = nil
        }
        h2RequestLent = 0
        failExchange(failure)
        drive()
    }
}
