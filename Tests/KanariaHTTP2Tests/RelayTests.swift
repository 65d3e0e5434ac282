import KanariaHTTP
import KanariaHTTP2
import Testing

/// The shape the proxy takes with HTTP/2 on both sides: a server session for the client, a client session for
/// the upstream, and body bytes passed from one to the other where they were received, never copied.
final class Relay {
    let downstream: HTTP2Session  // the proxy's server session
    let upstream: HTTP2Session  // the proxy's client session
    var upstreamOf: [Int32: Int32] = [:]
    var downstreamOf: [Int32: Int32] = [:]
    /// Received bytes of a stream already offered to the other session (and not yet consumed).
    var offeredDown: [Int32: Int] = [:]  // downstream request bytes offered upstream, by downstream stream
    var offeredUp: [Int32: Int] = [:]  // upstream response bytes offered downstream, by upstream stream
    var closed: Set<Int32> = []  // downstream streams whose upstream or downstream side closed (tagged below)
    var closedUp: Set<Int32> = []
    var sawBorrowedRun = false

    init(downstream: HTTP2Session, upstream: HTTP2Session) {
        self.downstream = downstream
        self.upstream = upstream
    }

    func onDownstream(_ event: HTTP2Event) throws {
        switch event {
        case .request(let s):
            let view = downstream.request(stream: s)!
            let up = try upstream.submitRequest(head: view.head, message: view.message, endStream: false)
            upstreamOf[s] = up
            downstreamOf[up] = s
            offeredDown[s] = 0
        case .data(let s):
            try forwardRequestBody(s)
        case .endOfStream(let s):
            try forwardRequestBody(s)
            if downstream.trailers(stream: s) == nil { upstream.finishBody(stream: upstreamOf[s]!) }
        case .trailers(let s):
            try forwardRequestBody(s)
            let trailers = downstream.trailers(stream: s)!
            try upstream.submitTrailers(stream: upstreamOf[s]!, fields: trailers.fields, message: trailers.message)
        case .bodyWritten(let s, let n):
            // Response bytes went to the client: the upstream stream can let its server send more.
            let up = upstreamOf[s]!
            upstream.consume(stream: up, count: n)
            offeredUp[up]! -= n
        case .streamClosed(let s, let error):
            if error != .noError, let up = upstreamOf[s] { upstream.reset(stream: up) }
            closed.insert(s)
            releaseIfBothClosed(s)
        default:
            break
        }
    }

    func onUpstream(_ event: HTTP2Event) throws {
        switch event {
        case .response(let up):
            let view = upstream.response(stream: up)!
            try downstream.submitResponse(stream: downstreamOf[up]!, head: view.head, message: view.message, endStream: false)
            offeredUp[up] = 0
        case .data(let up):
            try forwardResponseBody(up)
        case .endOfStream(let up):
            try forwardResponseBody(up)
            if upstream.trailers(stream: up) == nil { downstream.finishBody(stream: downstreamOf[up]!) }
        case .trailers(let up):
            try forwardResponseBody(up)
            let trailers = upstream.trailers(stream: up)!
            try downstream.submitTrailers(stream: downstreamOf[up]!, fields: trailers.fields, message: trailers.message)
        case .bodyWritten(let up, let n):
            let s = downstreamOf[up]!
            downstream.consume(stream: s, count: n)
            offeredDown[s]! -= n
        case .streamClosed(let up, let error):
            let s = downstreamOf[up]!
            if error != .noError { downstream.reset(stream: s, error: .internalError) }
            closedUp.insert(s)
            releaseIfBothClosed(s)
        default:
            break
        }
    }

    /// Offers the request bytes received since the last offer, run by run, where they lie in the downstream
    /// session's buffer.
    private func forwardRequestBody(_ s: Int32) throws {
        let up = upstreamOf[s]!
        while offeredDown[s]! < downstream.receivedBodyCount(stream: s) {
            let run = downstream.receivedBody(stream: s, from: offeredDown[s]!)
            upstream.offerBody(stream: up, run)
            offeredDown[s]! += run.count
            if !sawBorrowedRun {
                // The upstream's output now points into the downstream's buffer.
                try upstream.prepareOutput()
                var chunks: [UnsafeRawBufferPointer] = []
                upstream.gatherOutput(into: &chunks)
                sawBorrowedRun = chunks.contains { $0.baseAddress == run.baseAddress }
            }
        }
    }

    private func forwardResponseBody(_ up: Int32) throws {
        let s = downstreamOf[up]!
        while offeredUp[up]! < upstream.receivedBodyCount(stream: up) {
            let run = upstream.receivedBody(stream: up, from: offeredUp[up]!)
            downstream.offerBody(stream: s, run)
            offeredUp[up]! += run.count
        }
    }

    /// Each side's received bytes are the other side's source: release both once both have closed (each close
    /// is reported only after the bytes offered into it were written).
    private func releaseIfBothClosed(_ s: Int32) {
        guard closed.contains(s), closedUp.contains(s), let up = upstreamOf[s] else { return }
        downstream.release(stream: s)
        upstream.release(stream: up)
        upstreamOf[s] = nil
        downstreamOf[up] = nil
    }
}

@Suite struct RelayTests {
    /// Ten gRPC-like calls with 300 KB each way pass through the relay intact, trailers included, with flow
    /// control on both sides and no body byte copied by the relay.
    @Test func bodiesAndTrailersPassThroughWithoutCopies() throws {
        let front = Wire()  // client ↔ proxy's server session
        let back = Wire()  // proxy's client session ↔ upstream
        let relay = Relay(downstream: front.server, upstream: back.client)
        front.onServerEvent = { try relay.onDownstream($0) }
        back.onClientEvent = { try relay.onUpstream($0) }

        // The upstream echoes each request body with grpc-status trailers.
        var echo: [Int32: [UInt8]] = [:]
        var echoSources: [Int32: Source] = [:]
        back.onServerEvent = { event in
            switch event {
            case .data(let s): echo[s, default: []] += back.server.takeBody(stream: s)
            case .endOfStream(let s):
                let source = Source(count: echo[s]!.count)
                for (i, b) in echo[s]!.enumerated() { source.pointer[i] = b }
                echoSources[s] = source
                let block = HTTP2HeaderBlock()
                block.append(name: ":status", decimal: 200)
                block.append(name: "content-type", value: "application/grpc")
                try back.server.submitResponse(stream: s, headers: block, endStream: false)
                back.server.offerBody(stream: s, source.bytes)
                let trailers = HTTP2HeaderBlock()
                trailers.append(name: "grpc-status", value: "0")
                try back.server.submitTrailers(stream: s, headers: trailers)
            case .streamClosed(let s, _): back.server.release(stream: s)
            default: break
            }
        }

        var sources: [Int32: Source] = [:]
        var received: [Int32: [UInt8]] = [:]
        var grpcStatus: [Int32: String] = [:]
        var closedOK = 0
        front.onClientEvent = { event in
            switch event {
            case .data(let s): received[s, default: []] += front.client.takeBody(stream: s)
            case .trailers(let s):
                grpcStatus[s] = front.client.trailers(stream: s)?.value(ofField: "grpc-status").map { String(decoding: $0, as: UTF8.self) }
            case .streamClosed(let s, let error):
                if error == .noError { closedOK += 1 }
                front.client.release(stream: s)
            default: break
            }
        }
        for i in 0..<10 {
            let source = Source(count: 300_000, seed: UInt8(i))
            let block = ExchangeTests.postBlock("/pkg.Echo/Call", length: nil, extra: [("te", "trailers"), ("content-type", "application/grpc")])
            let stream = try front.client.submitRequest(headers: block, method: .post, endStream: false)
            front.client.offerBody(stream: stream, source.bytes, endOfBody: true)
            sources[stream] = source
        }
        for _ in 0..<10_000 {
            try front.pump()
            try back.pump()
            if closedOK == 10 && front.server.activeStreams == 0 && back.client.activeStreams == 0 { break }
        }
        #expect(closedOK == 10)
        for (stream, source) in sources {
            #expect(received[stream] == Array(source.bytes), "stream \(stream)")
            #expect(grpcStatus[stream] == "0")
        }
        #expect(relay.sawBorrowedRun)
        #expect(front.server.counters.bodyBytesCopied == 0)
        #expect(back.client.counters.bodyBytesCopied == 0)
        #expect(front.server.activeStreams == 0 && back.client.activeStreams == 0 && back.server.activeStreams == 0)
    }
}
