import KanariaHTTP

/// Receiving a head: fields are laid out as HTTP/1.1 lines in `head`, pseudo-header fields recorded, and the
/// finished head checked for what nghttp2 leaves to the application.
extension StreamSlot {
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
            pseudo.contentLength = HTTPBytes.decimal(value) ?? -1
        case .host:
            pseudo.hostCount += 1
            pseudo.host = field.value
        case .expect:
            pseudo.expectsContinue = HTTPBytes.equalsIgnoringCase(value, "100-continue")
        case .other:
            if name.count == 6 && HTTPBytes.equals(name, "cookie") { pseudo.cookieCount += 1 }
        default:
            break
        }
    }

    private mutating func addPseudo(name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer, isResponse: Bool) {
        if isResponse {
            // ":status" is the only pseudo-header field of a response, and the first field: the status line.
            guard HTTPBytes.equals(name, ":status"), head.writeIndex == 0, let status = HTTPBytes.decimal(value), value.count == 3 else {
                rejectStatus = 400
                return
            }
            pseudo.status = status
            head.append("HTTP/1.1 ")
            head.append(value)
            head.append(byte: 0x20)
            head.append(HTTPStatus.reasonPhrase(status))
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
            if pseudo.hostCount == 1 && !HTTPBytes.equalsIgnoringCase(pseudo.host.bytes(in: bytes), authority) { return 400 }
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
            if field.kind == .other && field.name.count == 6 && HTTPBytes.equals(field.name.bytes(in: headBytes), "cookie") {
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
}
