import KanariaHTTP

/// A request's bytes with the head parsed from them; the head's spans are offsets into `bytes`.
struct ParsedRequest {
    var bytes: [UInt8]
    var head: RequestHead

    func text(_ span: ByteSpan) -> String { bytes.withUnsafeBytes { span.string(in: $0) } }

    var methodName: String { text(head.methodSpan) }
    var target: String { text(head.target) }
    var path: String { text(head.path) }
    var pathWithoutQuery: String {
        text(ByteSpan(start: Int(head.path.start), count: Int(head.pathLengthWithoutQuery)))
    }
    var authority: String { text(head.authority) }

    /// Every field as (name, value) strings, in order.
    var fields: [(String, String)] { head.headers.map { (text($0.name), text($0.value)) } }

    /// The value of the first field named `name` (any case), through `RequestView` as routing reads it.
    func value(ofField name: String) -> String? {
        bytes.withUnsafeBytes { message in
            let view = RequestView(message: message, head: head)
            let lowercased = Array(name.lowercased().utf8)
            return lowercased.withUnsafeBytes { view.value(ofField: $0) }.map { String(decoding: $0, as: UTF8.self) }
        }
    }
}

/// Parses `text` as one request head in a single read; nil when the head is incomplete.
func parseRequest(_ text: String, limits: HeadLimits = HeadLimits()) throws -> ParsedRequest? {
    try parseRequest(Array(text.utf8), limits: limits)
}

func parseRequest(_ bytes: [UInt8], limits: HeadLimits = HeadLimits()) throws -> ParsedRequest? {
    var parser = RequestHeadParser(limits: limits)
    var head = RequestHead()
    let complete = try bytes.withUnsafeBytes { try parser.parse($0, into: &head) }
    return complete ? ParsedRequest(bytes: bytes, head: head) : nil
}

/// The error a request head is refused with, or nil when it parses (or is incomplete).
func requestRejection(_ text: String, limits: HeadLimits = HeadLimits()) -> HTTPParseError? {
    requestRejection(Array(text.utf8), limits: limits)
}

func requestRejection(_ bytes: [UInt8], limits: HeadLimits = HeadLimits()) -> HTTPParseError? {
    do {
        _ = try parseRequest(bytes, limits: limits)
        return nil
    } catch {
        return error as? HTTPParseError
    }
}

/// Everything a parse produces, comparable, so two parses of the same bytes can be checked for equality.
struct RequestHeadSnapshot: Equatable {
    var method: HTTPMethod
    var methodSpan: ByteSpan
    var target: ByteSpan
    var path: ByteSpan
    var pathLengthWithoutQuery: Int32
    var authority: ByteSpan
    var versionMinor: UInt8
    var headers: [HeaderField]
    var headLength: Int
    var framing: BodyFraming
    var keepAlive: Bool
    var expectsContinue: Bool
    var isUpgrade: Bool

    init(_ head: RequestHead) {
        method = head.method
        methodSpan = head.methodSpan
        target = head.target
        path = head.path
        pathLengthWithoutQuery = head.pathLengthWithoutQuery
        authority = head.authority
        versionMinor = head.versionMinor
        headers = head.headers
        headLength = head.headLength
        framing = head.framing
        keepAlive = head.keepAlive
        expectsContinue = head.expectsContinue
        isUpgrade = head.isUpgrade
    }
}

struct ResponseHeadSnapshot: Equatable {
    var status: Int
    var versionMinor: UInt8
    var statusLine: ByteSpan
    var headers: [HeaderField]
    var headLength: Int
    var framing: BodyFraming
    var keepAlive: Bool

    init(_ head: ResponseHead) {
        status = head.status
        versionMinor = head.versionMinor
        statusLine = head.statusLine
        headers = head.headers
        headLength = head.headLength
        framing = head.framing
        keepAlive = head.keepAlive
    }
}

/// Parses `text` as a response head to a request with `method`; nil when the head is incomplete.
func parseResponse(_ text: String, to method: HTTPMethod = .get, limits: HeadLimits = HeadLimits()) throws -> ResponseHead? {
    var parser = ResponseHeadParser(limits: limits)
    var head = ResponseHead()
    let bytes = Array(text.utf8)
    let complete = try bytes.withUnsafeBytes { try parser.parse($0, requestMethod: method, into: &head) }
    return complete ? head : nil
}

func responseRejection(_ text: String, to method: HTTPMethod = .get, limits: HeadLimits = HeadLimits()) -> HTTPParseError? {
    do {
        _ = try parseResponse(text, to: method, limits: limits)
        return nil
    } catch {
        return error as? HTTPParseError
    }
}

/// A seeded generator for property tests: the same seed gives the same cases, so a failure reproduces.
struct TestRandom: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Cuts `count` bytes into consecutive pieces of random lengths (1 or more each).
func randomCuts(_ count: Int, using random: inout TestRandom) -> [Range<Int>] {
    var cuts: [Range<Int>] = []
    var start = 0
    while start < count {
        let length = Int.random(in: 1...max(1, min(count - start, 1 + Int.random(in: 0...24, using: &random))), using: &random)
        cuts.append(start..<start + length)
        start += length
    }
    return cuts
}
