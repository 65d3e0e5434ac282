import KanariaHTTP
import KanariaHTTP2
import Testing

/// Converting HTTP/1.1 heads to HTTP/2 header lists (RFC 9113 §8.2.2, §8.3.1).
@Suite struct HeaderBlockTests {
    func fields(_ block: HTTP2HeaderBlock) -> [String] {
        (0..<block.count).map { let f = block.field(at: $0); return "\(f.name): \(f.value)" }
    }

    /// Names are lowercased; connection-specific fields, and those Connection names, are dropped.
    @Test func responseDropsConnectionSpecificFields() throws {
        let response = try ParsedResponse("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nConnection: keep-alive, X-Secret\r\nKeep-Alive: timeout=5\r\nX-Secret: 1\r\nTransfer-Encoding: chunked\r\nProxy-Connection: keep-alive\r\nUpgrade: h2c\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n\r\n")
        let block = HTTP2HeaderBlock()
        response.withMessage { block.append(response: response.head, message: $0) }
        #expect(fields(block) == [":status: 200", "content-type: text/html", "set-cookie: a=1", "set-cookie: b=2"])
    }

    /// A request gets :method, :scheme, :authority from Host, and :path; Host itself is not repeated.
    @Test func requestGetsPseudoHeaderFields() throws {
        let request = try ParsedRequest("POST /api/v1?x=1 HTTP/1.1\r\nHost: shop.example\r\nContent-Length: 3\r\nTE: trailers, deflate\r\nX-Forwarded-For: 1.2.3.4\r\n\r\n")
        let block = HTTP2HeaderBlock()
        request.withMessage { block.append(request: request.head, message: $0, omitting: [.xForwardedFor]) }
        #expect(fields(block) == [":method: POST", ":scheme: http", ":authority: shop.example", ":path: /api/v1?x=1", "content-length: 3"])
    }

    /// "te: trailers" is the one TE value HTTP/2 allows; it is kept as exactly that.
    @Test func teTrailersIsKept() throws {
        let request = try ParsedRequest("GET / HTTP/1.1\r\nHost: a\r\nTE: Trailers\r\n\r\n")
        let block = HTTP2HeaderBlock()
        request.withMessage { block.append(request: request.head, message: $0) }
        #expect(fields(block).last == "te: trailers")
    }

    /// Absolute-form targets give :authority and a path ("/" before a bare query); the default authority fills
    /// in for an HTTP/1.0 request without Host.
    @Test func targetFormsBecomePathAndAuthority() throws {
        let absolute = try ParsedRequest("GET http://h.example?q=1 HTTP/1.1\r\nHost: h.example\r\n\r\n")
        let block = HTTP2HeaderBlock()
        absolute.withMessage { block.append(request: absolute.head, message: $0) }
        #expect(fields(block) == [":method: GET", ":scheme: http", ":authority: h.example", ":path: /?q=1"])

        let old = try ParsedRequest("GET /old HTTP/1.0\r\n\r\n")
        block.removeAll()
        let fallback: StaticString = "10.0.0.7:9080"
        old.withMessage { block.append(request: old.head, message: $0, defaultAuthority: UnsafeRawBufferPointer(start: fallback.utf8Start, count: fallback.utf8CodeUnitCount)) }
        #expect(fields(block) == [":method: GET", ":scheme: http", ":authority: 10.0.0.7:9080", ":path: /old"])

        let options = try ParsedRequest("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n")
        block.removeAll()
        options.withMessage { block.append(request: options.head, message: $0) }
        #expect(fields(block) == [":method: OPTIONS", ":scheme: http", ":authority: a", ":path: *"])
    }

    /// A request converted here is accepted by a server session and arrives as it was sent.
    @Test func convertedRequestSurvivesTheTrip() throws {
        let wire = Wire()
        let request = try ParsedRequest("DELETE /items/7 HTTP/1.1\r\nHost: api.example\r\nAuthorization: Bearer x\r\nAccept: application/json\r\n\r\n")
        _ = try request.withMessage { try wire.client.submitRequest(head: request.head, message: $0, endStream: true) }
        var seen: (method: HTTPMethod, path: String, authority: String, lines: [String])?
        wire.onServerEvent = { event in
            if case .request(let s) = event {
                let view = try #require(wire.server.request(stream: s))
                seen = (view.method, view.pathString, view.authorityString, view.head.headers.map { $0.line.string(in: view.message) })
            }
        }
        try wire.pump()
        #expect(seen?.method == .delete)
        #expect(seen?.path == "/items/7")
        #expect(seen?.authority == "api.example")
        #expect(seen?.lines == ["authorization: Bearer x\r\n", "accept: application/json\r\n"])
    }
}
