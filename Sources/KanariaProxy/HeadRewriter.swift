import KanariaHTTP
import KanariaHTTP2
import KanariaRouting

/// Builds the heads the proxy sends: the upstream request from the client's, the client response from the
/// upstream's, and the proxy's own answers. Pure: bytes in, bytes out.
///
/// Header lines that need no change are copied as they arrived, never re-encoded.
enum HeadRewriter {
    /// Writes the request to send upstream, as Envoy forwards it: HTTP/1.1, origin-form target, hop-by-hop fields
    /// removed (the body's own framing, Content-Length or chunked, is kept since the body is relayed unchanged),
    /// `x-forwarded-for` with the client's address appended, `x-forwarded-proto` set to the downstream scheme, and
    /// `x-request-id` kept or, when absent, `generatedRequestID` (which the caller made before routing, as Envoy
    /// does, so that every access-log line has one). With `shadow`, the Host is the one a mirror gets: `-shadow`
    /// after the host name (`shop:8080` → `shop-shadow:8080`), as Envoy's request mirroring sets it.
    static func writeUpstreamRequest(
        _ head: RequestHead, message: UnsafeRawBufferPointer, clientAddress: UnsafeRawBufferPointer,
        generatedRequestID: UnsafeRawBufferPointer, defaultHost: UnsafeRawBufferPointer, chunkedBody: Bool = false,
        forwardedProto: StaticString = "http", shadow: Bool = false, changes: RequestChanges? = nil,
        into out: inout ByteBuffer
    ) {
        out.append(head.methodSpan.bytes(in: message))
        out.append(byte: 0x20)
        if let path = changes?.path {
            out.append(path)
        } else {
            // An absolute-form target with no path ("http://h" or "http://h?q") is forwarded with "/" before its query.
            if head.path.isEmpty || message[Int(head.path.start)] == 0x3F { out.append(byte: 0x2F) }
            out.append(head.path.bytes(in: message))
        }
        out.append(" HTTP/1.1\r\n")
        var sawForwardedFor = false
        var sawRequestID = false
        var sawHost = false
        for field in head.headers {
            switch field.kind {
            case .connection, .keepAlive, .proxyConnection, .te, .upgrade, .xForwardedProto:
                continue
            case .xForwardedFor:
                if sawForwardedFor { continue }  // several lines: RFC 9110 lets us join them; keep the first, append
                sawForwardedFor = true
                out.append(field.name.bytes(in: message))
                out.append(": ")
                out.append(field.value.bytes(in: message))
                out.append(", ")
                out.append(clientAddress)
                out.append("\r\n")
            case .xRequestId:
                sawRequestID = true
                out.append(field.line.bytes(in: message))
            case .host:
                sawHost = true
                let authority = changes?.authority ?? field.value.bytes(in: message)
                if shadow {
                    appendShadowHost(authority, into: &out)
                } else if let rewritten = changes?.authority {
                    out.append("host: ")
                    out.append(rewritten)
                    out.append("\r\n")
                } else {
                    out.append(field.line.bytes(in: message))
                }
            default:
                if let changes, changes.edit.drops(field.name.bytes(in: message)) { continue }
                out.append(field.line.bytes(in: message))
            }
        }
        if let changes {
            if changes.path != nil {
                out.append("x-envoy-original-path: ")
                out.append(changes.originalPath)
                out.append("\r\n")
            }
            for field in changes.edit.append {
                field.name.withUnsafeBytes { out.append($0) }
                out.append(": ")
                field.value.withUnsafeBytes { out.append($0) }
                out.append("\r\n")
            }
        }
        if !sawHost {
            let authority = changes?.authority ?? (head.authority.isEmpty ? defaultHost : head.authority.bytes(in: message))
            if shadow {
                appendShadowHost(authority, into: &out)
            } else {
                out.append("host: ")
                out.append(authority)
                out.append("\r\n")
            }
        }
        if !sawForwardedFor {
            out.append("x-forwarded-for: ")
            out.append(clientAddress)
            out.append("\r\n")
        }
        out.append("x-forwarded-proto: ")
        out.append(forwardedProto)
        out.append("\r\n")
        if !sawRequestID && !generatedRequestID.isEmpty {
            out.append("x-request-id: ")
            out.append(generatedRequestID)
            out.append("\r\n")
        }
        // An HTTP/2 request body of unknown length reaches an HTTP/1.1 upstream chunked.
        if chunkedBody { out.append("transfer-encoding: chunked\r\n") }
        out.append("\r\n")
    }

    /// Writes the request to send to an HTTP/2 upstream: the head as HTTP/2 fields (connection-specific ones
    /// dropped) with Envoy's forwarding fields, as `writeUpstreamRequest` sets them for HTTP/1.1.
    static func writeUpstreamRequest(
        _ head: RequestHead, message: UnsafeRawBufferPointer, clientAddress: [UInt8], scheme: StaticString,
        generatedRequestID: UnsafeRawBufferPointer, defaultAuthority: [UInt8], into headers: HTTP2HeaderBlock
    ) {
        headers.removeAll()
        defaultAuthority.withUnsafeBytes { authority in
            headers.append(request: head, message: message, scheme: "http", defaultAuthority: authority,
                           omitting: [.xForwardedFor, .xForwardedProto])
        }
        var forwarded = ByteBuffer(capacity: 128)
        defer { forwarded.deallocate() }
        if let existing = head.firstField(.xForwardedFor) {
            forwarded.append(existing.value.bytes(in: message))
            forwarded.append(", ")
        }
        clientAddress.withUnsafeBytes { forwarded.append($0) }
        headers.append(name: "x-forwarded-for", value: forwarded.readable)
        headers.append(name: "x-forwarded-proto", value: scheme)
        if !generatedRequestID.isEmpty { headers.append(name: "x-request-id", value: generatedRequestID) }
    }

    /// `host: <name>-shadow[:port]\r\n` for an authority `<name>[:port]` (an IPv6 literal's brackets kept).
    static func appendShadowHost(_ authority: UnsafeRawBufferPointer, into out: inout ByteBuffer) {
        var nameEnd = authority.count
        if let colon = authority.lastIndex(of: UInt8(ascii: ":")), !authority[colon...].contains(UInt8(ascii: "]")) {
            nameEnd = colon
        }
        out.append("host: ")
        out.append(UnsafeRawBufferPointer(rebasing: authority[..<nameEnd]))
        out.append("-shadow")
        out.append(UnsafeRawBufferPointer(rebasing: authority[nameEnd...]))
        out.append("\r\n")
    }

    /// How the client's response head must change from the upstream's.
    struct ResponseAdjustments {
        /// The client will not be able to read a chunked body (HTTP/1.0): drop Transfer-Encoding, relay de-chunked.
        var dechunk = false
        /// Tell the client the connection closes after this response.
        var close = false
        /// Tell an HTTP/1.0 client the connection stays open.
        var keepAliveForHTTP10 = false
        /// The body comes from HTTP/2 without a length: frame it as chunks for an HTTP/1.1 client.
        var addChunked = false
    }

    /// Writes the response head for the client: the upstream's status and fields, hop-by-hop fields removed.
    static func writeClientResponse(
        _ head: ResponseHead, message: UnsafeRawBufferPointer, adjustments: ResponseAdjustments,
        changes: ResponseChanges? = nil, into out: inout ByteBuffer
    ) {
        out.append("HTTP/1.1")
        out.append(UnsafeRawBufferPointer(rebasing: message[8..<Int(head.statusLine.end)]))
        for field in head.headers {
            switch field.kind {
            case .connection, .keepAlive, .proxyConnection, .te, .upgrade:
                continue
            case .transferEncoding where adjustments.dechunk:
                continue
            default:
                if let changes, changes.edit.drops(field.name.bytes(in: message)) { continue }
                out.append(field.line.bytes(in: message))
            }
        }
        changes?.appendAddedFields(into: &out)
        if adjustments.addChunked { out.append("transfer-encoding: chunked\r\n") }
        if adjustments.close {
            out.append("connection: close\r\n")
        } else if adjustments.keepAliveForHTTP10 {
            out.append("connection: keep-alive\r\n")
        }
        out.append("\r\n")
    }

    /// The `location` of Envoy's `https_redirect`: `https://`, the request's authority without its port, then its
    /// path (a "/" first when the target has none): `http://shop.example:8080/a?b` → `https://shop.example/a?b`.
    static func writeHTTPSLocation(_ head: RequestHead, message: UnsafeRawBufferPointer, into out: inout ByteBuffer) {
        out.append("https://")
        let authority = head.authority.bytes(in: message)
        var hostEnd = authority.count
        if let colon = authority.lastIndex(of: UInt8(ascii: ":")), !authority[colon...].contains(UInt8(ascii: "]")) {
            hostEnd = colon
        }
        out.append(UnsafeRawBufferPointer(rebasing: authority[..<hostEnd]))
        if head.path.isEmpty || message[Int(head.path.start)] != UInt8(ascii: "/") { out.append(byte: UInt8(ascii: "/")) }
        out.append(head.path.bytes(in: message))
    }

    /// The proxy's own answer (404 no route, 503 no healthy upstream, 400 bad request, …): a short body, text
    /// unless `grpcStatus` (≥ 0) makes it a gRPC answer (`content-type: application/grpc`, `grpc-status`).
    static func writeLocalResponse(
        status: Int, body: UnsafeRawBufferPointer, close: Bool, headRequest: Bool, location: UnsafeRawBufferPointer? = nil,
        grpcStatus: Int = -1, extra: ResponseChanges? = nil, into out: inout ByteBuffer
    ) {
        out.append("HTTP/1.1 ")
        out.append(decimal: status)
        out.append(byte: 0x20)
        out.append(HTTPStatus.reasonPhrase(status))
        out.append("\r\ncontent-length: ")
        out.append(decimal: body.count)
        if grpcStatus >= 0 {
            out.append("\r\ncontent-type: application/grpc\r\ngrpc-status: ")
            out.append(decimal: grpcStatus)
        } else if !body.isEmpty {
            out.append("\r\ncontent-type: text/plain")
        }
        out.append("\r\nserver: kanaria")
        if let location {
            out.append("\r\nlocation: ")
            out.append(location)
        }
        if close { out.append("\r\nconnection: close") }
        out.append("\r\n")
        extra?.appendAddedFields(into: &out)
        out.append("\r\n")
        if !headRequest { out.append(body) }
    }
}

/// Generates `x-request-id` values: random UUIDs (version 4, RFC 9562) from a per-worker generator.
struct RequestIDGenerator {
    private var random: SplitMix64

    init(seed: UInt64) { random = SplitMix64(seed: seed) }

    private mutating func next() -> UInt64 { random.next() }

    /// Appends 36 characters: xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx.
    mutating func appendUUID(to out: inout ByteBuffer) {
        let high = (next() & 0xFFFF_FFFF_FFFF_0FFF) | 0x0000_0000_0000_4000
        let low = (next() & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000
        out.reserve(36)
        let p = out.writable.baseAddress!.assumingMemoryBound(to: UInt8.self)
        // Nibbles from the most significant, with dashes after the 8th, 12th, 16th and 20th hex digit.
        var position = 0
        for digit in 0..<32 {
            if digit == 8 || digit == 12 || digit == 16 || digit == 20 {
                p[position] = 0x2D
                position += 1
            }
            let word = digit < 16 ? high : low
            let nibble = UInt8((word >> UInt64(60 - (digit & 15) * 4)) & 0xF)
            p[position] = nibble < 10 ? 48 + nibble : 87 + nibble
            position += 1
        }
        out.didWrite(36)
    }
}
