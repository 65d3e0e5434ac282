/// Incremental, strict HTTP/1.1 request-head parser (RFC 9112 §3, §5, §6).
///
/// Feed it the bytes received so far, starting at the first byte of the message; it answers `false` until the
/// whole head is there, then fills `RequestHead` and answers `true`. It remembers how far it has looked, so a head
/// arriving in many reads is scanned once. Errors carry the status to answer (400, 414, 431, 501, 505); a refused
/// head must never be forwarded.
public struct RequestHeadParser: Sendable {
    public var limits: HeadLimits
    private var scanned = 0

    public init(limits: HeadLimits = HeadLimits()) {
        self.limits = limits
    }

    /// Forget progress; call before parsing the next message.
    public mutating func reset() { scanned = 0 }

    /// Number of empty lines (CRLF) at the start of `message` that RFC 9112 §2.2 lets a server ignore before a
    /// request line; the caller drops them and parses from there.
    public static func leadingEmptyLines(_ message: UnsafeRawBufferPointer) -> Int {
        var i = 0
        while i + 1 < message.count && message[i] == ASCII.cr && message[i + 1] == ASCII.lf { i += 2 }
        return i
    }

    /// - Returns: true when `head` now holds a complete head; false when more bytes are needed.
    public mutating func parse(_ message: UnsafeRawBufferPointer, into head: inout RequestHead) throws(HTTPParseError) -> Bool {
        guard let headEnd = findHeadEnd(message, from: scanned) else {
            scanned = max(0, message.count - 3)
            if message.count > limits.maxHeadBytes {
                throw findLineEnd(message) == nil ? .uriTooLong : .headersTooLarge
            }
            return false
        }
        scanned = 0
        guard headEnd <= limits.maxHeadBytes else { throw .headersTooLarge }
        try parseRequestLine(message, headEnd: headEnd, into: &head)
        return true
    }

    private func findLineEnd(_ message: UnsafeRawBufferPointer) -> Int? {
        for i in 0..<message.count where message[i] == ASCII.lf { return i }
        return nil
    }

    @inline(__always)
    private func parseRequestLine(_ message: UnsafeRawBufferPointer, headEnd: Int, into head: inout RequestHead) throws(HTTPParseError) {
        var i = 0
        while ASCII.isTokenChar(message[i]) { i &+= 1 }
        guard i > 0, message[i] == ASCII.sp else { throw .badRequest("invalid request line") }
        head.methodSpan = ByteSpan(start: 0, count: i)
        head.method = HTTPMethod(token: UnsafeRawBufferPointer(rebasing: message[0..<i]))
        i &+= 1
        let targetStart = i
        while i < headEnd && ASCII.isTargetChar(message[i]) { i &+= 1 }
        guard i > targetStart, message[i] == ASCII.sp else { throw .badRequest("invalid request-target") }
        guard i - targetStart <= limits.maxTargetBytes else { throw .uriTooLong }
        head.target = ByteSpan(start: targetStart, count: i - targetStart)
        i &+= 1
        head.versionMinor = try parseVersion(message, at: i, end: headEnd)
        i &+= 8
        guard message[i] == ASCII.cr, message[i + 1] == ASCII.lf else { throw .badRequest("invalid request line") }
        i &+= 2

        let summary = try parseHeaderFields(message, from: i, headEnd: headEnd, limits: limits, into: &head.headers)
        head.headLength = headEnd
        try interpretTarget(message, into: &head)
        try applyFraming(summary, into: &head)
    }

    /// Splits the target into authority and path (origin-form, absolute-form, authority-form, asterisk-form).
    @inline(__always)
    private func interpretTarget(_ message: UnsafeRawBufferPointer, into head: inout RequestHead) throws(HTTPParseError) {
        let target = head.target
        let first = message[Int(target.start)]
        var pathSpan = target
        var authoritySpan: ByteSpan? = nil
        if first == 47 {  // '/': origin-form
        } else if first == 42 && target.count == 1 {  // '*': asterisk-form, OPTIONS only
            guard head.method == .options else { throw .badRequest("asterisk-form request-target with a method other than OPTIONS") }
        } else if head.method == .connect {
            authoritySpan = target
            pathSpan = ByteSpan(start: target.end, count: 0)
        } else {
            // absolute-form: scheme "://" authority [path]
            let bytes = target.bytes(in: message)
            var schemeEnd = 0
            while schemeEnd < bytes.count && bytes[schemeEnd] != ASCII.colon { schemeEnd += 1 }
            guard schemeEnd > 0, schemeEnd + 3 <= bytes.count, bytes[schemeEnd + 1] == 47, bytes[schemeEnd + 2] == 47 else {
                throw .badRequest("invalid request-target")
            }
            let authorityStart = schemeEnd + 3
            var authorityEnd = authorityStart
            while authorityEnd < bytes.count && bytes[authorityEnd] != 47 && bytes[authorityEnd] != 63 { authorityEnd += 1 }
            guard authorityEnd > authorityStart else { throw .badRequest("absolute-form request-target without authority") }
            authoritySpan = ByteSpan(start: Int(target.start) + authorityStart, count: authorityEnd - authorityStart)
            pathSpan = ByteSpan(start: Int(target.start) + authorityEnd, count: bytes.count - authorityEnd)
        }
        head.path = pathSpan
        var q = 0
        let pathBytes = pathSpan.bytes(in: message)
        while q < pathBytes.count && pathBytes[q] != 63 { q &+= 1 }
        head.pathLengthWithoutQuery = Int32(q)
        if let authoritySpan { head.authority = authoritySpan }
        else { head.authority = ByteSpan.empty }
    }

    @inline(__always)
    private func applyFraming(_ summary: FieldSummary, into head: inout RequestHead) throws(HTTPParseError) {
        if head.versionMinor == 1 {
            guard summary.hostCount == 1 else {
                throw .badRequest(summary.hostCount == 0 ? "missing Host header field" : "more than one Host header field")
            }
        } else if summary.hostCount > 1 {
            throw .badRequest("more than one Host header field")
        }
        if head.authority.isEmpty && head.target.count > 0 && summary.hostCount == 1 {
            head.authority = summary.host
        }
        if summary.transferEncodingCount > 0 {
            guard head.versionMinor == 1 else { throw .badRequest("Transfer-Encoding in an HTTP/1.0 request") }
            guard summary.contentLength == nil else { throw .badRequest("both Content-Length and Transfer-Encoding") }
            guard summary.transferEncodingOnlyChunked, summary.transferEncodingChunked else { throw .unsupportedTransferCoding }
            // chunked may be applied once (RFC 9112 §7): "chunked, chunked" or two fields is ambiguous framing.
            guard summary.transferCodingCount == 1 else { throw .badRequest("chunked applied more than once") }
            head.framing = .chunked
        } else if let length = summary.contentLength {
            head.framing = length == 0 ? .none : .contentLength(length)
        } else {
            head.framing = .none
        }
        if head.versionMinor == 1 {
            head.keepAlive = !summary.connectionClose
        } else {
            head.keepAlive = summary.connectionKeepAlive && !summary.connectionClose
        }
        head.expectsContinue = summary.expectsContinue && head.versionMinor == 1
        head.isUpgrade = summary.connectionUpgrade && summary.hasUpgrade
    }
}
