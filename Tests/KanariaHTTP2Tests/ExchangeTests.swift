import KanariaHTTP
import KanariaHTTP2
import Testing

/// A client session and a server session exchanging requests and responses in memory.
@Suite struct ExchangeTests {
    /// A request converted from HTTP/1.1 arrives as a RequestHead in the HTTP/1.1 layout; its response returns.
    @Test func requestAndResponseRoundTrip() throws {
        let wire = Wire()
        let request = try ParsedRequest(
            "GET /shark?size=big HTTP/1.1\r\nHost: sharks.example:8080\r\nUser-Agent: test\r\nConnection: keep-alive, X-Hop\r\nX-Hop: 1\r\nKeep-Alive: 5\r\nTE: trailers\r\nX-Request-Id: abc\r\n\r\n")
        let stream = try request.withMessage { try wire.client.submitRequest(head: request.head, message: $0, endStream: true) }
        #expect(stream == 1)
        let responseBody = Source("hello from v1")
        var serverSaw: [String] = []
        var clientEvents: [HTTP2Event] = []
        var clientBody: [UInt8] = []
        wire.onServerEvent = { event in
            switch event {
            case .request(let s):
                let view = try #require(wire.server.request(stream: s))
                #expect(view.method == .get)
                #expect(view.methodString == "GET")
                #expect(view.pathString == "/shark?size=big")
                #expect(view.string(view.pathWithoutQuery) == "/shark")
                #expect(view.authorityString == "sharks.example:8080")
                #expect(view.head.framing == .none)
                #expect(view.fieldString("user-agent") == "test")
                #expect(view.fieldString("te") == "trailers")
                #expect(view.fieldString("x-request-id") == "abc")
                #expect(view.fieldString("x-hop") == nil)  // named by Connection: hop-by-hop
                #expect(view.fieldString("keep-alive") == nil)
                #expect(view.fieldString("host") == nil)  // carried in :authority
                #expect(view.head.firstField(.xRequestId) != nil)
                #expect(wire.server.scheme(stream: s).map { Array($0) } == Array("http".utf8))
                for field in view.head.headers { serverSaw.append(field.line.string(in: view.message)) }
                let response = try ParsedResponse("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n")
                try response.withMessage { try wire.server.submitResponse(stream: s, head: response.head, message: $0, endStream: false) }
                wire.server.offerBody(stream: s, responseBody.bytes, endOfBody: true)
            case .streamClosed(let s, let error):
                #expect(error == .noError)
                wire.server.release(stream: s)
            default:
                break
            }
        }
        wire.onClientEvent = { event in
            clientEvents.append(event)
            switch event {
            case .data(let s): clientBody += wire.client.takeBody(stream: s)
            case .streamClosed(let s, _): wire.client.release(stream: s)
            default: break
            }
        }
        try wire.pump()
        #expect(serverSaw == ["user-agent: test\r\n", "te: trailers\r\n", "x-request-id: abc\r\n"])
        #expect(clientEvents.contains(.response(stream: 1)))
        #expect(String(decoding: clientBody, as: UTF8.self) == "hello from v1")
        #expect(clientEvents.contains(.endOfStream(stream: 1)))
        #expect(clientEvents.last == .streamClosed(stream: 1, error: .noError))
        #expect(wire.client.activeStreams == 0)
        #expect(wire.server.activeStreams == 0)
    }

    /// The client sees the response in the HTTP/1.1 layout: a status line first, fields as lines, and framing.
    @Test func responseHeadReadsLikeHTTP1() throws {
        let wire = Wire()
        let stream = try wire.client.submitRequest(headers: Self.getBlock("/"), method: .get, endStream: true)
        wire.onServerEvent = { event in
            if case .request(let s) = event {
                let block = HTTP2HeaderBlock()
                block.append(name: ":status", decimal: 404)
                block.append(name: "content-length", decimal: 0)
                block.append(name: "set-cookie", value: "a=1")
                try wire.server.submitResponse(stream: s, headers: block, endStream: true)
            }
        }
        try wire.pump()
        let view = try #require(wire.client.response(stream: stream))
        #expect(view.head.status == 404)
        #expect(view.head.statusLine.string(in: view.message) == "HTTP/1.1 404 Not Found\r\n")
        #expect(view.head.framing == .none)
        #expect(view.head.headers.map { $0.line.string(in: view.message) } == ["content-length: 0\r\n", "set-cookie: a=1\r\n"])
        #expect(view.head.headers[0].kind == .contentLength)
    }

    /// One hundred streams open at once on one connection, each with a request body echoed back.
    @Test func hundredConcurrentStreamsWithBodies() throws {
        let wire = Wire()
        var sources: [Int32: Source] = [:]
        var echoes: [Int32: [UInt8]] = [:]
        var received: [Int32: [UInt8]] = [:]
        for i in 0..<100 {
            let source = Source(count: 3000 + i, seed: UInt8(i))
            let stream = try wire.client.submitRequest(headers: Self.postBlock("/echo/\(i)", length: source.bytes.count), method: .post, endStream: false)
            wire.client.offerBody(stream: stream, source.bytes, endOfBody: true)
            sources[stream] = source
        }
        #expect(wire.client.activeStreams == 100)
        var concurrent = 0
        var responses: [Int32: Source] = [:]
        wire.onServerEvent = { event in
            switch event {
            case .request:
                concurrent = max(concurrent, wire.server.activeStreams)
            case .data(let s):
                echoes[s, default: []] += wire.server.takeBody(stream: s)
            case .endOfStream(let s):
                let body = Source(count: echoes[s]!.count)
                for (i, b) in echoes[s]!.enumerated() { body.pointer[i] = b }
                responses[s] = body
                let block = HTTP2HeaderBlock()
                block.append(name: ":status", decimal: 200)
                block.append(name: "content-length", decimal: body.bytes.count)
                try wire.server.submitResponse(stream: s, headers: block, endStream: false)
                wire.server.offerBody(stream: s, body.bytes, endOfBody: true)
            case .streamClosed(let s, let error):
                #expect(error == .noError)
                wire.server.release(stream: s)
            default:
                break
            }
        }
        var closed = 0
        wire.onClientEvent = { event in
            switch event {
            case .data(let s): received[s, default: []] += wire.client.takeBody(stream: s)
            case .streamClosed(let s, let error):
                #expect(error == .noError)
                closed += 1
                wire.client.release(stream: s)
            default: break
            }
        }
        try wire.pump()
        #expect(closed == 100)
        #expect(concurrent == 100)
        for (stream, source) in sources {
            #expect(received[stream] == Array(source.bytes), "stream \(stream)")
            #expect(wire.client.response(stream: stream) == nil)  // released
        }
        #expect(wire.client.activeStreams == 0 && wire.server.activeStreams == 0)
    }

    /// Trailers after a body reach the other side, grpc-status included.
    @Test func trailersFollowTheBody() throws {
        let wire = Wire()
        let stream = try wire.client.submitRequest(headers: Self.postBlock("/pkg.Service/Call", length: nil, extra: [("te", "trailers"), ("content-type", "application/grpc")]), method: .post, endStream: false)
        let message = Source(count: 40)
        wire.client.offerBody(stream: stream, message.bytes, endOfBody: true)
        let reply = Source(count: 25)
        var serverView: (framing: BodyFraming, te: String?)?
        wire.onServerEvent = { event in
            switch event {
            case .request(let s):
                let view = try #require(wire.server.request(stream: s))
                serverView = (view.head.framing, view.fieldString("te"))
            case .endOfStream(let s):
                _ = wire.server.takeBody(stream: s)
                let block = HTTP2HeaderBlock()
                block.append(name: ":status", decimal: 200)
                block.append(name: "content-type", value: "application/grpc")
                try wire.server.submitResponse(stream: s, headers: block, endStream: false)
                wire.server.offerBody(stream: s, reply.bytes)
                let trailers = HTTP2HeaderBlock()
                trailers.append(name: "grpc-status", value: "0")
                trailers.append(name: "grpc-message", value: "OK")
                try wire.server.submitTrailers(stream: s, headers: trailers)
            case .streamClosed(let s, _): wire.server.release(stream: s)
            default: break
            }
        }
        var events: [HTTP2Event] = []
        var body: [UInt8] = []
        var grpcStatus: String?
        wire.onClientEvent = { event in
            events.append(event)
            if case .data(let s) = event { body += wire.client.takeBody(stream: s) }
            if case .trailers(let s) = event {
                let trailers = try #require(wire.client.trailers(stream: s))
                grpcStatus = trailers.value(ofField: "grpc-status").map { String(decoding: $0, as: UTF8.self) }
                #expect(trailers.fields.map { $0.line.string(in: trailers.message) } == ["grpc-status: 0\r\n", "grpc-message: OK\r\n"])
            }
        }
        try wire.pump()
        #expect(serverView?.framing == .chunked)  // no content-length: the body ends with the stream
        #expect(serverView?.te == "trailers")
        #expect(body == Array(reply.bytes))
        #expect(grpcStatus == "0")
        let trailersAt = try #require(events.firstIndex(of: .trailers(stream: stream)))
        #expect(events[trailersAt + 1] == .endOfStream(stream: stream))
        #expect(events.last == .streamClosed(stream: stream, error: .noError))
    }

    /// A trailers-only response (gRPC's error form) is a head with END_STREAM.
    @Test func headOnlyResponseEndsTheStream() throws {
        let wire = Wire()
        let stream = try wire.client.submitRequest(headers: Self.getBlock("/"), method: .get, endStream: true)
        wire.onServerEvent = { event in
            if case .request(let s) = event {
                let block = HTTP2HeaderBlock()
                block.append(name: ":status", decimal: 200)
                block.append(name: "grpc-status", value: "14")
                try wire.server.submitResponse(stream: s, headers: block, endStream: true)
            }
        }
        var events: [HTTP2Event] = []
        wire.onClientEvent = { events.append($0) }
        try wire.pump()
        #expect(events == [.response(stream: stream), .endOfStream(stream: stream), .streamClosed(stream: stream, error: .noError)])
        #expect(wire.client.response(stream: stream)?.value(ofField: "grpc-status").map { Array($0) } == Array("14".utf8))
    }

    /// A 100 Continue goes out before the final response and reaches the client as an informational head.
    @Test func informationalResponseBeforeTheFinalOne() throws {
        let wire = Wire()
        let stream = try wire.client.submitRequest(headers: Self.postBlock("/", length: 3, extra: [("expect", "100-continue")]), method: .post, endStream: false)
        let body = Source("abc")
        var expectsContinue = false
        wire.onServerEvent = { event in
            switch event {
            case .request(let s):
                expectsContinue = wire.server.request(stream: s)?.head.expectsContinue ?? false
                let interim = HTTP2HeaderBlock()
                interim.append(name: ":status", decimal: 100)
                try wire.server.submitResponse(stream: s, headers: interim, endStream: false)
            case .endOfStream(let s):
                _ = wire.server.takeBody(stream: s)
                try wire.server.submitLocalResponse(stream: s, status: 201, body: "made")
            default: break
            }
        }
        var statuses: [Int] = []
        var responseBody: [UInt8] = []
        wire.onClientEvent = { event in
            switch event {
            case .informationalResponse(let s):
                statuses.append(wire.client.response(stream: s)!.head.status)
                wire.client.offerBody(stream: s, body.bytes, endOfBody: true)
            case .response(let s):
                statuses.append(wire.client.response(stream: s)!.head.status)
            case .data(let s):
                responseBody += wire.client.takeBody(stream: s)
            default: break
            }
        }
        try wire.pump()
        #expect(expectsContinue)
        #expect(statuses == [100, 201])
        #expect(String(decoding: responseBody, as: UTF8.self) == "made")
        let view = try #require(wire.client.response(stream: stream))
        #expect(view.value(ofField: "content-type").map { String(decoding: $0, as: UTF8.self) } == "text/plain")
        #expect(view.head.framing == .contentLength(4))
    }

    /// Several cookie fields are joined into one "; "-separated line, as HTTP/1.1 needs them.
    @Test func cookieFieldsAreJoined() throws {
        let wire = Wire()
        let block = Self.getBlock("/", extra: [("cookie", "a=1"), ("accept", "*/*"), ("cookie", "b=2"), ("cookie", "c=3")])
        _ = try wire.client.submitRequest(headers: block, method: .get, endStream: true)
        var lines: [String] = []
        wire.onServerEvent = { event in
            if case .request(let s) = event {
                let view = try #require(wire.server.request(stream: s))
                lines = view.head.headers.map { $0.line.string(in: view.message) }
            }
        }
        try wire.pump()
        #expect(lines == ["cookie: a=1; b=2; c=3\r\n", "accept: */*\r\n"])
    }

    static func getBlock(_ path: String, extra: [(String, String)] = []) -> HTTP2HeaderBlock {
        let block = HTTP2HeaderBlock()
        block.append(name: ":method", value: "GET")
        block.append(name: ":scheme", value: "http")
        block.append(name: ":authority", value: "example.com")
        append(path, extra, to: block)
        return block
    }

    static func postBlock(_ path: String, length: Int?, extra: [(String, String)] = []) -> HTTP2HeaderBlock {
        let block = HTTP2HeaderBlock()
        block.append(name: ":method", value: "POST")
        block.append(name: ":scheme", value: "http")
        block.append(name: ":authority", value: "example.com")
        append(path, extra, to: block)
        if let length { block.append(name: "content-length", decimal: length) }
        return block
    }

    private static func append(_ path: String, _ extra: [(String, String)], to block: HTTP2HeaderBlock) {
        var path = path
        path.withUTF8 { block.append(name: ":path", value: UnsafeRawBufferPointer($0)) }
        for (name, value) in extra {
            var name = name, value = value
            name.withUTF8 { n in value.withUTF8 { v in block.append(name: UnsafeRawBufferPointer(n), value: UnsafeRawBufferPointer(v)) } }
        }
    }
}
