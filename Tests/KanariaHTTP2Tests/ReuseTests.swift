import KanariaHTTP
import KanariaHTTP2
import Testing

/// A warm connection reuses what it allocated: slots, body blocks, buffers.
@Suite struct ReuseTests {
    /// A thousand exchanges one after another use one slot and one body block on each side, and nghttp2 makes
    /// a handful of allocations per request of its own (its stream, the response's frames, a copy of the fields).
    @Test func sequentialRequestsReuseOneSlot() throws {
        let wire = Wire()
        let body = Source(count: 1_000)
        var done = 0
        wire.onServerEvent = { event in
            switch event {
            case .request(let s):
                try wire.server.submitResponse(stream: s, headers: FlowControlTests.ok(), endStream: false)
                wire.server.offerBody(stream: s, body.bytes, endOfBody: true)
            case .data(let s): wire.server.consume(stream: s, count: wire.server.receivedBodyCount(stream: s))
            case .streamClosed(let s, _): wire.server.release(stream: s)
            default: break
            }
        }
        wire.onClientEvent = { event in
            switch event {
            case .data(let s): wire.client.consume(stream: s, count: wire.client.receivedBodyCount(stream: s))
            case .streamClosed(let s, _):
                wire.client.release(stream: s)
                done += 1
            default: break
            }
        }
        let block = ExchangeTests.postBlock("/", length: body.bytes.count)
        func exchange() throws {
            let stream = try wire.client.submitRequest(headers: block, method: .post, endStream: false)
            wire.client.offerBody(stream: stream, body.bytes, endOfBody: true)
            try wire.pump()
        }
        for _ in 0..<10 { try exchange() }
        let before = wire.server.nghttp2Allocations
        for _ in 0..<1_000 { try exchange() }
        #expect(done == 1_010)
        #expect(wire.server.slotsAllocated == 1 && wire.client.slotsAllocated == 1)
        #expect(wire.server.bodyBlocksAllocated == 1 && wire.client.bodyBlocksAllocated == 1)
        let perRequest = Double(wire.server.nghttp2Allocations - before) / 1_000
        #expect(perRequest <= 8, "nghttp2 allocations per request: \(perRequest)")
    }

    /// Fifty streams at once take fifty slots; once they have all ended each side keeps `slotsKeptIdle` for what
    /// comes next, and the next burst grows again and still completes.
    @Test func idleSessionGivesBackSlotsBeyondEight() throws {
        let wire = Wire()
        var done = 0
        wire.onServerEvent = { event in
            switch event {
            case .request(let s): try wire.server.submitResponse(stream: s, headers: FlowControlTests.ok(), endStream: true)
            case .streamClosed(let s, _): wire.server.release(stream: s)
            default: break
            }
        }
        wire.onClientEvent = { event in
            if case .streamClosed(let s, _) = event {
                wire.client.release(stream: s)
                done += 1
            }
        }
        let block = ExchangeTests.postBlock("/", length: 0)
        for round in 1...2 {
            for _ in 0..<50 { _ = try wire.client.submitRequest(headers: block, method: .get, endStream: true) }
            try wire.pump()
            #expect(done == 50 * round)
            #expect(wire.server.slotsAllocated == HTTP2Session.slotsKeptIdle)
            #expect(wire.client.slotsAllocated == HTTP2Session.slotsKeptIdle)
        }
    }
}
