import KanariaHTTP
import Testing

@Suite("Request heads that parse")
struct RequestHeadParserTests {
    /// The usual origin-form GET: method, target, path, Host as authority, HTTP/1.1, no body, kept alive.
    @Test func parsesOriginFormGet() throws {
        let text = "GET /shark/facts HTTP/1.1\r\nHost: example.com\r\nUser-Agent: curl/8\r\n\r\n"
        let request = try #require(try parseRequest(text))
        #expect(request.head.method == .get)
        #expect(request.methodName == "GET")
        #expect(request.target == "/shark/facts")
        #expect(request.path == "/shark/facts")
        #expect(request.pathWithoutQuery == "/shark/facts")
        #expect(request.authority == "example.com")
        #expect(request.head.versionMinor == 1)
        #expect(request.head.framing == .none)
        #expect(request.head.keepAlive)
        #expect(request.head.headLength == text.utf8.count)
        #expect(request.fields.map(\.0) == ["Host", "User-Agent"])
        #expect(request.fields.map(\.1) == ["example.com", "curl/8"])
    }

    /// Every method the proxy knows is recognised by its exact, uppercase name.
    @Test(arguments: [
        ("GET", HTTPMethod.get), ("HEAD", .head), ("POST", .post), ("PUT", .put), ("DELETE", .delete),
        ("OPTIONS", .options), ("TRACE", .trace), ("PATCH", .patch),
    ])
    func recognisesKnownMethods(name: String, method: HTTPMethod) throws {
        let request = try #require(try parseRequest("\(name) /x HTTP/1.1\r\nHost: a\r\n\r\n"))
        #expect(request.head.method == method)
        #expect(request.methodName == name)
        #expect(method.name.description == name)
    }

    /// CONNECT is recognised, and its authority-form target is the authority with an empty path.
    @Test func connectTakesAuthorityForm() throws {
        let request = try #require(try parseRequest("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n"))
        #expect(request.head.method == .connect)
        #expect(request.authority == "example.com:443")
        #expect(request.path == "")
        #expect(request.pathWithoutQuery == "")
    }

    /// An unknown but valid token is `.other`, its name kept in `methodSpan`; names are case-sensitive.
    @Test(arguments: ["PURGE", "get", "Get", "M-SEARCH", "X_CUSTOM!"])
    func keepsUnknownMethodsAsOther(name: String) throws {
        let request = try #require(try parseRequest("\(name) / HTTP/1.1\r\nHost: a\r\n\r\n"))
        #expect(request.head.method == .other)
        #expect(request.methodName == name)
    }

    /// The query starts at the first '?': the path keeps it, the path without query stops before it.
    @Test(arguments: [
        ("/search?q=shark&n=2", "/search"),
        ("/search?", "/search"),
        ("/?a?b", "/"),
        ("/no-query", "/no-query"),
        ("/a/b%20c?x=/y", "/a/b%20c"),
    ])
    func splitsPathAndQuery(target: String, withoutQuery: String) throws {
        let request = try #require(try parseRequest("GET \(target) HTTP/1.1\r\nHost: a\r\n\r\n"))
        #expect(request.path == target)
        #expect(request.pathWithoutQuery == withoutQuery)
    }

    /// An absolute-form target supplies the authority (the Host field is ignored, RFC 9112 §3.2.2) and the path.
    @Test func absoluteFormTakesAuthorityFromTarget() throws {
        let text = "GET http://Sharks.example:8080/info?lang=en HTTP/1.1\r\nHost: ignored.example\r\n\r\n"
        let request = try #require(try parseRequest(text))
        #expect(request.authority == "Sharks.example:8080")
        #expect(request.path == "/info?lang=en")
        #expect(request.pathWithoutQuery == "/info")
        #expect(request.target == "http://Sharks.example:8080/info?lang=en")
    }

    /// An absolute-form target with nothing after the authority leaves the path empty (forwarded as "/").
    @Test func absoluteFormWithoutPathHasEmptyPath() throws {
        let request = try #require(try parseRequest("GET https://example.com HTTP/1.1\r\nHost: example.com\r\n\r\n"))
        #expect(request.authority == "example.com")
        #expect(request.path == "")
    }

    /// Routing reads an empty absolute-form path as "/", the path it is forwarded with (RFC 9110 §4.2.1).
    @Test func viewReadsEmptyPathAsSlash() throws {
        let request = try #require(try parseRequest("GET http://example.com HTTP/1.1\r\nHost: example.com\r\n\r\n"))
        request.bytes.withUnsafeBytes { message in
            let view = RequestView(message: message, head: request.head)
            #expect(Array(view.path) == Array("/".utf8))
            #expect(Array(view.pathWithoutQuery) == Array("/".utf8))
        }
        let origin = try #require(try parseRequest("GET /a?b HTTP/1.1\r\nHost: example.com\r\n\r\n"))
        origin.bytes.withUnsafeBytes { message in
            let view = RequestView(message: message, head: origin.head)
            #expect(Array(view.path) == Array("/a?b".utf8))
            #expect(Array(view.pathWithoutQuery) == Array("/a".utf8))
        }
    }

    /// An absolute-form target whose authority is followed directly by a query keeps the query as the path.
    @Test func absoluteFormWithQueryOnly() throws {
        let request = try #require(try parseRequest("GET http://example.com?x=1 HTTP/1.1\r\nHost: example.com\r\n\r\n"))
        #expect(request.authority == "example.com")
        #expect(request.path == "?x=1")
        #expect(request.pathWithoutQuery == "")
    }

    /// `OPTIONS *` is accepted; its path is "*" and its authority comes from Host.
    @Test func asteriskFormForOptions() throws {
        let request = try #require(try parseRequest("OPTIONS * HTTP/1.1\r\nHost: example.com\r\n\r\n"))
        #expect(request.head.method == .options)
        #expect(request.path == "*")
        #expect(request.authority == "example.com")
    }

    /// The Host field's value, without surrounding whitespace, is the authority of an origin-form request.
    @Test func hostFieldIsTheAuthority() throws {
        let request = try #require(try parseRequest("GET / HTTP/1.1\r\nhOsT: \t Example.COM:8080 \t\r\n\r\n"))
        #expect(request.authority == "Example.COM:8080")
        #expect(request.head.firstField(.host).map { request.text($0.value) } == "Example.COM:8080")
    }

    /// An empty Host is allowed (RFC 9112 §3.2) and leaves the authority empty.
    @Test func emptyHostGivesEmptyAuthority() throws {
        let request = try #require(try parseRequest("GET / HTTP/1.1\r\nHost:\r\n\r\n"))
        #expect(request.authority == "")
    }

    /// HTTP/1.0 needs no Host; the authority is then empty.
    @Test func http10WithoutHost() throws {
        let request = try #require(try parseRequest("GET / HTTP/1.0\r\n\r\n"))
        #expect(request.head.versionMinor == 0)
        #expect(request.authority == "")
        #expect(request.fields.isEmpty)
    }

    /// Keep-alive: HTTP/1.1 persists unless `close` is listed; HTTP/1.0 closes unless `keep-alive` is listed.
    @Test(arguments: [
        ("HTTP/1.1", "", true),
        ("HTTP/1.1", "Connection: close\r\n", false),
        ("HTTP/1.1", "Connection: CLOSE\r\n", false),
        ("HTTP/1.1", "Connection: keep-alive\r\n", true),
        ("HTTP/1.1", "Connection: foo, close\r\n", false),
        ("HTTP/1.1", "Connection: keep-alive\r\nConnection: close\r\n", false),
        ("HTTP/1.1", "Connection: closed\r\n", true),
        ("HTTP/1.0", "", false),
        ("HTTP/1.0", "Connection: keep-alive\r\n", true),
        ("HTTP/1.0", "Connection: Keep-Alive\r\n", true),
        ("HTTP/1.0", "Connection: keep-alive, close\r\n", false),
        ("HTTP/1.0", "Keep-Alive: timeout=5\r\n", false),
    ])
    func keepAliveFollowsVersionAndConnection(version: String, fields: String, keepAlive: Bool) throws {
        let request = try #require(try parseRequest("GET / \(version)\r\nHost: a\r\n\(fields)\r\n"))
        #expect(request.head.keepAlive == keepAlive)
    }

    /// Body framing: none without fields, Content-Length (zero is none), chunked (any case).
    @Test(arguments: [
        ("", BodyFraming.none),
        ("Content-Length: 0\r\n", .none),
        ("Content-Length: 42\r\n", .contentLength(42)),
        ("Content-Length:   7  \r\n", .contentLength(7)),
        ("Content-Length: 000123\r\n", .contentLength(123)),
        ("Content-Length: 999999999999999\r\n", .contentLength(999_999_999_999_999)),
        ("Content-Length: 5\r\nContent-Length: 5\r\n", .contentLength(5)),
        ("Transfer-Encoding: chunked\r\n", .chunked),
        ("Transfer-Encoding: Chunked\r\n", .chunked),
        ("transfer-encoding:chunked\r\n", .chunked),
    ])
    func framesTheBody(fields: String, framing: BodyFraming) throws {
        let request = try #require(try parseRequest("POST /upload HTTP/1.1\r\nHost: a\r\n\(fields)\r\n"))
        #expect(request.head.framing == framing)
    }

    /// `Expect: 100-continue` is noted for HTTP/1.1 only (an HTTP/1.0 client cannot handle a 100).
    @Test func notesExpectContinue() throws {
        let eleven = try #require(try parseRequest("PUT / HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\nContent-Length: 3\r\n\r\n"))
        #expect(eleven.head.expectsContinue)
        let ten = try #require(try parseRequest("PUT / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n"))
        #expect(!ten.head.expectsContinue)
        let plain = try #require(try parseRequest("PUT / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\n"))
        #expect(!plain.head.expectsContinue)
    }

    /// An upgrade needs both `Connection: upgrade` and an `Upgrade` field.
    @Test(arguments: [
        ("Connection: Upgrade\r\nUpgrade: websocket\r\n", true),
        ("Connection: keep-alive, upgrade\r\nUpgrade: h2c\r\n", true),
        ("Upgrade: websocket\r\n", false),
        ("Connection: upgrade\r\n", false),
    ])
    func recognisesUpgrades(fields: String, isUpgrade: Bool) throws {
        let request = try #require(try parseRequest("GET /ws HTTP/1.1\r\nHost: a\r\n\(fields)\r\n"))
        #expect(request.head.isUpgrade == isUpgrade)
    }

    /// Each field records its name, its trimmed value, its whole line (CRLF included) and its kind.
    @Test func recordsFieldSpansAndKinds() throws {
        let text = "GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-For:  10.0.0.1 , 10.0.0.2 \r\nX-Empty:\r\nTE: trailers\r\n\r\n"
        let request = try #require(try parseRequest(text))
        let fields = request.head.headers
        #expect(fields.map(\.kind) == [.host, .xForwardedFor, .other, .te])
        #expect(request.text(fields[1].name) == "X-Forwarded-For")
        #expect(request.text(fields[1].value) == "10.0.0.1 , 10.0.0.2")
        #expect(request.text(fields[1].line) == "X-Forwarded-For:  10.0.0.1 , 10.0.0.2 \r\n")
        #expect(request.text(fields[2].value) == "")
        #expect(fields[3].kind.isHopByHop)
        #expect(!fields[1].kind.isHopByHop)
    }

    /// Header names are classified case-insensitively; hop-by-hop ones are RFC 9110's plus keep-alive and proxy-connection.
    @Test(arguments: [
        ("Host", HeaderKind.host, false), ("CONTENT-LENGTH", .contentLength, false),
        ("Transfer-Encoding", .transferEncoding, true), ("connection", .connection, true),
        ("Keep-Alive", .keepAlive, true), ("Proxy-Connection", .proxyConnection, true), ("te", .te, true),
        ("Upgrade", .upgrade, true), ("Trailer", .trailer, false), ("Expect", .expect, false),
        ("x-forwarded-for", .xForwardedFor, false), ("X-Forwarded-Proto", .xForwardedProto, false),
        ("X-Request-ID", .xRequestId, false), ("X-Hosts", .other, false), ("Hos", .other, false),
    ])
    func classifiesHeaderNames(name: String, kind: HeaderKind, hopByHop: Bool) {
        let classified = Array(name.utf8).withUnsafeBytes { HeaderKind(name: $0) }
        #expect(classified == kind)
        #expect(classified.isHopByHop == hopByHop)
    }

    /// Field values may hold tabs, inner spaces and obs-text bytes (0x80-0xFF).
    @Test func acceptsObsTextAndTabsInValues() throws {
        var bytes = Array("GET / HTTP/1.1\r\nHost: a\r\nX-Note: caf".utf8)
        bytes += [0xC3, 0xA9, 0x09, 0x78, 0x20, 0x79]  // "é\tx y"
        bytes += Array("\r\n\r\n".utf8)
        let request = try #require(try parseRequest(bytes))
        let value = request.head.headers[1].value
        #expect(Array(request.bytes[Int(value.start)..<value.end]) == Array("caf".utf8) + [0xC3, 0xA9, 0x09, 0x78, 0x20, 0x79])
    }

    /// `RequestView.value(ofField:)` finds the first field of a name in any case.
    @Test func viewFindsFirstFieldByName() throws {
        let request = try #require(try parseRequest("GET / HTTP/1.1\r\nHost: a\r\nX-User: alice\r\nx-user: bob\r\n\r\n"))
        #expect(request.value(ofField: "x-user") == "alice")
        #expect(request.value(ofField: "X-USER") == "alice")
        #expect(request.value(ofField: "x-missing") == nil)
    }

    /// Exactly `maxHeaderCount` fields are accepted.
    @Test func acceptsExactlyTheHeaderCountLimit() throws {
        let fields = (1..<10).map { "X-\($0): v\r\n" }.joined()
        let request = try #require(try parseRequest("GET / HTTP/1.1\r\nHost: a\r\n\(fields)\r\n", limits: HeadLimits(maxHeaderCount: 10)))
        #expect(request.head.headers.count == 10)
    }

    /// A target of exactly `maxTargetBytes` and a head of exactly `maxHeadBytes` are accepted.
    @Test func acceptsHeadsAtTheSizeLimits() throws {
        let target = "/" + String(repeating: "a", count: 99)
        let text = "GET \(target) HTTP/1.1\r\nHost: a\r\n\r\n"
        let limits = HeadLimits(maxHeadBytes: text.utf8.count, maxTargetBytes: 100)
        let request = try #require(try parseRequest(text, limits: limits))
        #expect(request.target == target)
    }

    /// Bytes after the head (a body, the next pipelined request) are not part of it: `headLength` marks the body.
    @Test func stopsAtTheEndOfTheHead() throws {
        let head = "POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n"
        let request = try #require(try parseRequest(head + "hello" + "GET /b HTTP/1.1\r\nHost: a\r\n\r\n"))
        #expect(request.head.headLength == head.utf8.count)
        #expect(request.head.framing == .contentLength(5))
        #expect(request.fields.count == 2)
    }

    /// One parser and one head, reset between messages, parse pipelined requests with nothing left over.
    @Test func reusesParserAndHeadForPipelinedRequests() throws {
        let first = "POST /a HTTP/1.1\r\nHost: a\r\nX-One: 1\r\nX-Two: 2\r\nContent-Length: 3\r\n\r\nabc"
        let second = "GET /b?q HTTP/1.0\r\n\r\n"
        let bytes = Array((first + second).utf8)
        var parser = RequestHeadParser()
        var head = RequestHead()
        let firstDone = try bytes.withUnsafeBytes { try parser.parse($0, into: &head) }
        #expect(firstDone)
        #expect(head.headers.count == 4)
        let secondStart = head.headLength + 3
        parser.reset()
        let rest = Array(bytes[secondStart...])
        let secondDone = try rest.withUnsafeBytes { try parser.parse($0, into: &head) }
        #expect(secondDone)
        let parsedSecond = ParsedRequest(bytes: rest, head: head)
        #expect(parsedSecond.path == "/b?q")
        #expect(parsedSecond.pathWithoutQuery == "/b")
        #expect(parsedSecond.authority == "")
        #expect(head.headers.isEmpty)
        #expect(head.framing == .none)
        #expect(!head.keepAlive)
    }

    /// Empty lines before a request line are counted so the caller can drop them (RFC 9112 §2.2).
    @Test func countsLeadingEmptyLines() throws {
        func count(_ text: String) -> Int { Array(text.utf8).withUnsafeBytes { RequestHeadParser.leadingEmptyLines($0) } }
        #expect(count("GET / HTTP/1.1\r\n") == 0)
        #expect(count("\r\nGET / HTTP/1.1\r\n") == 2)
        #expect(count("\r\n\r\n\r\nGET /") == 6)
        #expect(count("\r\n\r") == 2)
        #expect(count("\n\r\nGET") == 0)
        #expect(count("") == 0)

        let text = "\r\n\r\nGET /after-crlf HTTP/1.1\r\nHost: a\r\n\r\n"
        let skip = count(text)
        let request = try #require(try parseRequest(Array(Array(text.utf8)[skip...])))
        #expect(request.path == "/after-crlf")
    }

    /// Without dropping them first, leading empty lines end the "head" at once and are refused.
    @Test func leadingEmptyLinesMustBeDropped() {
        #expect(requestRejection("\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n")?.status == 400)
    }
}
