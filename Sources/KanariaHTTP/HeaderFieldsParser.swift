/// What the framing-relevant fields of a head said, gathered while its fields are parsed.
struct FieldSummary {
    var contentLength: Int? = nil
    var transferEncodingCount = 0
    /// True when the last transfer coding is `chunked`.
    var transferEncodingChunked = false
    /// True when every transfer coding listed is `chunked` (one coding, the only one this proxy implements).
    var transferEncodingOnlyChunked = true
    /// How many codings were listed in all Transfer-Encoding fields together ("chunked, chunked" is two).
    var transferCodingCount = 0
    var connectionClose = false
    var connectionKeepAlive = false
    var connectionUpgrade = false
    var hostCount = 0
    var host = ByteSpan.empty
    var expectsContinue = false
    var hasUpgrade = false
}

/// Parses the header fields of a complete head (RFC 9112 §5), strictly: no whitespace before the colon, no
/// obs-fold, CRLF line endings only, no control characters in values, token characters in names.
///
/// - Parameters:
///   - message: the message's bytes, starting at its first byte.
///   - start: offset of the first field line (just after the start line's CRLF).
///   - headEnd: offset just past the blank line that ends the head.
///   - headers: receives one `HeaderField` per line, in order (cleared first, capacity kept).
/// - Returns: the framing-relevant facts.
@inline(__always)
func parseHeaderFields(
    _ message: UnsafeRawBufferPointer, from start: Int, headEnd: Int, limits: HeadLimits,
    into headers: inout [HeaderField]
) throws(HTTPParseError) -> FieldSummary {
    headers.removeAll(keepingCapacity: true)
    var summary = FieldSummary()
    var i = start
    let last = headEnd - 2  // the final CRLF
    while i < last {
        let lineStart = i
        let first = message[i]
        if first == ASCII.sp || first == ASCII.htab {
            throw .badRequest("obsolete line folding in header field")
        }
        while i < last && ASCII.isTokenChar(message[i]) { i &+= 1 }
        guard i < last, message[i] == ASCII.colon else {
            if i < last && (message[i] == ASCII.sp || message[i] == ASCII.htab) {
                throw .badRequest("whitespace between header field name and colon")
            }
            throw .badRequest("invalid header field name")
        }
        guard i > lineStart else { throw .badRequest("empty header field name") }
        let nameEnd = i
        i &+= 1
        while i < last && (message[i] == ASCII.sp || message[i] == ASCII.htab) { i &+= 1 }
        let valueStart = i
        var valueEnd = i
        while i < headEnd {
            let c = message[i]
            if ASCII.isFieldValueChar(c) {
                i &+= 1
                if c != ASCII.sp && c != ASCII.htab { valueEnd = i }
                continue
            }
            break
        }
        guard i + 1 < headEnd, message[i] == ASCII.cr, message[i + 1] == ASCII.lf else {
            throw .badRequest("invalid character in header field value")
        }
        i &+= 2
        guard headers.count < limits.maxHeaderCount else { throw .headersTooLarge }
        let name = ByteSpan(start: lineStart, count: nameEnd - lineStart)
        let value = ByteSpan(start: valueStart, count: valueEnd - valueStart)
        let kind = HeaderKind(name: name.bytes(in: message))
        headers.append(HeaderField(name: name, value: value, line: ByteSpan(start: lineStart, count: i - lineStart), kind: kind))
        if kind != .other {
            try summarize(kind, value.bytes(in: message), span: value, into: &summary)
        }
    }
    return summary
}

@inline(__always)
private func summarize(
    _ kind: HeaderKind, _ value: UnsafeRawBufferPointer, span: ByteSpan, into summary: inout FieldSummary
) throws(HTTPParseError) {
    switch kind {
    case .contentLength:
        guard let length = HTTPBytes.decimal(value) else { throw .badRequest("invalid Content-Length") }
        if let previous = summary.contentLength, previous != length {
            throw .badRequest("conflicting Content-Length fields")
        }
        summary.contentLength = length
    case .transferEncoding:
        summary.transferEncodingCount += 1
        HTTPBytes.forEachListElement(value) { element in
            let chunked = HTTPBytes.equalsIgnoringCase(element, "chunked")
            summary.transferCodingCount += 1
            if !chunked { summary.transferEncodingOnlyChunked = false }
            summary.transferEncodingChunked = chunked
        }
    case .connection:
        HTTPBytes.forEachListElement(value) { element in
            if HTTPBytes.equalsIgnoringCase(element, "close") { summary.connectionClose = true }
            else if HTTPBytes.equalsIgnoringCase(element, "keep-alive") { summary.connectionKeepAlive = true }
            else if HTTPBytes.equalsIgnoringCase(element, "upgrade") { summary.connectionUpgrade = true }
        }
    case .host:
        summary.hostCount += 1
        summary.host = span
    case .expect:
        summary.expectsContinue = HTTPBytes.equalsIgnoringCase(value, "100-continue")
    case .upgrade:
        summary.hasUpgrade = true
    default:
        break
    }
}

/// Finds the end of a head: the offset just past the first CRLF CRLF at or after `from`, or nil.
@inline(__always)
func findHeadEnd(_ message: UnsafeRawBufferPointer, from: Int) -> Int? {
    var i = max(from, 3)
    let n = message.count
    while i < n {
        if message[i] == ASCII.lf && message[i - 1] == ASCII.cr && message[i - 2] == ASCII.lf && message[i - 3] == ASCII.cr {
            return i + 1
        }
        i &+= 1
    }
    return nil
}

/// Parses "HTTP/1.x" at `i`; returns the minor version (0 or 1).
@inline(__always)
func parseVersion(_ message: UnsafeRawBufferPointer, at i: Int, end: Int) throws(HTTPParseError) -> UInt8 {
    guard end - i >= 8,
          message[i] == 72, message[i + 1] == 84, message[i + 2] == 84, message[i + 3] == 80, message[i + 4] == 47
    else { throw .badRequest("invalid HTTP version") }
    let major = message[i + 5], dot = message[i + 6], minor = message[i + 7]
    guard major >= 48 && major <= 57, dot == 46, minor >= 48 && minor <= 57 else {
        throw .badRequest("invalid HTTP version")
    }
    guard major == 49, minor == 48 || minor == 49 else { throw .unsupportedVersion }
    return minor - 48
}
