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

/// Istio's `HTTPMatchRequest`, compiled: every condition that is set must hold.
///
/// `uri` is matched against the path as Envoy does: exact and regex against the path without its query string,
/// prefix against the path with it. `authority` is matched against the Host (or the absolute-form authority).
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

    public init(name: String? = nil, uri: StringMatcher? = nil, ignoreUriCase: Bool = false,
                authority: StringMatcher? = nil, method: StringMatcher? = nil,
                headers: [HeaderMatcher] = [], withoutHeaders: [HeaderMatcher] = [], port: Int? = nil) {
        self.name = name
        self.uri = uri
        self.ignoreUriCase = ignoreUriCase
        self.authority = authority
        self.method = method
        self.headers = headers
        self.withoutHeaders = withoutHeaders
        self.port = port
    }

    /// True when the match has no condition at all: it catches every request.
    public var isCatchAll: Bool {
        uri == nil && authority == nil && method == nil && headers.isEmpty && withoutHeaders.isEmpty && port == nil
    }

    /// Whether `request`, received on gateway port `listenerPort`, satisfies every condition.
    @inlinable public func matches(_ request: RequestView, listenerPort: Int) -> Bool {
        if let port, port != listenerPort { return false }
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
        for header in withoutHeaders {
            let found = header.name.withUnsafeBytes { request.value(ofField: $0) }
            if let found, header.value.matches(found) { return false }
        }
        return true
    }
}
