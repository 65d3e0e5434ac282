import KanariaHTTP

/// One header condition of a match: the (lowercase) field name and how its value must look.
public struct HeaderMatcher: Sendable {
    public var name: [UInt8]
    public var value: StringMatcher

    public init(name: String, value: StringMatcher) {
        self.name = Array(name.lowercased().utf8)
        self.value = value
    }
}

/// One query parameter condition of a match: the parameter's name and how its first value must look (`.any`:
/// present, with any value or none; `?flag` has the value "").
public struct QueryParamMatcher: Sendable {
    public var name: [UInt8]
    public var value: StringMatcher

    public init(name: String, value: StringMatcher) {
        self.name = Array(name.utf8)
        self.value = value
    }
}

/// Istio's `HTTPMatchRequest`, compiled: every condition that is set must hold.
///
/// `uri` is matched against the path as Envoy does: exact and regex against the path without its query string,
/// prefix against the path with it. `authority` is matched against the Host (or the absolute-form authority);
/// `scheme` against `http` or `https` (the listener's); `queryParams` against the first value of each parameter
/// of the query, undecoded, as Envoy does. `withoutHeaders` treats a missing header as an empty value unless its
/// matcher is a presence match (Istio's `treat_missing_header_as_empty`).
public struct RequestMatch: Sendable {
    public var name: String?
    public var uri: StringMatcher?
    public var ignoreUriCase = false
    public var authority: StringMatcher?
    public var method: StringMatcher?
    public var headers: [HeaderMatcher] = []
    public var withoutHeaders: [HeaderMatcher] = []
    /// The gateway port the request arrived on, when the match names one.
    public var port: Int?
    public var scheme: StringMatcher?
    public var queryParams: [QueryParamMatcher] = []

    public init(name: String? = nil, uri: StringMatcher? = nil, ignoreUriCase: Bool = false,
                authority: StringMatcher? = nil, method: StringMatcher? = nil,
                headers: [HeaderMatcher] = [], withoutHeaders: [HeaderMatcher] = [], port: Int? = nil,
                scheme: StringMatcher? = nil, queryParams: [QueryParamMatcher] = []) {
        self.name = name
        self.uri = uri
        self.ignoreUriCase = ignoreUriCase
        self.authority = authority
        self.method = method
        self.headers = headers
        self.withoutHeaders = withoutHeaders
        self.port = port
        self.scheme = scheme
        self.queryParams = queryParams
    }

    /// True when the match has no condition at all: it catches every request.
    public var isCatchAll: Bool {
        uri == nil && authority == nil && method == nil && headers.isEmpty && withoutHeaders.isEmpty && port == nil
            && scheme == nil && queryParams.isEmpty
    }

    /// Whether `request`, received on gateway port `listenerPort` (over TLS when `isTLS`), satisfies every condition.
    @inlinable public func matches(_ request: RequestView, listenerPort: Int, isTLS: Bool = false) -> Bool {
        if let port, port != listenerPort { return false }
        if let scheme, !Self.withScheme(isTLS: isTLS, { scheme.matches($0) }) { return false }
        if let uri {
            let path: UnsafeRawBufferPointer
            if case .prefix = uri { path = request.path } else { path = request.pathWithoutQuery }
            if !uri.matches(path, ignoreCase: ignoreUriCase) { return false }
        }
        if let method, !method.matches(request.methodName) { return false }
        if let authority, !authority.matches(request.authority) { return false }
        for header in headers {
            let found = header.name.withUnsafeBytes { request.value(ofField: $0) }
            guard let found, header.value.matches(found) else { return false }
        }
        for header in withoutHeaders where header.isPresent(in: request) { return false }
        for param in queryParams where !param.matches(request.path) { return false }
        return true
    }

    /// Calls `body` with `https` or `http`.
    @inlinable static func withScheme<R>(isTLS: Bool, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        let text: StaticString = isTLS ? "https" : "http"
        return body(UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }
}

extension HeaderMatcher {
    /// For `withoutHeaders`: whether the request has the header with a matching value; a missing header counts
    /// as the empty value, except for a presence match (`.any`).
    @inlinable func isPresent(in request: RequestView) -> Bool {
        if let found = name.withUnsafeBytes({ request.value(ofField: $0) }) { return value.matches(found) }
        if case .any = value { return false }
        return value.matches(UnsafeRawBufferPointer(start: nil, count: 0))
    }
}

extension QueryParamMatcher {
    /// Whether the query of `path` (`/p?a=1&b`) has the parameter, and its first value matches.
    @inlinable public func matches(_ path: UnsafeRawBufferPointer) -> Bool {
        guard let found = firstValue(in: path) else { return false }
        return value.matches(found)
    }

    /// The first value of the parameter in `path`'s query, undecoded; empty for `?name` or `?name=`; nil when absent.
    @inlinable public func firstValue(in path: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer? {
        guard let question = path.firstIndex(of: UInt8(ascii: "?")) else { return nil }
        var start = question + 1
        while start <= path.count {
            var end = start
            while end < path.count && path[end] != UInt8(ascii: "&") && path[end] != UInt8(ascii: "#") { end += 1 }
            var equals = start
            while equals < end && path[equals] != UInt8(ascii: "=") { equals += 1 }
            if equals - start == name.count && name.withUnsafeBytes({ $0.elementsEqual(path[start..<equals]) }) {
                return UnsafeRawBufferPointer(rebasing: path[min(equals + 1, end)..<end])
            }
            if end >= path.count || path[end] == UInt8(ascii: "#") { return nil }
            start = end + 1
        }
        return nil
    }
}
