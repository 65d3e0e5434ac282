import CNghttp2
import KanariaHTTP

/// A header list to submit on HTTP/2: pseudo-header fields first, then regular fields with lowercase names.
/// Keep one per worker (or use the session's own through the `head:` conveniences) and `removeAll()` it between
/// uses: its storage is allocated once.
///
/// The `append(request:…)` and `append(response:…)` conversions turn an HTTP/1.1 head into HTTP/2 fields as
/// RFC 9113 §8.2.2 requires: names lowercased; Connection, Keep-Alive, Proxy-Connection, Transfer-Encoding and
/// Upgrade dropped, and any field the Connection header names; TE kept only as "te: trailers"; Host carried in
/// :authority instead.
public final class HTTP2HeaderBlock {
    struct Field {
        var name: ByteSpan
        var value: ByteSpan
    }

    private var storage: ByteBuffer
    private(set) var fields: [Field] = []
    private var nameValues: [nghttp2_nv] = []

    public init(capacity: Int = 1024) {
        storage = ByteBuffer(capacity: capacity)
        fields.reserveCapacity(16)
    }

    deinit { storage.deallocate() }

    public var count: Int { fields.count }

    public func removeAll() {
        storage.clear()
        fields.removeAll(keepingCapacity: true)
    }

    /// Appends a field, lowercasing its name.
    public func append(name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) {
        storage.reserve(name.count + value.count)
        let nameStart = storage.writeIndex
        let out = storage.writable.baseAddress!.assumingMemoryBound(to: UInt8.self)
        for i in 0..<name.count { out[i] = HTTPBytes.lower(name[i]) }
        storage.didWrite(name.count)
        let valueStart = storage.writeIndex
        storage.append(value)
        fields.append(Field(name: ByteSpan(start: nameStart, count: name.count),
                            value: ByteSpan(start: valueStart, count: value.count)))
    }

    public func append(name: StaticString, value: UnsafeRawBufferPointer) {
        append(name: HTTPBytes.buffer(name), value: value)
    }

    public func append(name: StaticString, value: StaticString) {
        append(name: HTTPBytes.buffer(name), value: HTTPBytes.buffer(value))
    }

    /// Appends a field whose value is a decimal number (content-length, :status).
    public func append(name: StaticString, decimal: Int) {
        let nameStart = storage.writeIndex
        storage.append(name)
        let valueStart = storage.writeIndex
        storage.append(decimal: decimal)
        fields.append(Field(name: ByteSpan(start: nameStart, count: name.utf8CodeUnitCount),
                            value: ByteSpan(start: valueStart, count: storage.writeIndex - valueStart)))
    }

    /// Appends the pseudo-header fields and fields of an HTTP/1.1 request (RFC 9113 §8.3.1).
    /// - Parameters:
    ///   - scheme: `:scheme`, the scheme the request is made with ("http" to an h2c upstream).
    ///   - defaultAuthority: `:authority` when the request has neither an absolute-form authority nor a Host.
    ///   - omitting: recognised fields to leave out besides the connection-specific ones (the proxy drops
    ///     x-forwarded-* to append its own).
    public func append(
        request head: RequestHead, message: UnsafeRawBufferPointer, scheme: StaticString = "http",
        defaultAuthority: UnsafeRawBufferPointer = UnsafeRawBufferPointer(start: nil, count: 0),
        omitting: HeaderKindSet = []
    ) {
        append(name: ":method", value: head.methodSpan.bytes(in: message))
        let authority = head.authority.isEmpty ? defaultAuthority : head.authority.bytes(in: message)
        if head.method == .connect {
            append(name: ":authority", value: authority)
        } else {
            append(name: ":scheme", value: HTTPBytes.buffer(scheme))
            if authority.count > 0 { append(name: ":authority", value: authority) }
            let path = head.path.bytes(in: message)
            if path.isEmpty || path[0] == 0x3F {  // "http://h" or "http://h?q": the path is "/" before the query
                storage.reserve(path.count + 1)
                let start = storage.writeIndex
                storage.append(byte: 0x2F)
                storage.append(path)
                let nameStart = storage.writeIndex
                storage.append(":path")
                fields.append(Field(name: ByteSpan(start: nameStart, count: 5),
                                    value: ByteSpan(start: start, count: path.count + 1)))
            } else {
                append(name: ":path", value: path)
            }
        }
        var omit = omitting
        omit.insert(.host)
        append(fields: head.headers, message: message, omitting: omit)
    }

    /// Appends `:status` and the fields of an HTTP/1.1 response.
    public func append(response head: ResponseHead, message: UnsafeRawBufferPointer, omitting: HeaderKindSet = []) {
        append(name: ":status", decimal: head.status)
        append(fields: head.headers, message: message, omitting: omitting)
    }

    /// Appends regular fields (of a head or trailers), leaving out connection-specific ones, fields the
    /// Connection header names, and the kinds in `omitting`.
    public func append(fields source: [HeaderField], message: UnsafeRawBufferPointer, omitting: HeaderKindSet = []) {
        var nominates = false
        for field in source where field.kind == .connection {
            HTTPBytes.forEachListElement(field.value.bytes(in: message)) { token in
                if !HTTPBytes.equalsIgnoringCase(token, "close") && !HTTPBytes.equalsIgnoringCase(token, "keep-alive")
                    && !HTTPBytes.equalsIgnoringCase(token, "upgrade") {
                    nominates = true
                }
            }
        }
        for field in source {
            switch field.kind {
            case .connection, .keepAlive, .proxyConnection, .transferEncoding, .upgrade:
                continue
            case .te:
                if HTTPBytes.equalsIgnoringCase(field.value.bytes(in: message), "trailers"), !omitting.contains(.te) {
                    append(name: "te", value: "trailers")
                }
                continue
            default:
                if omitting.contains(field.kind) { continue }
            }
            let name = field.name.bytes(in: message)
            if field.kind == .other {
                if HTTPBytes.equalsIgnoringCase(name, "http2-settings") { continue }
                if nominates && isNominated(name, by: source, message: message) { continue }
            }
            append(name: name, value: field.value.bytes(in: message))
        }
    }

    private func isNominated(_ name: UnsafeRawBufferPointer, by fields: [HeaderField], message: UnsafeRawBufferPointer) -> Bool {
        var found = false
        for field in fields where field.kind == .connection {
            HTTPBytes.forEachListElement(field.value.bytes(in: message)) { token in
                if HTTPBytes.equalsIgnoringCase(token, name) { found = true }
            }
        }
        return found
    }

    /// Gives the first field named `name` (a pseudo-header such as `:path`, or a lowercase name) the value
    /// `value`, or appends the field when there is none.
    public func setValue(_ value: UnsafeRawBufferPointer, forName name: StaticString) {
        let wanted = HTTPBytes.buffer(name)
        let bytes = UnsafeRawBufferPointer(start: storage.base, count: storage.writeIndex)
        guard let index = fields.firstIndex(where: { HTTPBytes.equalsIgnoringCase($0.name.bytes(in: bytes), wanted) }) else {
            return append(name: name, value: value)
        }
        storage.reserve(value.count)
        let start = storage.writeIndex
        storage.append(value)
        fields[index].value = ByteSpan(start: start, count: value.count)
    }

    /// Removes the regular fields (not pseudo-headers) whose lowercase name `dropped` says to drop.
    public func removeFields(where dropped: (UnsafeRawBufferPointer) -> Bool) {
        let bytes = UnsafeRawBufferPointer(start: storage.base, count: storage.writeIndex)
        fields.removeAll { field in
            let name = field.name.bytes(in: bytes)
            return !(name.first == UInt8(ascii: ":")) && dropped(name)
        }
    }

    /// Whether the block is a 1xx response head (its first field is a :status starting with 1).
    var isInformationalResponse: Bool {
        guard let first = fields.first, first.name.count == 7, first.value.count == 3 else { return false }
        return storage.base.load(fromByteOffset: Int(first.name.start), as: UInt8.self) == 0x3A
            && storage.base.load(fromByteOffset: Int(first.value.start), as: UInt8.self) == 0x31
    }

    /// Calls `body` with the fields as nghttp2 name/value pairs (nghttp2 copies them on submit).
    func withNameValues<R>(_ body: (UnsafePointer<nghttp2_nv>?, Int) -> R) -> R {
        nameValues.removeAll(keepingCapacity: true)
        let base = storage.base.assumingMemoryBound(to: UInt8.self)
        for field in fields {
            nameValues.append(nghttp2_nv(
                name: base + Int(field.name.start), value: base + Int(field.value.start),
                namelen: Int(field.name.count), valuelen: Int(field.value.count),
                flags: UInt8(NGHTTP2_NV_FLAG_NONE.rawValue)))
        }
        return nameValues.withUnsafeBufferPointer { body($0.baseAddress, $0.count) }
    }

    /// Calls `body` with the name and value bytes of field `index`.
    func withField<R>(at index: Int, _ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) -> R) -> R {
        let bytes = UnsafeRawBufferPointer(start: storage.base, count: storage.writeIndex)
        return body(fields[index].name.bytes(in: bytes), fields[index].value.bytes(in: bytes))
    }

    /// The bytes of the name and value of field `index` (tests and diagnostics).
    public func field(at index: Int) -> (name: String, value: String) {
        let bytes = UnsafeRawBufferPointer(start: storage.base, count: storage.writeIndex)
        return (fields[index].name.string(in: bytes), fields[index].value.string(in: bytes))
    }

    /// Copies another block's fields into this one.
    func copy(from other: HTTP2HeaderBlock) {
        removeAll()
        storage.append(UnsafeRawBufferPointer(start: other.storage.base, count: other.storage.writeIndex))
        fields.append(contentsOf: other.fields)
    }
}
