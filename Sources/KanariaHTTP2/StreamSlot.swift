import KanariaHTTP

/// Everything a session keeps for one stream, in a slot that is reused by later streams: the received head in
/// the HTTP/1.1 layout the rest of the proxy reads, the received body, and the body being sent.
///
/// Slots live in an array owned by the session; their buffers are allocated when the slot is first used and kept,
/// so a stream on a warm connection allocates nothing here.
struct StreamSlot {
    struct Flags: OptionSet {
        var rawValue: UInt16
        /// The caller knows the stream: its head event was queued (server), or it submitted it (client).
        static let announced = Flags(rawValue: 1 << 0)
        /// The caller is done with the stream; the slot is freed once nghttp2 has closed it too.
        static let released = Flags(rawValue: 1 << 1)
        /// nghttp2 closed the stream.
        static let closed = Flags(rawValue: 1 << 2)
        /// The peer ended its side.
        static let remoteEnded = Flags(rawValue: 1 << 3)
        /// This side's END_STREAM is queued in nghttp2 or already produced.
        static let localEnded = Flags(rawValue: 1 << 4)
        /// The caller reset the stream.
        static let resetByCaller = Flags(rawValue: 1 << 5)
        /// The header block being received is trailers.
        static let receivingTrailers = Flags(rawValue: 1 << 6)
        /// A data provider is attached (a head was submitted without END_STREAM).
        static let providing = Flags(rawValue: 1 << 7)
        /// nghttp2 was told NGHTTP2_ERR_DEFERRED: resume when more body is offered.
        static let deferred = Flags(rawValue: 1 << 8)
        /// The caller will offer no more body bytes.
        static let endOfBody = Flags(rawValue: 1 << 9)
        /// Trailers wait in `trailerBlock` for the body to be queued.
        static let trailersPending = Flags(rawValue: 1 << 10)
        /// The body is the session's own (`localBody`), copied into frames rather than borrowed.
        static let localBody = Flags(rawValue: 1 << 11)
        /// The session answered the request itself (431): no caller involvement, freed on close.
        static let answeredBySession = Flags(rawValue: 1 << 12)
        /// The request head (server) or final response head (client) was received whole.
        static let headReceived = Flags(rawValue: 1 << 13)
        /// The frame carrying this side's END_STREAM was produced.
        static let endSent = Flags(rawValue: 1 << 14)
        /// Closed without error while offered bytes were still queued: `.streamClosed` waits for their writing.
        static let closeEventPending = Flags(rawValue: 1 << 15)
    }

    /// The pseudo-header fields and framing facts gathered while a head is received.
    struct Pseudo {
        var method = ByteSpan.empty
        var scheme = ByteSpan.empty
        var authority = ByteSpan.empty
        var path = ByteSpan.empty
        var hasMethod = false
        var hasPath = false
        var hasAuthority = false
        var status = 0
        var contentLength = -1
        var host = ByteSpan.empty
        var hostCount = 0
        var cookieCount = 0
        var expectsContinue = false
    }

    struct Region {
        var base: UnsafeRawPointer
        var count: Int
    }

    var streamID: Int32 = 0
    var flags: Flags = []
    /// Sequence number of the head event, to tell whether the caller has seen it yet.
    var headSequence = -1
    /// While a head is received: 0, or the status to refuse it with (431 too large, 400 malformed).
    var rejectStatus = 0
    /// The error the session reset the stream with itself (0: none): reported on close even if nghttp2 closes
    /// the stream normally first (a rejected response head that carried END_STREAM).
    var sessionResetCode: UInt32 = 0
    var listSize = 0
    var fieldCount = 0

    /// The received head (and trailers after it) in HTTP/1.1 layout: pseudo-header values, then one
    /// "name: value\r\n" line per field, so that `HeaderField.line` can be forwarded to HTTP/1.1 unchanged.
    /// A response starts with a status line "HTTP/1.1 200 OK\r\n".
    var head: ByteBuffer
    var request = RequestHead()
    var response = ResponseHead()
    var trailerFields: [HeaderField] = []
    var pseudo = Pseudo()
    var received = ReceivedBody()
    /// Client: the method of the request, which decides whether the response can have a body.
    var requestMethod = HTTPMethod.get

    /// Body offered by the caller, in order; `regionHead`/`regionOffset` mark the first byte not yet framed.
    var regions: [Region] = []
    var regionHead = 0
    var regionOffset = 0
    /// Offered bytes not yet put in a DATA frame.
    var unframed = 0
    /// Offered bytes framed (queued for output) and not yet written.
    var unwritten = 0
    var trailerBlock: HTTP2HeaderBlock?
    /// A body the session answers with itself, sent by copying.
    var localBody = ByteBuffer(capacity: 64)

    /// Buffers larger than this are freed when the slot is reset rather than kept for the next stream.
    static let keptCapacity = 16 * 1024

    init() {
        head = ByteBuffer(capacity: 1024)
        request.headers.reserveCapacity(16)
    }

    func deallocate() {
        head.deallocate()
        localBody.deallocate()
    }

    var headBytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: head.base, count: head.writeIndex) }

    // MARK: Receiving a head

    mutating func beginHead() {
        head.clear()
        request.headers.removeAll(keepingCapacity: true)
        response.headers.removeAll(keepingCapacity: true)
        pseudo = Pseudo()
        listSize = 0
        fieldCount = 0
        rejectStatus = 0
        flags.remove(.receivingTrailers)
    }

    mutating func beginTrailers() {
        trailerFields.removeAll(keepingCapacity: true)
        listSize = 0
        fieldCount = 0
        flags.insert(.receivingTrailers)
    }

    /// Records one received field. Once the list is over a limit, the rest is only counted (HPACK state must
    /// still be kept by nghttp2) and the head is refused with 431 when it ends.
    mutating func addField(name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer, limits: HTTP2Configuration, isResponse: Bool) {
        listSize += name.count + value.count + 32
        fieldCount += 1
        if listSize > limits.maxHeaderListSize || fieldCount > limits.maxHeaderCount {
            rejectStatus = 431
            return
        }
        guard rejectStatus == 0 else { return }
        if name.first == 0x3A {  // ':' (nghttp2 has checked the pseudo-header fields' names and order)
            addPseudo(name: name, value: value, isResponse: isResponse)
            return
        }
        let lineStart = head.writeIndex
        head.append(name)
        head.append(": ")
        let valueStart = head.writeIndex
        head.append(value)
        head.append("\r\n")
        let kind = HeaderKind(name: name)
        let field = HeaderField(name: ByteSpan(start: lineStart, count: name.count),
                                value: ByteSpan(start: valueStart, count: value.count),
                                line: ByteSpan(start: lineStart, count: head.writeIndex - lineStart), kind: kind)
        if flags.contains(.receivingTrailers) {
            trailerFields.append(field)
            return
        }
        if isResponse { response.headers.append(field) } else { request.headers.append(field) }
        switch kind {
        case .contentLength:
            pseudo.contentLength = Bytes.decimal(value) ?? -1
        case .host:
            pseudo.hostCount += 1
            pseudo.host = field.value
        case .expect:
            pseudo.expectsContinue = Bytes.equalsIgnoringCase(value, "100-continue")
        case .other:
            if name.count == 6 && Bytes.equals(name, "cookie") { pseudo.cookieCount += 1 }
        default:
            break
        }
    }

    private mutating func addPseudo(name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer, isResponse: Bool) {
        if isResponse {
            // ":status" is the only pseudo-header field of a response, and the first field: the status line.
            guard Bytes.equals(name, ":status"), head.writeIndex == 0, let status = Bytes.decimal(value), value.count == 3 else {
                rejectStatus = 400
                return
            }
            pseudo.status = status
            head.append("HTTP/1.1 ")
            head.append(value)
            head.append(byte: 0x20)
            head.append(reasonPhrase(status))
            head.append("\r\n")
            response.statusLine = ByteSpan(start: 0, count: head.writeIndex)
            return
        }
        let span = ByteSpan(start: head.writeIndex, count: value.count)
        head.append(value)
        switch name.count {
        case 5: pseudo.path = span; pseudo.hasPath = true  // ":path"
        case 7:
            if name[1] == 0x6D { pseudo.method = span; pseudo.hasMethod = true }  // ":method"
            else { pseudo.scheme = span }  // ":scheme"
        case 10: pseudo.authority = span; pseudo.hasAuthority = true  // ":authority"
        default: rejectStatus = 400  // ":protocol" (extended CONNECT is not enabled) or anything else
        }
    }

    /// Completes a received request head. Returns 0, or 400 when the request is malformed in a way nghttp2 does
    /// not check: a path that is not origin-form (or "*"), bytes an HTTP/1.1 request line or Host cannot carry,
    /// several Host fields, or a Host that names another authority than :authority.
    mutating func finishRequestHead(endStream: Bool) -> Int {
        if rejectStatus != 0 { return rejectStatus }
        let bytes = headBytes
        guard pseudo.hasMethod else { return 400 }
        request.methodSpan = pseudo.method
        request.method = HTTPMethod(token: pseudo.method.bytes(in: bytes))
        if request.method == .connect {
            request.path = ByteSpan(start: Int(pseudo.authority.end), count: 0)
        } else {
            guard pseudo.hasPath, pseudo.path.count > 0 else { return 400 }
            let path = pseudo.path.bytes(in: bytes)
            if path[0] != 0x2F && !(path.count == 1 && path[0] == 0x2A && request.method == .options) { return 400 }
            for c in path where c <= 0x20 || c >= 0x7F { return 400 }
            request.path = pseudo.path
        }
        request.target = request.path
        var q = 0
        let pathBytes = request.path.bytes(in: bytes)
        while q < pathBytes.count && pathBytes[q] != 0x3F { q += 1 }
        request.pathLengthWithoutQuery = Int32(q)

        guard pseudo.hostCount <= 1 else { return 400 }
        if pseudo.hasAuthority {
            let authority = pseudo.authority.bytes(in: bytes)
            for c in authority where c <= 0x20 || c >= 0x7F { return 400 }
            if pseudo.hostCount == 1 && !Bytes.equalsIgnoringCase(pseudo.host.bytes(in: bytes), authority) { return 400 }
            request.authority = pseudo.authority
        } else {
            request.authority = pseudo.hostCount == 1 ? pseudo.host : .empty
        }
        if pseudo.cookieCount > 1 { joinCookies(inResponse: false) }
        request.versionMinor = 1
        request.headLength = head.writeIndex
        request.framing = framing(endStream: endStream, noBody: false)
        request.keepAlive = true
        request.expectsContinue = pseudo.expectsContinue
        request.isUpgrade = false
        return 0
    }

    /// Completes a received response head. Returns 0, or 400 when it is unusable.
    mutating func finishResponseHead(endStream: Bool) -> Int {
        if rejectStatus != 0 { return rejectStatus }
        guard pseudo.status >= 100 else { return 400 }
        response.status = pseudo.status
        response.versionMinor = 1
        response.headLength = head.writeIndex
        let noBody = requestMethod == .head || pseudo.status < 200 || pseudo.status == 204 || pseudo.status == 304
        response.framing = framing(endStream: endStream, noBody: noBody)
        response.keepAlive = true
        if pseudo.cookieCount > 1 { joinCookies(inResponse: true) }
        return 0
    }

    /// `.none` when no body can follow, `.contentLength` when content-length said so, otherwise `.chunked`: the
    /// body ends with the stream (relayed to HTTP/1.1 it must be chunked; no Transfer-Encoding field is present).
    private func framing(endStream: Bool, noBody: Bool) -> BodyFraming {
        if endStream || noBody { return .none }
        if pseudo.contentLength >= 0 { return pseudo.contentLength == 0 ? .none : .contentLength(pseudo.contentLength) }
        return .chunked
    }

    /// Joins several cookie fields into one line, "; "-separated, as RFC 9113 §8.2.3 requires before the
    /// request goes to HTTP/1.1. The joined line is appended to the head bytes and replaces the fields.
    private mutating func joinCookies(inResponse: Bool) {
        var headers: [HeaderField] = []
        if inResponse { swap(&headers, &response.headers) } else { swap(&headers, &request.headers) }
        defer { if inResponse { swap(&headers, &response.headers) } else { swap(&headers, &request.headers) } }
        let lineStart = head.writeIndex
        head.append("cookie: ")
        let valueStart = head.writeIndex
        var first = true
        var firstIndex = -1
        var index = 0
        while index < headers.count {
            let field = headers[index]
            if field.kind == .other && field.name.count == 6 && Bytes.equals(field.name.bytes(in: headBytes), "cookie") {
                if !first { head.append("; ") }
                first = false
                // The head may have moved while growing: copy from the current base.
                let value = field.value
                head.reserve(Int(value.count))
                head.append(UnsafeRawBufferPointer(start: head.base + Int(value.start), count: Int(value.count)))
                if firstIndex < 0 { firstIndex = index; index += 1 } else { headers.remove(at: index) }
                continue
            }
            index += 1
        }
        let valueEnd = head.writeIndex
        head.append("\r\n")
        headers[firstIndex] = HeaderField(name: ByteSpan(start: lineStart, count: 6),
                                          value: ByteSpan(start: valueStart, count: valueEnd - valueStart),
                                          line: ByteSpan(start: lineStart, count: head.writeIndex - lineStart), kind: .other)
    }

    // MARK: Sending a body

    /// The caller offers `bytes` more of the body.
    mutating func offer(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        if regionHead == regions.count {
            regions.removeAll(keepingCapacity: true)
            regionHead = 0
            regionOffset = 0
        }
        regions.append(Region(base: base, count: bytes.count))
        unframed += bytes.count
    }

    /// Takes the next `count` offered bytes for a DATA frame, calling `body` with each contiguous run.
    mutating func frame(_ count: Int, _ body: (UnsafeRawPointer, Int) -> Void) {
        var remaining = count
        unframed -= count
        while remaining > 0 {
            let region = regions[regionHead]
            let n = min(remaining, region.count - regionOffset)
            body(region.base + regionOffset, n)
            remaining -= n
            regionOffset += n
            if regionOffset == region.count {
                regionHead += 1
                regionOffset = 0
            }
        }
    }

    /// Copies the offered bytes not framed yet into `localBody`, so that the caller's source can go away; the
    /// rest of the body is then sent from here.
    mutating func moveOfferedIntoLocalBody() {
        localBody.clear()
        localBody.reserve(unframed)
        let total = unframed
        while regionHead < regions.count {
            let region = regions[regionHead]
            localBody.append(UnsafeRawBufferPointer(start: region.base + regionOffset, count: region.count - regionOffset))
            regionHead += 1
            regionOffset = 0
        }
        regions.removeAll(keepingCapacity: true)
        regionHead = 0
        if total > 0 { regions.append(Region(base: UnsafeRawPointer(localBody.base), count: total)) }
        flags.insert(.localBody)
    }

    /// Forgets the offered body that is not framed yet.
    mutating func dropOffered() {
        regions.removeAll(keepingCapacity: true)
        regionHead = 0
        regionOffset = 0
        unframed = 0
    }

    /// Makes the slot ready for another stream; buffers and array capacity are kept.
    mutating func reset(pool: inout BlockPool) -> Int {
        let dropped = received.removeAll(pool: &pool)
        streamID = 0
        flags = []
        sessionResetCode = 0
        headSequence = -1
        beginHead()
        trailerFields.removeAll(keepingCapacity: true)
        dropOffered()
        unwritten = 0
        localBody.clear()
        requestMethod = .get
        // A slot that once held an unusually large head or local body gives the memory back.
        if head.capacity > Self.keptCapacity {
            head.deallocate()
            head = ByteBuffer(capacity: 1024)
        }
        if localBody.capacity > Self.keptCapacity {
            localBody.deallocate()
            localBody = ByteBuffer(capacity: 64)
        }
        return dropped
    }
}

/// The reason phrase for a status line built from an HTTP/2 :status (empty when the code is not common).
func reasonPhrase(_ status: Int) -> StaticString {
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
    case 429: "Too Many Requests"
    case 431: "Request Header Fields Too Large"
    case 500: "Internal Server Error"
    case 501: "Not Implemented"
    case 502: "Bad Gateway"
    case 503: "Service Unavailable"
    case 504: "Gateway Timeout"
    default: ""
    }
}
