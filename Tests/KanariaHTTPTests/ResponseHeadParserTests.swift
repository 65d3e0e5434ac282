import KanariaHTTP
import Testing

@Suite("Response heads")
struct ResponseHeadParserTests {
    /// A 200 with Content-Length: status, version, status line span, fields, framing, kept alive.
    @Test func parsesOrdinaryResponse() throws {
        let text = "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 1234\r\n\r\n"
        let head = try #require(try parseResponse(text))
        #expect(head.status == 200)
        #expect(head.versionMinor == 1)
        #expect(head.statusLine == ByteSpan(start: 0, count: 17))
        #expect(head.headers.count == 2)
        #expect(head.headers[1].kind == .contentLength)
        #expect(head.headLength == text.utf8.count)
        #expect(head.framing == .contentLength(1234))
        #expect(head.keepAlive)
        #expect(!head.isInformational)
    }

    /// Status lines: any reason phrase (spaces, obs-text), an empty one, or none at all.
    @Test(arguments: [
        ("HTTP/1.1 404 Not Found", 404),
        ("HTTP/1.1 503 Service Unavailable: no healthy upstream", 503),
        ("HTTP/1.1 200 ", 200),
        ("HTTP/1.1 200", 200),
        ("HTTP/1.1 418 I'm a teapot\t(really)", 418),
        ("HTTP/1.0 302 Found", 302),
        ("HTTP/1.1 599 Whatever", 599),
        ("HTTP/1.1 100 Continue", 100),
    ])
    func acceptsStatusLineVariants(line: String, status: Int) throws {
        let head = try #require(try parseResponse("\(line)\r\nContent-Length: 0\r\n\r\n"))
        #expect(head.status == status)
        #expect(head.statusLine.count == Int32(line.utf8.count + 2))
    }

    /// Malformed status lines are refused.
    @Test(arguments: [
        "HTTP/1.1 20 OK", "HTTP/1.1 2000 OK", "HTTP/1.1 099 Low", "HTTP/1.1 2x0 OK", "HTTP/1.1  200 OK", "HTTP/1.1\t200 OK",
        "HTTP/1.1 200\tOK", "HTTP/1.1 200 O\u{1}K", "HTTP/1.1", "HTTP/1.1 ", "http/1.1 200 OK", "ICY 200 OK",
    ])
    func refusesMalformedStatusLines(line: String) {
        #expect(responseRejection("\(line)\r\nContent-Length: 0\r\n\r\n")?.status == 400)
    }

    /// A response in a version other than HTTP/1.x is refused as unsupported.
    @Test func refusesOtherVersions() {
        #expect(responseRejection("HTTP/2.0 200 OK\r\n\r\n") == .unsupportedVersion)
    }

    /// 1xx, 204 and 304 responses and any response to HEAD have no body, whatever their fields say.
    @Test(arguments: [
        (HTTPMethod.get, "HTTP/1.1 100 Continue\r\n\r\n"),
        (.get, "HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n"),
        (.get, "HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n"),
        (.get, "HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n"),
        (.get, "HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n"),
        (.head, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n"),
        (.head, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"),
        (.head, "HTTP/1.1 200 OK\r\n\r\n"),
    ])
    func bodilessResponses(method: HTTPMethod, text: String) throws {
        let head = try #require(try parseResponse(text, to: method))
        #expect(head.framing == .none)
        #expect(head.keepAlive)
    }

    /// 1xx responses are informational: the final response follows.
    @Test func interimResponsesAreInformational() throws {
        #expect(try #require(try parseResponse("HTTP/1.1 100 Continue\r\n\r\n")).isInformational)
        #expect(try #require(try parseResponse("HTTP/1.1 199 X\r\n\r\n")).isInformational)
        #expect(!(try #require(try parseResponse("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")).isInformational))
    }

    /// Framing: chunked beats Content-Length; another coding, or no length at all, reads until close.
    @Test(arguments: [
        ("Transfer-Encoding: chunked\r\n", BodyFraming.chunked, true),
        ("Transfer-Encoding: gzip, chunked\r\n", .chunked, true),
        ("Transfer-Encoding: chunked\r\nContent-Length: 5\r\n", .chunked, true),
        ("Transfer-Encoding: gzip\r\n", .untilClose, false),
        ("Transfer-Encoding: chunked, gzip\r\n", .untilClose, false),
        ("Content-Length: 5\r\n", .contentLength(5), true),
        ("Content-Length: 0\r\n", .none, true),
        ("", .untilClose, false),
        ("Content-Type: text/plain\r\n", .untilClose, false),
    ])
    func framesTheBody(fields: String, framing: BodyFraming, keepAlive: Bool) throws {
        let head = try #require(try parseResponse("HTTP/1.1 200 OK\r\n\(fields)\r\n"))
        #expect(head.framing == framing)
        #expect(head.keepAlive == keepAlive)
    }

    /// Keep-alive: HTTP/1.1 persists unless `close`; HTTP/1.0 only with `keep-alive`.
    @Test(arguments: [
        ("HTTP/1.1", "", true),
        ("HTTP/1.1", "Connection: close\r\n", false),
        ("HTTP/1.1", "Connection: Keep-Alive\r\n", true),
        ("HTTP/1.0", "", false),
        ("HTTP/1.0", "Connection: keep-alive\r\n", true),
        ("HTTP/1.0", "Connection: keep-alive, close\r\n", false),
    ])
    func keepAliveFollowsVersionAndConnection(version: String, fields: String, keepAlive: Bool) throws {
        let head = try #require(try parseResponse("\(version) 200 OK\r\nContent-Length: 2\r\n\(fields)\r\n"))
        #expect(head.keepAlive == keepAlive)
        #expect(head.versionMinor == (version == "HTTP/1.0" ? 0 : 1))
    }

    /// Conflicting Content-Length fields and malformed field lines are refused (the proxy answers 502).
    @Test(arguments: [
        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: five\r\n\r\n",
        "HTTP/1.1 200 OK\r\nX: a\nY: b\r\n\r\n",
        "HTTP/1.1 200 OK\r\nX : a\r\n\r\n",
        "HTTP/1.1 200 OK\r\nX: a\r\n folded\r\n\r\n",
        "HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n",
    ])
    func refusesMalformedFields(text: String) {
        #expect(responseRejection(text)?.status == 400)
    }

    /// A response head over the limit is refused, complete or not.
    @Test func refusesOversizedHeads() {
        let big = "HTTP/1.1 200 OK\r\nX-Big: \(String(repeating: "b", count: 300))\r\n"
        #expect(responseRejection(big + "\r\n", limits: HeadLimits(maxHeadBytes: 256)) == .headersTooLarge)
        #expect(responseRejection(big, limits: HeadLimits(maxHeadBytes: 256)) == .headersTooLarge)
        let many = (1...5).map { "X-\($0): v\r\n" }.joined()
        #expect(responseRejection("HTTP/1.1 200 OK\r\n\(many)\r\n", limits: HeadLimits(maxHeaderCount: 4)) == .headersTooLarge)
    }

    /// Fed one byte at a time, a response head is incomplete until its last byte and then equals a one-shot parse.
    @Test(arguments: [
        "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n",
        "HTTP/1.0 404 Not Found\r\nServer: x\r\n\r\n",
        "HTTP/1.1 204 No Content\r\n\r\n",
        "HTTP/1.1 200\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
    ])
    func byteByByteEqualsOneShot(text: String) throws {
        let bytes = Array(text.utf8)
        let expected = ResponseHeadSnapshot(try #require(try parseResponse(text)))
        var parser = ResponseHeadParser()
        var head = ResponseHead()
        for end in 1...bytes.count {
            let complete = try bytes[..<end].withUnsafeBytes { try parser.parse($0, requestMethod: .get, into: &head) }
            #expect(complete == (end == bytes.count))
        }
        #expect(ResponseHeadSnapshot(head) == expected)
    }

    /// A reused head and parser (reset between messages) parse a 100 Continue and then the final response.
    @Test func parsesInterimThenFinalResponse() throws {
        let interim = "HTTP/1.1 100 Continue\r\n\r\n"
        let final = "HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok"
        let bytes = Array((interim + final).utf8)
        var parser = ResponseHeadParser()
        var head = ResponseHead()
        #expect(try bytes.withUnsafeBytes { try parser.parse($0, requestMethod: .post, into: &head) })
        #expect(head.status == 100)
        #expect(head.headLength == interim.utf8.count)
        parser.reset()
        let rest = Array(bytes[head.headLength...])
        #expect(try rest.withUnsafeBytes { try parser.parse($0, requestMethod: .post, into: &head) })
        #expect(head.status == 201)
        #expect(head.framing == .contentLength(2))
        #expect(head.firstField(.contentLength) != nil)
    }
}
