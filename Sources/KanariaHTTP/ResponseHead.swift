/// A parsed HTTP/1.x response head whose spans point into the message buffer it was parsed from.
public struct ResponseHead: Sendable {
    public var status = 0
    public var versionMinor: UInt8 = 1
    /// The status line, CRLF included.
    public var statusLine = ByteSpan.empty
    public var headers: [HeaderField] = []
    /// Bytes of the head, status line and final blank line included: the body starts here.
    public var headLength = 0
    public var framing = BodyFraming.none
    /// Whether the upstream will keep the connection open after this response.
    public var keepAlive = true

    public init() {}

    /// 1xx: an interim response; the final one follows on the same connection.
    @inlinable public var isInformational: Bool { status >= 100 && status < 200 }

    @inlinable public func firstField(_ kind: HeaderKind) -> HeaderField? {
        for field in headers where field.kind == kind { return field }
        return nil
    }
}

/// Incremental, strict HTTP/1.1 response-head parser; framing follows RFC 9112 §6.3 for the given request method.
public struct ResponseHeadParser: Sendable {
    public var limits: HeadLimits
    private var scanned = 0

    public init(limits: HeadLimits = HeadLimits()) {
        self.limits = limits
    }

    public mutating func reset() { scanned = 0 }

    /// - Parameter requestMethod: the method of the request this answers (HEAD responses have no body).
    /// - Returns: true when `head` holds a complete head; false when more bytes are needed.
    public mutating func parse(
        _ message: UnsafeRawBufferPointer, requestMethod: HTTPMethod, into head: inout ResponseHead
    ) throws(HTTPParseError) -> Bool {
        guard let headEnd = findHeadEnd(message, from: scanned) else {
            scanned = max(0, message.count - 3)
            if message.count > limits.maxHeadBytes { throw .headersTooLarge }
            return false
        }
        scanned = 0
        guard headEnd <= limits.maxHeadBytes else { throw .headersTooLarge }

        head.versionMinor = try parseVersion(message, at: 0, end: headEnd)
        guard message[8] == ASCII.sp else { throw .badRequest("invalid status line") }
        var status = 0
        for i in 9..<12 {
            let c = message[i]
            guard c >= 48 && c <= 57 else { throw .badRequest("invalid status code") }
            status = status * 10 + Int(c - 48)
        }
        guard status >= 100 else { throw .badRequest("invalid status code") }
        head.status = status
        var i = 12
        if message[i] == ASCII.sp {
            i += 1
            while i < headEnd && ASCII.isFieldValueChar(message[i]) { i += 1 }
        }
        guard message[i] == ASCII.cr, message[i + 1] == ASCII.lf else { throw .badRequest("invalid status line") }
        i += 2
        head.statusLine = ByteSpan(start: 0, count: i)
        let summary = try parseHeaderFields(message, from: i, headEnd: headEnd, limits: limits, into: &head.headers)
        head.headLength = headEnd
        head.keepAlive = head.versionMinor == 1 ? !summary.connectionClose : (summary.connectionKeepAlive && !summary.connectionClose)

        if requestMethod == .head || head.isInformational || status == 204 || status == 304 {
            head.framing = .none
        } else if summary.transferEncodingCount > 0 {
            if summary.transferEncodingChunked {
                head.framing = .chunked
            } else {
                head.framing = .untilClose
                head.keepAlive = false
            }
        } else if let length = summary.contentLength {
            head.framing = length == 0 ? .none : .contentLength(length)
        } else {
            head.framing = .untilClose
            head.keepAlive = false
        }
        return true
    }
}
