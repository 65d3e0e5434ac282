import KanariaHTTP
import Testing

/// Every request head the parser must refuse, with the status the proxy answers (the head is never forwarded).
@Suite("Request heads that are refused")
struct RequestHeadRejectionTests {
    /// A bare LF ends no line: in the request line, a field line, or as the blank line.
    @Test(arguments: [
        "GET / HTTP/1.1\nHost: a\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\nX: b\r\n\r\n",
        "GET / HTTP/1.1\r\nX\nHost: a\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\nX: b\n\r\n\r\n",
        "GET /a\nb HTTP/1.1\r\nHost: a\r\n\r\n",
    ])
    func refusesBareLF(text: String) {
        #expect(requestRejection(text)?.status == 400)
    }

    /// A bare CR is neither a line end nor a value character.
    @Test(arguments: [
        "GET / HTTP/1.1\rHost: a\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\rX: b\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\nX: b\rc\r\n\r\n",
        "GET /\r HTTP/1.1\r\nHost: a\r\n\r\n",
    ])
    func refusesBareCR(text: String) {
        #expect(requestRejection(text)?.status == 400)
    }

    /// A field line starting with whitespace (obs-fold, RFC 9112 §5.2) is refused, with a space or a tab.
    @Test(arguments: [
        "GET / HTTP/1.1\r\nHost: a\r\nX-Long: one\r\n two\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\nX-Long: one\r\n\ttwo\r\n\r\n",
        "GET / HTTP/1.1\r\n Host: a\r\n\r\n",
    ])
    func refusesObsFold(text: String) {
        #expect(requestRejection(text) == .badRequest("obsolete line folding in header field"))
    }

    /// Whitespace between a field name and its colon is refused (RFC 9112 §5.1), a request-smuggling vector.
    @Test(arguments: ["Host : a", "Host\t: a", "Content-Length : 5"])
    func refusesWhitespaceBeforeColon(line: String) {
        let error = requestRejection("GET / HTTP/1.1\r\n\(line)\r\n\r\n")
        #expect(error == .badRequest("whitespace between header field name and colon"))
        #expect(error?.status == 400)
    }

    /// A field name may only hold token characters, and may not be empty.
    @Test(arguments: ["X(y): 1", "X/y: 1", "X@y: 1", "X\"y: 1", "Näme: 1", "X[y]: 1", "NoColon", "X{y}: 1"])
    func refusesInvalidFieldNames(line: String) {
        #expect(requestRejection("GET / HTTP/1.1\r\nHost: a\r\n\(line)\r\n\r\n") == .badRequest("invalid header field name"))
    }

    /// An empty field name is refused.
    @Test func refusesEmptyFieldName() {
        #expect(requestRejection("GET / HTTP/1.1\r\nHost: a\r\n: empty\r\n\r\n") == .badRequest("empty header field name"))
    }

    /// Control characters (other than HTAB) and DEL in a value are refused.
    @Test(arguments: [UInt8(0x00), 0x01, 0x08, 0x0B, 0x0C, 0x1B, 0x1F, 0x7F])
    func refusesControlCharactersInValues(byte: UInt8) {
        let bytes = Array("GET / HTTP/1.1\r\nHost: a\r\nX: a".utf8) + [byte] + Array("b\r\n\r\n".utf8)
        let error = requestRejection(bytes)
        #expect(error == .badRequest("invalid character in header field value"))
        #expect(error?.status == 400)
    }

    /// Content-Length together with Transfer-Encoding is refused, in either order (request smuggling).
    @Test(arguments: [
        "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n",
        "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n",
        "Transfer-Encoding: chunked\r\nContent-Length: 0\r\n",
    ])
    func refusesContentLengthWithTransferEncoding(fields: String) {
        #expect(requestRejection("POST / HTTP/1.1\r\nHost: a\r\n\(fields)\r\n") == .badRequest("both Content-Length and Transfer-Encoding"))
    }

    /// Two Content-Length fields that disagree are refused; equal ones are accepted (RFC 9112 §6.3).
    @Test func refusesConflictingContentLengths() {
        let error = requestRejection("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n")
        #expect(error == .badRequest("conflicting Content-Length fields"))
        #expect(error?.status == 400)
    }

    /// A Content-Length that is not 1 to 15 decimal digits is refused, lists included.
    @Test(arguments: ["", "-1", "+5", "5a", "0x10", "1 000", "5, 5", "5,5", "1234567890123456", "١٢"])
    func refusesInvalidContentLength(value: String) {
        #expect(requestRejection("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: \(value)\r\n\r\n") == .badRequest("invalid Content-Length"))
    }

    /// Transfer-Encoding in an HTTP/1.0 request is refused (RFC 9112 §6.1: the framing cannot be trusted).
    @Test func refusesTransferEncodingInHTTP10() {
        let error = requestRejection("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n")
        #expect(error == .badRequest("Transfer-Encoding in an HTTP/1.0 request"))
        #expect(error?.status == 400)
    }

    /// A transfer coding other than a single chunked is not implemented: 501.
    @Test(arguments: ["gzip", "gzip, chunked", "chunked, gzip", "identity", "deflate", "chunked;q=1", "", "x-chunked"])
    func refusesOtherTransferCodingsWith501(value: String) {
        let error = requestRejection("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \(value)\r\n\r\n")
        #expect(error == .unsupportedTransferCoding)
        #expect(error?.status == 501)
    }

    /// chunked applied twice, in a second field or in one list, is ambiguous framing: 400.
    @Test(arguments: ["Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked", "Transfer-Encoding: chunked, chunked"])
    func refusesChunkedAppliedTwice(fields: String) {
        let error = requestRejection("POST / HTTP/1.1\r\nHost: a\r\n\(fields)\r\n\r\n")
        #expect(error == .badRequest("chunked applied more than once"))
    }

    /// Versions other than 1.0 and 1.1 are answered 505; a malformed version is a 400.
    @Test(arguments: [
        ("HTTP/2.0", 505), ("HTTP/1.2", 505), ("HTTP/0.9", 505), ("HTTP/3.0", 505), ("HTTP/9.9", 505),
        ("HTTP/1", 400), ("http/1.1", 400), ("HTTP/1.1x", 400), ("HTTP/11", 400), ("HTTP/a.b", 400), ("HTTPS/1.1", 400),
    ])
    func refusesOtherVersions(version: String, status: Int) {
        #expect(requestRejection("GET / \(version)\r\nHost: a\r\n\r\n")?.status == status)
    }

    /// HTTP/2.0 in a request line is "version not supported".
    @Test func refusesHTTP2With505() {
        #expect(requestRejection("GET / HTTP/2.0\r\nHost: a\r\n\r\n") == .unsupportedVersion)
    }

    /// HTTP/1.1 requires exactly one Host field; HTTP/1.0 allows at most one.
    @Test func refusesMissingOrDuplicateHost() {
        #expect(requestRejection("GET / HTTP/1.1\r\nX: y\r\n\r\n") == .badRequest("missing Host header field"))
        #expect(requestRejection("GET / HTTP/1.1\r\n\r\n") == .badRequest("missing Host header field"))
        #expect(requestRejection("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n") == .badRequest("more than one Host header field"))
        #expect(requestRejection("GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n") == .badRequest("more than one Host header field"))
        #expect(requestRejection("GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n") == .badRequest("more than one Host header field"))
    }

    /// A complete head longer than `maxHeadBytes` is refused with 431.
    @Test func refusesOversizedCompleteHead() {
        let text = "GET / HTTP/1.1\r\nHost: a\r\nX-Big: \(String(repeating: "b", count: 200))\r\n\r\n"
        let error = requestRejection(text, limits: HeadLimits(maxHeadBytes: 128))
        #expect(error == .headersTooLarge)
        #expect(error?.status == 431)
        #expect(requestRejection(text, limits: HeadLimits(maxHeadBytes: text.utf8.count - 1)) == .headersTooLarge)
    }

    /// An unfinished head already longer than `maxHeadBytes` is refused at once with 431, not buffered further.
    @Test func refusesOversizedIncompleteHead() {
        let text = "GET / HTTP/1.1\r\nHost: a\r\nX-Big: \(String(repeating: "b", count: 200))"
        #expect(requestRejection(text, limits: HeadLimits(maxHeadBytes: 128)) == .headersTooLarge)
        // At the limit it is still waiting for more.
        #expect(requestRejection(Array(Array(text.utf8)[..<128]), limits: HeadLimits(maxHeadBytes: 128)) == nil)
    }

    /// A request-target longer than `maxTargetBytes` is refused with 414.
    @Test func refusesLongTarget() {
        let target = "/" + String(repeating: "t", count: 100)
        let error = requestRejection("GET \(target) HTTP/1.1\r\nHost: a\r\n\r\n", limits: HeadLimits(maxTargetBytes: 100))
        #expect(error == .uriTooLong)
        #expect(error?.status == 414)
    }

    /// A request line that has not ended when the head limit is reached is a target that is too long: 414.
    @Test func refusesEndlessRequestLineWith414() {
        let text = "GET /" + String(repeating: "t", count: 300)
        #expect(requestRejection(text, limits: HeadLimits(maxHeadBytes: 256)) == .uriTooLong)
    }

    /// More than `maxHeaderCount` fields are refused with 431.
    @Test func refusesTooManyHeaders() {
        let fields = (1...10).map { "X-\($0): v\r\n" }.joined()
        let error = requestRejection("GET / HTTP/1.1\r\nHost: a\r\n\(fields)\r\n", limits: HeadLimits(maxHeaderCount: 10))
        #expect(error == .headersTooLarge)
        #expect(error?.status == 431)
    }

    /// The default limits refuse the 101st field.
    @Test func defaultLimitIsOneHundredFields() {
        let ninetyNine = (1...99).map { "X-\($0): v\r\n" }.joined()
        #expect(requestRejection("GET / HTTP/1.1\r\nHost: a\r\n\(ninetyNine)\r\n") == nil)
        #expect(requestRejection("GET / HTTP/1.1\r\nHost: a\r\n\(ninetyNine)X-100: v\r\n\r\n") == .headersTooLarge)
    }

    /// Malformed request lines: bad method characters, missing or doubled spaces, bad target bytes.
    @Test(arguments: [
        "GE(T / HTTP/1.1", " GET / HTTP/1.1", "GET  / HTTP/1.1", "GET /  HTTP/1.1", "GET / HTTP/1.1 ",
        "GET\t/ HTTP/1.1", "GET /a\tb HTTP/1.1", "GET /\u{7F} HTTP/1.1", "GET /é HTTP/1.1", "GET", "GET /",
        "GET / ", "/ HTTP/1.1",
    ])
    func refusesMalformedRequestLines(line: String) {
        #expect(requestRejection("\(line)\r\nHost: a\r\n\r\n")?.status == 400)
    }

    /// The asterisk form is for OPTIONS only.
    @Test func refusesAsteriskWithOtherMethods() {
        #expect(requestRejection("GET * HTTP/1.1\r\nHost: a\r\n\r\n") == .badRequest("asterisk-form request-target with a method other than OPTIONS"))
    }

    /// A target that is neither origin-, absolute-, authority- nor asterisk-form is refused.
    @Test(arguments: ["example.com", "http:/x", "http//x", "http:///path", "http://", "**", "?q", ":80"])
    func refusesUnrecognisedTargets(target: String) {
        #expect(requestRejection("GET \(target) HTTP/1.1\r\nHost: a\r\n\r\n")?.status == 400)
    }

    /// Each error carries the status a proxy answers and a reason for the response body.
    @Test func errorsCarryStatusAndReason() {
        #expect(HTTPParseError.badRequest("why").status == 400)
        #expect(HTTPParseError.badRequest("why").reason == "why")
        #expect(HTTPParseError.uriTooLong.reason == "request-target too long")
        #expect(HTTPParseError.headersTooLarge.reason == "request header fields too large")
        #expect(HTTPParseError.unsupportedTransferCoding.reason == "transfer coding not implemented")
        #expect(HTTPParseError.unsupportedVersion.reason == "HTTP version not supported")
    }
}
