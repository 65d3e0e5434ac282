/// A parsed HTTP/1.x request head whose spans point into the message buffer it was parsed from.
///
/// A connection keeps one `RequestHead` and reuses it for every request, so the `headers` array's storage is
/// allocated once per connection, not per request.
public struct RequestHead: Sendable {
    public var method: HTTPMethod = .get
    public var methodSpan = ByteSpan.empty
    /// The request-target exactly as sent.
    public var target = ByteSpan.empty
    /// The origin-form path and query: the target itself, or what follows the authority of an absolute-form target
    /// (empty when that is nothing; forward it as "/").
    public var path = ByteSpan.empty
    /// Length of `path` before its '?' (the whole path when there is no query).
    public var pathLengthWithoutQuery: Int32 = 0
    /// The authority the request is for: from an absolute-form target, else the Host field (empty when absent).
    public var authority = ByteSpan.empty
    /// 0 for HTTP/1.0, 1 for HTTP/1.1.
    public var versionMinor: UInt8 = 1
    public var headers: [HeaderField] = []
    /// Bytes of the head, start line and final blank line included: the body starts here.
    public var headLength = 0
    public var framing = BodyFraming.none
    /// Whether the client wants the connection kept open after this exchange.
    public var keepAlive = true
    public var expectsContinue = false
    /// `Connection: upgrade` with an `Upgrade` field (WebSocket and the like).
    public var isUpgrade = false

    public init() {}

    /// The first field of this kind, if any.
    @inlinable public func firstField(_ kind: HeaderKind) -> HeaderField? {
        for field in headers where field.kind == kind { return field }
        return nil
    }
}

/// A request head together with the bytes it was parsed from: what routing reads.
public struct RequestView {
    public let message: UnsafeRawBufferPointer
    public let head: RequestHead

    public init(message: UnsafeRawBufferPointer, head: RequestHead) {
        self.message = message
        self.head = head
    }

    @inlinable public var method: HTTPMethod { head.method }
    @inlinable public var methodName: UnsafeRawBufferPointer { head.methodSpan.bytes(in: message) }
    /// The path with its query, as Envoy's `:path`; "/" when an absolute-form target has an empty path, as it is
    /// forwarded (RFC 9110 §4.2.1), so that routes see what the upstream will.
    @inlinable public var path: UnsafeRawBufferPointer {
        head.path.isEmpty ? Self.rootPath : head.path.bytes(in: message)
    }
    /// The path without its query string ("/" when that is empty, as for `path`).
    @inlinable public var pathWithoutQuery: UnsafeRawBufferPointer {
        if head.pathLengthWithoutQuery == 0 { return Self.rootPath }
        return UnsafeRawBufferPointer(rebasing: message[Int(head.path.start)..<Int(head.path.start) + Int(head.pathLengthWithoutQuery)])
    }

    /// "/" in constant memory (a string literal's bytes live as long as the program).
    @inlinable static var rootPath: UnsafeRawBufferPointer {
        let slash: StaticString = "/"
        return UnsafeRawBufferPointer(start: slash.utf8Start, count: 1)
    }
    /// The authority (`:authority` in Envoy's terms).
    @inlinable public var authority: UnsafeRawBufferPointer { head.authority.bytes(in: message) }

    /// The value of the first field named `lowercasedName`, compared case-insensitively; nil when absent.
    @inlinable public func value(ofField lowercasedName: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer? {
        for field in head.headers {
            if Int(field.name.count) == lowercasedName.count,
               HTTPBytes.equalsIgnoringCase(field.name.bytes(in: message), lowercasedName) {
                return field.value.bytes(in: message)
            }
        }
        return nil
    }
}
