import KanariaHTTP

/// The hash a request gives under a consistent-hash key, as Envoy's route hash policies compute it (xxHash64 of
/// the key's bytes, seed 0). Reads the request where it lies: no allocation, except for a header sent more than once.
extension ConsistentHashPolicy.Key {
    /// The request's hash, or nil when it has no such key (no such header, cookie or query parameter): then a
    /// cookie key with a ttl has one generated (`CookieAffinity`), and otherwise a draw stands in for the hash.
    ///
    /// - header: the field's value; a field sent several times hashes its values sorted and joined (Envoy hashes
    ///   the sorted values one after the other);
    /// - cookie: the value of the first `name=value` pair of the `Cookie` fields, without surrounding quotes;
    /// - query parameter: the first `name=value` of the query, as sent (not percent-decoded); `?name` alone is "";
    /// - source IP: `clientIP`, the client's address without its port (`10.0.0.7`).
    public func hash(of request: RequestView, clientIP: UnsafeRawBufferPointer) -> UInt64? {
        switch self {
        case .header(let name): return Self.withBytes(name) { Self.headerHash(request, name: $0) }
        case .cookie(let name, _, _):
            return Self.withBytes(name) { Self.cookieValue(request, name: $0).map { XXHash64.hash($0) } }
        case .queryParameter(let name):
            return Self.withBytes(name) { Self.queryValue(request.path, name: $0).map { XXHash64.hash($0) } }
        case .sourceIP: return clientIP.isEmpty ? nil : XXHash64.hash(clientIP)
        }
    }

    static func withBytes<R>(_ text: String, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        if let result = text.utf8.withContiguousStorageIfAvailable({ body(UnsafeRawBufferPointer($0)) }) { return result }
        return Array(text.utf8).withUnsafeBytes(body)
    }

    static func headerHash(_ request: RequestView, name: UnsafeRawBufferPointer) -> UInt64? {
        var first: UnsafeRawBufferPointer?
        var count = 0
        for field in request.head.headers where isField(field, named: name, in: request.message) {
            if first == nil { first = field.value.bytes(in: request.message) }
            count += 1
        }
        guard let first else { return nil }
        if count == 1 { return XXHash64.hash(first) }
        let values = request.head.headers.filter { isField($0, named: name, in: request.message) }
            .map { Array($0.value.bytes(in: request.message)) }.sorted { $0.lexicographicallyPrecedes($1) }
        return XXHash64.hash(values.flatMap { $0 })
    }

    static func isField(_ field: HeaderField, named name: UnsafeRawBufferPointer, in message: UnsafeRawBufferPointer) -> Bool {
        Int(field.name.count) == name.count && HTTPBytes.equalsIgnoringCase(field.name.bytes(in: message), name)
    }

    /// The value of cookie `name` in the request's `Cookie` fields, quotes removed.
    static func cookieValue(_ request: RequestView, name: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer? {
        let cookie: StaticString = "cookie"
        let cookieName = UnsafeRawBufferPointer(start: cookie.utf8Start, count: cookie.utf8CodeUnitCount)
        for field in request.head.headers where isField(field, named: cookieName, in: request.message) {
            if let value = pairValue(in: field.value.bytes(in: request.message), name: name, separator: UInt8(ascii: ";")) {
                return unquoted(value)
            }
        }
        return nil
    }

    /// The value of parameter `name` in `path`'s query, if any.
    static func queryValue(_ path: UnsafeRawBufferPointer, name: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer? {
        guard let question = path.firstIndex(of: UInt8(ascii: "?")) else { return nil }
        var query = UnsafeRawBufferPointer(rebasing: path[(question + 1)...])
        if let hash = query.firstIndex(of: UInt8(ascii: "#")) { query = UnsafeRawBufferPointer(rebasing: query[..<hash]) }
        return pairValue(in: query, name: name, separator: UInt8(ascii: "&"))
    }

    /// The value of the first `name=value` item of `list` (items split by `separator`, spaces around them
    /// skipped); an item that is `name` alone has the empty value.
    static func pairValue(in list: UnsafeRawBufferPointer, name: UnsafeRawBufferPointer, separator: UInt8) -> UnsafeRawBufferPointer? {
        var start = list.startIndex
        while start <= list.endIndex {
            let end = list[start...].firstIndex(of: separator) ?? list.endIndex
            var item = UnsafeRawBufferPointer(rebasing: list[start..<end])
            while item.first == UInt8(ascii: " ") { item = UnsafeRawBufferPointer(rebasing: item.dropFirst()) }
            let equals = item.firstIndex(of: UInt8(ascii: "=")) ?? item.endIndex
            if equals - item.startIndex == name.count, name.elementsEqual(item[..<equals]) {
                return equals == item.endIndex ? UnsafeRawBufferPointer(rebasing: item[equals...])
                    : UnsafeRawBufferPointer(rebasing: item[(equals + 1)...])
            }
            start = end + 1
        }
        return nil
    }

    static func unquoted(_ value: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        guard value.count >= 2, value.first == UInt8(ascii: "\""), value.last == UInt8(ascii: "\"") else { return value }
        return UnsafeRawBufferPointer(rebasing: value.dropFirst().dropLast())
    }
}
