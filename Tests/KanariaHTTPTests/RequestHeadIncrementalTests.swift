import KanariaHTTP
import Testing

/// A head arriving in many reads parses exactly as the same head arriving in one.
@Suite("Request heads fed in pieces")
struct RequestHeadIncrementalTests {
    static let samples = [
        "GET / HTTP/1.1\r\nHost: a\r\n\r\n",
        "GET /shark/facts?lang=en HTTP/1.1\r\nHost: sharks.example:8080\r\nUser-Agent: curl/8.5\r\nAccept: */*\r\n\r\n",
        "POST /upload HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
        "PUT /x HTTP/1.0\r\nContent-Length: 12\r\nConnection: keep-alive\r\n\r\n",
        "GET http://example.com/abs HTTP/1.1\r\nHost: other\r\nX-Empty:\r\n\r\n",
        "OPTIONS * HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n\r\n",
    ]

    /// Fed one byte at a time into a growing buffer, a head is incomplete until its last byte, then equal to a one-shot parse.
    @Test(arguments: samples)
    func byteByByteEqualsOneShot(text: String) throws {
        let bytes = Array(text.utf8)
        let expected = RequestHeadSnapshot(try #require(try parseRequest(bytes)).head)
        var parser = RequestHeadParser()
        var head = RequestHead()
        for end in 1...bytes.count {
            let complete = try bytes[..<end].withUnsafeBytes { try parser.parse($0, into: &head) }
            #expect(complete == (end == bytes.count), "after \(end) of \(bytes.count) bytes")
        }
        #expect(RequestHeadSnapshot(head) == expected)
    }

    /// Reading into a `ByteBuffer` that must grow many times does not change what is parsed.
    @Test(arguments: samples)
    func parsesFromAGrowingByteBuffer(text: String) throws {
        let bytes = Array(text.utf8)
        let expected = RequestHeadSnapshot(try #require(try parseRequest(bytes)).head)
        var buffer = ByteBuffer(capacity: 1)
        defer { buffer.deallocate() }
        var parser = RequestHeadParser()
        var head = RequestHead()
        var complete = false
        for byte in bytes {
            #expect(!complete)
            buffer.append(byte: byte)
            complete = try parser.parse(buffer.readable, into: &head)
        }
        #expect(complete)
        #expect(RequestHeadSnapshot(head) == expected)
    }

    /// A malformed head is refused with the same error however it is split.
    @Test func byteByByteRefusalMatchesOneShot() throws {
        let bytes = Array("GET / HTTP/1.1\r\nHost: a\r\nBad Name: x\r\n\r\n".utf8)
        var parser = RequestHeadParser()
        var head = RequestHead()
        var error: HTTPParseError?
        for end in 1...bytes.count {
            do {
                _ = try bytes[..<end].withUnsafeBytes { try parser.parse($0, into: &head) }
            } catch let caught as HTTPParseError {
                error = caught
                #expect(end == bytes.count)
                break
            }
        }
        #expect(error == requestRejection(bytes))
        #expect(error == .badRequest("whitespace between header field name and colon"))
    }

    /// Property: random valid requests, split into random reads, parse to what was generated and to the one-shot result.
    @Test func randomRequestsParseTheSameUnderRandomSplits() throws {
        var random = TestRandom(seed: 0x5EED_CAFE)
        for _ in 0..<300 {
            let generated = GeneratedRequest.random(using: &random)
            let bytes = Array(generated.text.utf8)
            let oneShot = try #require(try parseRequest(bytes))
            #expect(oneShot.methodName == generated.method)
            #expect(oneShot.path == generated.target)
            #expect(oneShot.authority == generated.host)
            #expect(oneShot.fields.map(\.0) == generated.fields.map(\.0))
            #expect(oneShot.fields.map(\.1) == generated.fields.map { $0.1.trimmingOWS })
            #expect(oneShot.head.framing == generated.framing)
            #expect(oneShot.head.keepAlive == generated.keepAlive)
            #expect(oneShot.head.headLength == bytes.count)

            var parser = RequestHeadParser()
            var head = RequestHead()
            var complete = false
            for cut in randomCuts(bytes.count, using: &random) {
                #expect(!complete)
                complete = try bytes[..<cut.upperBound].withUnsafeBytes { try parser.parse($0, into: &head) }
            }
            #expect(complete)
            #expect(RequestHeadSnapshot(head) == RequestHeadSnapshot(oneShot.head), "\(generated.text)")
        }
    }
}

/// A random, valid HTTP/1.1 request head and what parsing it must give.
struct GeneratedRequest {
    var method: String
    var target: String
    var host: String
    var fields: [(String, String)]
    var framing: BodyFraming
    var keepAlive: Bool

    var text: String {
        "\(method) \(target) HTTP/1.1\r\n" + fields.map { "\($0.0):\($0.1)\r\n" }.joined() + "\r\n"
    }

    static func random(using random: inout TestRandom) -> GeneratedRequest {
        let methods = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "PURGE"]
        let segments = ["a", "shark", "facts", "v1", "%20x", "~u", "index.html", "-_.!$&'()*+,;=:@"]
        let tokenChars = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-.^_`|~")
        let valueChars = Array("abcXYZ019 \t,;=/\"()<>@[]{}?:\\!~")
        let method = methods.randomElement(using: &random)!
        var target = ""
        for _ in 0...Int.random(in: 0...3, using: &random) { target += "/" + segments.randomElement(using: &random)! }
        if Bool.random(using: &random) { target += "?q=" + segments.randomElement(using: &random)! }
        let host = ["example.com", "sharks.example:8080", "127.0.0.1:15000", "[::1]:80"].randomElement(using: &random)!
        var fields: [(String, String)] = [("Host", " " + host)]
        for _ in 0..<Int.random(in: 0...8, using: &random) {
            var name = "X-"
            for _ in 0..<Int.random(in: 1...10, using: &random) { name.append(tokenChars.randomElement(using: &random)!) }
            var value = ""
            for _ in 0..<Int.random(in: 0...30, using: &random) { value.append(valueChars.randomElement(using: &random)!) }
            fields.append((name, value))
        }
        var framing = BodyFraming.none
        switch Int.random(in: 0...2, using: &random) {
        case 1:
            let length = Int.random(in: 0...100_000, using: &random)
            fields.append(("Content-Length", " \(length)"))
            framing = length == 0 ? .none : .contentLength(length)
        case 2:
            fields.append(("Transfer-Encoding", " chunked"))
            framing = .chunked
        default:
            break
        }
        let keepAlive = Bool.random(using: &random)
        if !keepAlive { fields.append(("Connection", " close")) }
        fields.shuffle(using: &random)
        return GeneratedRequest(method: method, target: target, host: host, fields: fields, framing: framing, keepAlive: keepAlive)
    }
}

extension String {
    /// Without leading and trailing spaces and tabs (optional whitespace around a field value).
    var trimmingOWS: String {
        var scalars = Substring(self)
        while let first = scalars.first, first == " " || first == "\t" { scalars.removeFirst() }
        while let last = scalars.last, last == " " || last == "\t" { scalars.removeLast() }
        return String(scalars)
    }
}
