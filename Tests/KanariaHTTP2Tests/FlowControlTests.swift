import KanariaHTTP
import KanariaHTTP2
import Testing

/// Flow control tied to the proxy's progress, and DATA sent from the caller's own bytes.
@Suite struct FlowControlTests {
    /// An upload stops at the stream window until the server consumes, then resumes by what was consumed.
    @Test func uploadProgressesOnlyAsTheServerConsumes() throws {
        let wire = Wire()
        let upload = Source(count: 1 << 20)
        let stream = try wire.client.submitRequest(headers: ExchangeTests.postBlock("/upload", length: upload.bytes.count), method: .post, endStream: false)
        wire.client.offerBody(stream: stream, upload.bytes, endOfBody: true)
        var written = 0
        wire.onClientEvent = { event in
            if case .bodyWritten(_, let n) = event { written += n }
        }
        try wire.pump()
        #expect(wire.server.receivedBodyCount(stream: stream) == 65_535)
        #expect(written == 65_535)
        #expect(wire.client.unwrittenBodyCount(stream: stream) == upload.bytes.count - 65_535)

        // nghttp2 sends WINDOW_UPDATE once half the window (32,767 bytes) has been consumed, for all consumed.
        var received = takeSome(wire.server, stream: stream, count: 30_000)
        try wire.pump()
        #expect(wire.server.receivedBodyCount(stream: stream) == 35_535)
        #expect(written == 65_535)
        received += takeSome(wire.server, stream: stream, count: 2_768)
        try wire.pump()
        #expect(wire.server.receivedBodyCount(stream: stream) == 65_535)
        #expect(written == 65_535 + 32_768)

        var ended = false
        wire.onServerEvent = { if case .endOfStream = $0 { ended = true } }
        while !ended || wire.server.receivedBodyCount(stream: stream) > 0 {
            #expect(wire.server.receivedBodyCount(stream: stream) <= 65_535)
            received += takeSome(wire.server, stream: stream, count: 20_000)
            try wire.pump()
        }
        #expect(received == Array(upload.bytes))
        #expect(written == upload.bytes.count)
    }

    /// Streams that are not consumed fill the connection window and no more: 1 MiB buffered in all.
    @Test func connectionWindowBoundsAllStreams() throws {
        let wire = Wire()
        let upload = Source(count: 100_000)
        var streams: [Int32] = []
        for _ in 0..<20 {
            let stream = try wire.client.submitRequest(headers: ExchangeTests.postBlock("/", length: upload.bytes.count), method: .post, endStream: false)
            wire.client.offerBody(stream: stream, upload.bytes, endOfBody: true)
            streams.append(stream)
        }
        try wire.pump()
        let buffered = streams.map { wire.server.receivedBodyCount(stream: $0) }
        #expect(buffered.allSatisfy { $0 <= 65_535 })
        #expect(buffered.reduce(0, +) == HTTP2Configuration().connectionWindowSize)
        // Received bytes sit in 16 KiB pool blocks: about one per 16 KiB buffered, plus a partial one per stream.
        #expect(wire.server.bodyBlocksAllocated <= (1 << 20) / (16 * 1024) + 20)
    }

    /// The DATA payload in the output is the caller's memory itself, frame by frame; only frame headers are owned.
    @Test func dataIsSentFromTheOfferedBytes() throws {
        let wire = Wire()
        let stream = try wire.client.submitRequest(headers: ExchangeTests.getBlock("/big"), method: .get, endStream: true)
        let body = Source(count: 100_000)
        wire.onServerEvent = { event in
            if case .request(let s) = event {
                let block = HTTP2HeaderBlock()
                block.append(name: ":status", decimal: 200)
                try wire.server.submitResponse(stream: s, headers: block, endStream: false)
                wire.server.offerBody(stream: s, body.bytes, endOfBody: true)
            }
        }
        try wire.transfer(from: wire.client, to: wire.server)
        try wire.drainEvents()
        try wire.server.prepareOutput()
        var chunks: [UnsafeRawBufferPointer] = []
        let total = wire.server.gatherOutput(into: &chunks)
        let base = body.bytes.baseAddress!
        let borrowed = chunks.filter { $0.baseAddress! >= base && $0.baseAddress! < base + body.bytes.count }
        // The client's stream window (65,535) allows four frames: 16,384 × 3 + 16,383, in order, at their offsets.
        #expect(borrowed.map(\.count) == [16_384, 16_384, 16_384, 16_383])
        #expect(borrowed.map { $0.baseAddress! - base } == [0, 16_384, 32_768, 49_152])
        #expect(total - borrowed.reduce(0) { $0 + $1.count } < 200)  // SETTINGS, HEADERS and frame headers

        wire.server.didWrite(total - 100)  // a short write: the last 100 bytes of the fourth frame stay queued
        var written: [HTTP2Event] = []
        while let event = wire.server.nextEvent() { written.append(event) }
        #expect(written == [.bodyWritten(stream: stream, count: 65_435)])
        #expect(wire.server.unwrittenBodyCount(stream: stream) == body.bytes.count - 65_435)
        #expect(wire.server.gatherOutput(into: &chunks) == 100)
        #expect(chunks.map { $0.baseAddress! - base } == [65_435])
    }

    /// With writes of 1,000 bytes at most, every body byte is reported written exactly once.
    @Test func partialWritesReportBodyBytesExactly() throws {
        let wire = Wire()
        wire.writeLimit = 1_000
        let body = Source(count: 200_000)
        let stream = try wire.client.submitRequest(headers: ExchangeTests.getBlock("/"), method: .get, endStream: true)
        var reported = 0
        wire.onServerEvent = { event in
            switch event {
            case .request(let s):
                try wire.server.submitResponse(stream: s, headers: Self.ok(), endStream: false)
                wire.server.offerBody(stream: s, body.bytes, endOfBody: true)
            case .bodyWritten(_, let n): reported += n
            case .streamClosed(let s, _): wire.server.release(stream: s)
            default: break
            }
        }
        var received: [UInt8] = []
        wire.onClientEvent = { event in
            if case .data(let s) = event { received += wire.client.takeBody(stream: s) }
        }
        try wire.pump()
        #expect(reported == body.bytes.count)
        #expect(received == Array(body.bytes))
        #expect(wire.server.counters.bodyBytesCopied == 0)  // released on .streamClosed: nothing left to copy
        #expect(wire.client.response(stream: stream)?.head.framing == .chunked)
    }

    /// A stream with nothing offered waits (deferred) and resumes when bytes are offered.
    @Test func deferredStreamResumesWhenMoreIsOffered() throws {
        let wire = Wire()
        let body = Source("first,second")
        let stream = try wire.client.submitRequest(headers: ExchangeTests.getBlock("/"), method: .get, endStream: true)
        var serverStream: Int32 = 0
        wire.onServerEvent = { event in
            if case .request(let s) = event {
                serverStream = s
                try wire.server.submitResponse(stream: s, headers: Self.ok(), endStream: false)
            }
        }
        var events: [HTTP2Event] = []
        var received: [UInt8] = []
        wire.onClientEvent = { event in
            events.append(event)
            if case .data(let s) = event { received += wire.client.takeBody(stream: s) }
        }
        try wire.pump()
        #expect(events == [.response(stream: stream)])
        wire.server.offerBody(stream: serverStream, body.slice(0..<6))
        try wire.pump()
        #expect(String(decoding: received, as: UTF8.self) == "first,")
        wire.server.offerBody(stream: serverStream, body.slice(6..<12))
        try wire.pump()
        wire.server.finishBody(stream: serverStream)
        try wire.pump()
        #expect(String(decoding: received, as: UTF8.self) == "first,second")
        #expect(events.suffix(2) == [.endOfStream(stream: stream), .streamClosed(stream: stream, error: .noError)])
    }

    /// Releasing a stream whose response is queued copies the queued bytes: its source can be reused at once.
    @Test func releaseCopiesQueuedBodyBytes() throws {
        let wire = Wire()
        let body = Source(count: 40_000, seed: 7)
        let expected = Array(body.bytes)
        let stream = try wire.client.submitRequest(headers: ExchangeTests.getBlock("/"), method: .get, endStream: true)
        wire.onServerEvent = { event in
            if case .request(let s) = event {
                try wire.server.submitResponse(stream: s, headers: Self.ok(), endStream: false)
                wire.server.offerBody(stream: s, body.bytes, endOfBody: true)
                try wire.server.prepareOutput()  // frames now reference `body`
                wire.server.release(stream: s)
                for i in 0..<body.pointer.count { body.pointer[i] = 0 }  // the source is reused
            }
        }
        var received: [UInt8] = []
        wire.onClientEvent = { event in
            if case .data(let s) = event { received += wire.client.takeBody(stream: s) }
        }
        try wire.pump()
        #expect(received == expected)
        #expect(wire.server.counters.bodyBytesCopied == 40_000)
        #expect(wire.client.response(stream: stream)?.head.status == 200)
        #expect(wire.server.activeStreams == 0)
    }

    /// Output stops at the output limit until the caller writes; nothing is lost.
    @Test func outputLimitHoldsBackFrames() throws {
        var configuration = HTTP2Configuration()
        configuration.outputLimit = 20_000
        let wire = Wire(server: configuration)
        let body = Source(count: 60_000)
        _ = try wire.client.submitRequest(headers: ExchangeTests.getBlock("/"), method: .get, endStream: true)
        try wire.transfer(from: wire.client, to: wire.server)
        try wire.drainEvents()
        wire.server.offerBody(stream: 1, body.bytes, endOfBody: true)
        try wire.server.submitResponse(stream: 1, headers: Self.ok(), endStream: false)
        try wire.server.prepareOutput()
        #expect(wire.server.pendingOutputBytes <= 20_000 + 16_384 + 9)
        #expect(wire.server.pendingOutputBytes < 60_000)
        var received: [UInt8] = []
        wire.onClientEvent = { event in
            if case .data(let s) = event { received += wire.client.takeBody(stream: s) }
        }
        try wire.pump()
        #expect(received == Array(body.bytes))
    }

    static func takeSome(_ session: HTTP2Session, stream: Int32, count: Int) -> [UInt8] {
        var out: [UInt8] = []
        while out.count < count && session.receivedBodyCount(stream: stream) > 0 {
            let run = session.receivedBody(stream: stream)
            let n = min(run.count, count - out.count)
            out += run.prefix(n)
            session.consume(stream: stream, count: n)
        }
        return out
    }

    private func takeSome(_ session: HTTP2Session, stream: Int32, count: Int) -> [UInt8] {
        Self.takeSome(session, stream: stream, count: count)
    }

    static func ok() -> HTTP2HeaderBlock {
        let block = HTTP2HeaderBlock()
        block.append(name: ":status", decimal: 200)
        return block
    }
}
