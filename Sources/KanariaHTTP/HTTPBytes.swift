/// Byte helpers for header names and values, shared by every module that reads heads (HTTP/1.1, HTTP/2, the
/// proxy): case-insensitive comparison, comma-separated lists, decimal numbers.
public enum HTTPBytes {
    @inlinable @inline(__always) public static func lower(_ c: UInt8) -> UInt8 { (c >= 65 && c <= 90) ? c | 0x20 : c }

    /// Case-insensitive comparison of `bytes` with `lowercased` (already lowercase ASCII).
    @inlinable @inline(__always)
    public static func equalsIgnoringCase(_ bytes: UnsafeRawBufferPointer, _ lowercased: StaticString) -> Bool {
        guard bytes.count == lowercased.utf8CodeUnitCount else { return false }
        let expected = lowercased.utf8Start
        for i in 0..<bytes.count where lower(bytes[i]) != expected[i] { return false }
        return true
    }

    /// Case-insensitive comparison of two byte runs.
    @inlinable @inline(__always)
    public static func equalsIgnoringCase(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
        guard a.count == b.count else { return false }
        for i in 0..<a.count where lower(a[i]) != lower(b[i]) { return false }
        return true
    }

    /// Exact comparison of `bytes` with `text`.
    @inlinable @inline(__always)
    public static func equals(_ bytes: UnsafeRawBufferPointer, _ text: StaticString) -> Bool {
        guard bytes.count == text.utf8CodeUnitCount else { return false }
        let expected = text.utf8Start
        for i in 0..<bytes.count where bytes[i] != expected[i] { return false }
        return true
    }

    /// The bytes of a static string.
    @inlinable public static func buffer(_ text: StaticString) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount)
    }

    /// Calls `body` with each non-empty element of a comma-separated list (RFC 9110 §5.6.1), whitespace trimmed.
    @inlinable @inline(__always)
    public static func forEachListElement(_ value: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) -> Void) {
        var i = 0
        let n = value.count
        while i < n {
            while i < n && (value[i] == 32 || value[i] == 9 || value[i] == 44) { i += 1 }
            let start = i
            var end = i
            while i < n && value[i] != 44 {
                if value[i] != 32 && value[i] != 9 { end = i + 1 }
                i += 1
            }
            if end > start { body(UnsafeRawBufferPointer(rebasing: value[start..<end])) }
        }
    }

    /// 1*DIGIT, at most 15 digits (below 2^53, as Envoy and browsers bound Content-Length); nil otherwise.
    @inlinable public static func decimal(_ value: UnsafeRawBufferPointer) -> Int? {
        guard !value.isEmpty, value.count <= 15 else { return nil }
        var n = 0
        for c in value {
            guard c >= 48 && c <= 57 else { return nil }
            n = n &* 10 &+ Int(c &- 48)
        }
        return n
    }
}

/// Reason phrases of the common status codes (RFC 9110 §15), for status lines the proxy writes itself.
public enum HTTPStatus {
    public static func reasonPhrase(_ status: Int) -> StaticString {
        switch status {
        case 100: "Continue"
        case 101: "Switching Protocols"
        case 103: "Early Hints"
        case 200: "OK"
        case 201: "Created"
        case 202: "Accepted"
        case 204: "No Content"
        case 206: "Partial Content"
        case 301: "Moved Permanently"
        case 302: "Found"
        case 303: "See Other"
        case 304: "Not Modified"
        case 307: "Temporary Redirect"
        case 308: "Permanent Redirect"
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 408: "Request Timeout"
        case 409: "Conflict"
        case 410: "Gone"
        case 413: "Content Too Large"
        case 414: "URI Too Long"
        case 415: "Unsupported Media Type"
        case 422: "Unprocessable Content"
        case 429: "Too Many Requests"
        case 431: "Request Header Fields Too Large"
        case 500: "Internal Server Error"
        case 501: "Not Implemented"
        case 502: "Bad Gateway"
        case 503: "Service Unavailable"
        case 504: "Gateway Timeout"
        case 505: "HTTP Version Not Supported"
        default: ""  // a reason phrase may be empty (RFC 9112 §4)
        }
    }
}
