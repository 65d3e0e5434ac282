import KanariaHTTP

/// The hash a request gives under the policy's key, as Envoy's route hash policies compute it (xxHash64 of the
/// key's bytes, seed 0). Reads the request where it lies: no allocation, except for a header sent more than once.
extension ConsistentHashPolicy {
    /// The request's hash, or nil when it has no such key (no such header, cookie or query parameter, or no key at
    /// all): then a cookie key with a ttl has one generated (`CookieAffinity`), and otherwise a draw stands in.
    ///
    /// - header: the field's value; a field sent several times hashes its values sorted and joined (Envoy hashes
    ///   the sorted values one after the other);
    /// - cookie: the value of the first `name=value` pair of the `Cookie` fields, without surrounding quotes
    ///   (a bare `name` without `=` does not count);
    /// - query parameter: the first `name=value` of the query, as sent (not percent-decoded); `?name` alone is "";
    /// - source IP: `clientIP`, the client's address without its port (`10.0.0.7`).
    public func hash(of request: RequestView, clientIP: UnsafeRawBufferPointer) -> UInt64? {
        switch key {
        case nil: return nil
        case .sourceIP: return clientIP.isEmpty ? nil : XXHash64.hash(clientIP)
        case .header: return keyName.withUnsafeBytes { Self.headerHash(request, name: $0) }
        case .cookie:
            return keyName.withUnsafeBytes { name in Self.cookieValue(request, name: name).map { XXHash64.hash($0) } }
        case .queryParameter:
            return keyName.withUnsafeBytes { name in Self.queryValue(request.path, name: name).map { XXHash64.hash($0) } }
        }
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
        let cookie = HTTPBytes.buffer("cookie")
        for field in request.head.headers where isField(field, named: cookie, in: request.message) {
            if let value = pairValue(in: field.value.bytes(in: request.message), name: name, separator: UInt8(ascii: ";"),
                                     bareNameMatches: false) {
                return unquoted(value)
            }
        }
        return nil
    }

    /// The value of parameter `name` in `path`'s query (up to any `#`), if any.
    static func queryValue(_ path: UnsafeRawBufferPointer, name: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer? {
        var question = 0
        while question < path.count && path[question] != UInt8(ascii: "?") { question += 1 }
        guard question < path.count else { return nil }
        var end = question + 1
        while end < path.count && path[end] != UInt8(ascii: "#") { end += 1 }
        return pairValue(in: UnsafeRawBufferPointer(rebasing: path[(question + 1)..<end]), name: name,
                         separator: UInt8(ascii: "&"))
    }

    /// The value of the first `name=value` item of `list` (items split by `separator`, spaces before them
    /// skipped). An item that is `name` alone has the empty value when `bareNameMatches` (a query), and is skipped
    /// otherwise (a cookie without `=` is malformed, and Envoy looks further).
    static func pairValue(in list: UnsafeRawBufferPointer, name: UnsafeRawBufferPointer, separator: UInt8,
                          bareNameMatches: Bool = true) -> UnsafeRawBufferPointer? {
        var start = 0
        while start <= list.count {
            var end = start
            while end < list.count && list[end] != separator { end += 1 }
            var itemStart = start
            while itemStart < end && list[itemStart] == UInt8(ascii: " ") { itemStart += 1 }
            var equals = itemStart
            while equals < end && list[equals] != UInt8(ascii: "=") { equals += 1 }
            if equals - itemStart == name.count && (equals < end || bareNameMatches) && bytesEqual(list, from: itemStart, name) {
                let valueStart = equals < end ? equals + 1 : end
                return UnsafeRawBufferPointer(rebasing: list[valueStart..<end])
            }
            start = end + 1
        }
        return nil
    }

    static func bytesEqual(_ list: UnsafeRawBufferPointer, from start: Int, _ name: UnsafeRawBufferPointer) -> Bool {
        for i in 0..<name.count where list[start + i] != name[i] { return false }
        return true
    }

    static func unquoted(_ value: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        guard value.count >= 2, value[0] == UInt8(ascii: "\""), value[value.count - 1] == UInt8(ascii: "\"") else { return value }
        return UnsafeRawBufferPointer(rebasing: value[1..<(value.count - 1)])
    }
}

/// What a consistent-hash cluster balances a request by: its hash, and the cookie value to set on the answer
/// when the policy's cookie has a ttl and the request came without it (Envoy generates one, see `CookieAffinity`).
public struct RequestHash: Sendable, Equatable {
    /// nil when the request gives none: a draw stands in.
    public var hash: UInt64?
    /// The generated cookie value (its 16 hex digits go into `Set-Cookie`), or nil when none is to be set.
    public var generatedCookie: UInt64?

    public init(hash: UInt64?, generatedCookie: UInt64? = nil) {
        self.hash = hash
        self.generatedCookie = generatedCookie
    }
}

extension ConsistentHashPolicy {
    /// The request's hash under this policy; for a cookie key with a ttl and a request without the cookie, the
    /// value generated from the connection's addresses (client `ip:port` then proxy `ip:port`, written one after
    /// the other in `connectionAddresses`), by which the request is then hashed.
    public func requestHash(of request: RequestView, clientIP: UnsafeRawBufferPointer,
                            connectionAddresses: UnsafeRawBufferPointer) -> RequestHash {
        if let hash = hash(of: request, clientIP: clientIP) { return RequestHash(hash: hash) }
        guard case .cookie(_, _, .some) = key else { return RequestHash(hash: nil) }
        let value = CookieAffinity.generatedValue(connectionAddresses: connectionAddresses)
        return RequestHash(hash: CookieAffinity.hashKey(ofGenerated: value), generatedCookie: value)
    }
}
