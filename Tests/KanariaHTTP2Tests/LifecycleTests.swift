import KanariaHTTP
import KanariaHTTP2
import Testing

/// Streams and connections ending: resets either way, GOAWAY with streams in flight, early responses.
@Suite struct LifecycleTests {
    /// A client's RST_STREAM reaches the server as a closed stream; both sides free their slots.
    @Test func clientResetClosesTheServerStream() throws {
        let wire = Wire()
        let stream = try wire.client.submitRequest(headers: ExchangeTests.postBlock("/", length: nil), method: .post, endStream: false)
        var serverEvents: [HTTP2Event] = []
        wire.onServerEvent = { event in
            serverEvents.append(event)
            if case .streamClosed(let s, _) = event { wire.server.release(stream: s) }
        }
        var clientEvents: [HTTP2Event] = []
        wire.onClientEvent = { event in
            clientEvents.append(event)
            if case .streamClosed(let s, _) = event { wire.client.release(stream: s) }
        }
        try wire.pump()
        #expect(serverEvents == [.request(stream: stream)])
        wire.client.reset(stream: stream, error: .cancel)
        try wire.pump()
        #expect(serverEvents == [.request(stream: stream), .streamClosed(stream: stream, error: .cancel)])
        #expect(clientEvents == [.streamClosed(stream: stream, error: .cancel)])
        #expect(wire.server.activeStreams == 0 && wire.client.activeStreams == 0)
        #expect(wire.server.counters.prematureResets == 1)
    }

    /// A server's RST_STREAM (an upstream failed mid-response) reaches the client with its error code.
    @Test func serverResetReachesTheClient() throws {
        let wire = Wire()
        let stream = try wire.client.submitRequest(headers: ExchangeTests.getBlock("/"), method: .get, endStream: true)
        let body = Source(count: 10)
        wire.onServerEvent = { event in
            switch event {
            case .request(let s):
                try wire.server.submitResponse(stream: s, headers: FlowControlTests.ok(), endStream: false)
                wire.server.offerBody(stream: s, body.bytes)
            case .bodyWritten(let s, _):
                wire.server.reset(stream: s, error: .internalError)
            case .streamClosed(let s, let error):
                #expect(error == .internalError)
                wire.server.release(stream: s)
            default: break
            }
        }
        var clientEvents: [HTTP2Event] = []
        wire.onClientEvent = { clientEvents.append($0) }
        try wire.pump()
        #expect(clientEvents == [.response(stream: stream), .data(stream: stream), .streamClosed(stream: stream, error: .internalError)])
        #expect(wire.server.counters.prematureResets == 0)  // the server's own reset is not the client's doing
        #expect(wire.server.activeStreams == 0)
    }

    /// After GOAWAY, streams already open finish normally; no new stream starts; both sides end.
    @Test func goAwayLetsStreamsInFlightFinish() throws {
        let wire = Wire()
        var streams: [Int32] = []
        let body = Source("payload")
        for _ in 0..<3 {
            streams.append(try wire.client.submitRequest(headers: ExchangeTests.postBlock("/", length: nil), method: .post, endStream: false))
        }
        var requests: [Int32] = []
        wire.onServerEvent = { event in
            switch event {
            case .request(let s): requests.append(s)
            case .endOfStream(let s):
                _ = wire.server.takeBody(stream: s)
                try wire.server.submitLocalResponse(stream: s, status: 200, body: "done")
            case .streamClosed(let s, _): wire.server.release(stream: s)
            default: break
            }
        }
        var clientEvents: [HTTP2Event] = []
        wire.onClientEvent = { event in
            clientEvents.append(event)
            if case .streamClosed(let s, _) = event { wire.client.release(stream: s) }
        }
        try wire.pump()
        #expect(requests == streams)
        wire.server.goAway()
        try wire.pump()
        #expect(clientEvents.contains(.goAwayReceived(lastStreamID: 5, error: .noError)))
        #expect(!wire.client.canOpenStream)
        #expect(!wire.server.isFinished)  // three streams are still open
        for stream in streams { wire.client.offerBody(stream: stream, body.bytes, endOfBody: true) }
        try wire.pump()
        for stream in streams { #expect(clientEvents.contains(.streamClosed(stream: stream, error: .noError))) }
        #expect(wire.server.isFinished)
        #expect(wire.client.isFinished)
    }

    /// A request that crosses the server's GOAWAY is refused, safe to retry elsewhere, and never processed.
    @Test func requestRacingGoAwayIsRefused() throws {
        let wire = Wire()
        let first = try wire.client.submitRequest(headers: ExchangeTests.getBlock("/"), method: .get, endStream: true)
        var requests: [Int32] = []
        wire.onServerEvent = { event in
            switch event {
            case .request(let s):
                requests.append(s)
                try wire.server.submitLocalResponse(stream: s, status: 204, body: "")
            case .streamClosed(let s, _): wire.server.release(stream: s)
            default: break
            }
        }
        var clientEvents: [HTTP2Event] = []
        wire.onClientEvent = { event in
            clientEvents.append(event)
            if case .streamClosed(let s, _) = event { wire.client.release(stream: s) }
        }
        try wire.pump()
        wire.server.goAway()
        try wire.server.prepareOutput()  // GOAWAY is on its way while the client sends another request
        let second = try wire.client.submitRequest(headers: ExchangeTests.getBlock("/again"), method: .get, endStream: true)
        try wire.pump()
        #expect(requests == [first])
        #expect(clientEvents.contains(.goAwayReceived(lastStreamID: first, error: .noError)))
        #expect(clientEvents.contains(.streamClosed(stream: second, error: .refusedStream)))
        #expect(wire.client.activeStreams == 0)
    }

    /// The shutdown notice announces GOAWAY without refusing requests in flight; the final GOAWAY names the last.
    @Test func shutdownNoticeThenGoAway() throws {
        let wire = Wire()
        var clientEvents: [HTTP2Event] = []
        wire.onClientEvent = { clientEvents.append($0) }
        try wire.pump()
        wire.server.sendShutdownNotice()
        let stream = try wire.client.submitRequest(headers: ExchangeTests.getBlock("/"), method: .get, endStream: true)
        try wire.pump()
        #expect(clientEvents.contains(.goAwayReceived(lastStreamID: Int32.max, error: .noError)))
        wire.server.goAway()
        try wire.pump()
        #expect(clientEvents.last == .goAwayReceived(lastStreamID: stream, error: .noError))
        #expect(wire.server.request(stream: stream) != nil)
    }

    /// A server that answers before the upload ends and releases the stream resets it with NO_ERROR (RFC 9113
    /// §8.1): the client gets the whole response and stops sending.
    @Test func earlyResponseStopsTheUpload() throws {
        let wire = Wire()
        let upload = Source(count: 500_000)
        let stream = try wire.client.submitRequest(headers: ExchangeTests.postBlock("/", length: upload.bytes.count), method: .post, endStream: false)
        wire.client.offerBody(stream: stream, upload.bytes, endOfBody: true)
        wire.onServerEvent = { event in
            if case .request(let s) = event {
                try wire.server.submitLocalResponse(stream: s, status: 413, body: "too large")
                wire.server.release(stream: s)
            }
        }
        var clientEvents: [HTTP2Event] = []
        var body: [UInt8] = []
        wire.onClientEvent = { event in
            clientEvents.append(event)
            if case .data(let s) = event { body += wire.client.takeBody(stream: s) }
        }
        try wire.pump()
        #expect(wire.client.response(stream: stream)?.head.status == 413)
        #expect(String(decoding: body, as: UTF8.self) == "too large")
        #expect(clientEvents.last == .streamClosed(stream: stream, error: .noError))
        #expect(wire.client.unwrittenBodyCount(stream: stream) > 0)  // it stopped sending
        #expect(wire.server.activeStreams == 0)
        #expect(wire.server.counters.prematureResets == 0)
    }

    /// A client that releases a stream it no longer wants cancels it.
    @Test func clientReleaseCancelsAnOpenStream() throws {
        let wire = Wire()
        let stream = try wire.client.submitRequest(headers: ExchangeTests.getBlock("/"), method: .get, endStream: true)
        var serverEvents: [HTTP2Event] = []
        wire.onServerEvent = { event in
            serverEvents.append(event)
            if case .streamClosed(let s, _) = event { wire.server.release(stream: s) }
        }
        try wire.pump()
        wire.client.release(stream: stream)
        try wire.pump()
        #expect(serverEvents == [.request(stream: stream), .endOfStream(stream: stream), .streamClosed(stream: stream, error: .cancel)])
        #expect(wire.client.activeStreams == 0 && wire.server.activeStreams == 0)
    }

    /// A received body the caller drops on release reopens the connection window for other streams.
    @Test func releasingUnreadBodyReopensTheConnectionWindow() throws {
        var configuration = HTTP2Configuration()
        configuration.connectionWindowSize = 65_535
        let wire = Wire(server: configuration)
        let upload = Source(count: 65_535)
        let first = try wire.client.submitRequest(headers: ExchangeTests.postBlock("/", length: upload.bytes.count), method: .post, endStream: false)
        wire.client.offerBody(stream: first, upload.bytes, endOfBody: true)
        try wire.pump()
        #expect(wire.server.receivedBodyCount(stream: first) == 65_535)
        let second = try wire.client.submitRequest(headers: ExchangeTests.postBlock("/", length: 10), method: .post, endStream: false)
        wire.client.offerBody(stream: second, upload.slice(0..<10), endOfBody: true)
        try wire.pump()
        #expect(wire.server.receivedBodyCount(stream: second) == 0)  // the connection window is full
        try wire.server.submitLocalResponse(stream: first, status: 404, body: "")
        wire.server.release(stream: first)
        try wire.pump()
        #expect(wire.server.receivedBodyCount(stream: second) == 10)
    }
}
