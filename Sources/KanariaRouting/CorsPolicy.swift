import KanariaHTTP

/// A route's `corsPolicy`, as Istio configures Envoy's CORS filter: allowed origins by StringMatch, and the
/// values of the `access-control-*` response headers (lists joined with `,`, `maxAge` in whole seconds).
public struct CorsPolicy: Sendable {
    /// `allowOrigins` (or the deprecated `allowOrigin`, as exact matches). A matcher that matches `*` allows any
    /// origin, as in Envoy.
    public let allowOrigins: [StringMatcher]
    public let allowMethods: [UInt8]
    public let allowHeaders: [UInt8]
    public let exposeHeaders: [UInt8]
    /// `maxAge` in seconds, as text; empty when unset.
    public let maxAge: [UInt8]
    public let allowCredentials: Bool
    /// `unmatchedPreflights`: FORWARD (the default) sends a preflight from an origin not allowed upstream; IGNORE
    /// answers it with 200 and no CORS headers.
    public let forwardUnmatchedPreflights: Bool

    public init(allowOrigins: [StringMatcher], allowMethods: [String] = [], allowHeaders: [String] = [],
                exposeHeaders: [String] = [], maxAgeSeconds: Int? = nil, allowCredentials: Bool = false,
                forwardUnmatchedPreflights: Bool = true) {
        self.allowOrigins = allowOrigins
        self.allowMethods = Array(allowMethods.joined(separator: ",").utf8)
        self.allowHeaders = Array(allowHeaders.joined(separator: ",").utf8)
        self.exposeHeaders = Array(exposeHeaders.joined(separator: ",").utf8)
        self.maxAge = maxAgeSeconds.map { Array(String($0).utf8) } ?? []
        self.allowCredentials = allowCredentials
        self.forwardUnmatchedPreflights = forwardUnmatchedPreflights
    }
}

/// What the CORS filter does with one request.
public enum CorsVerdict: Sendable, Equatable {
    /// No `Origin`, or an origin not allowed on a request that is no preflight: forward, add nothing.
    case notCors
    /// A preflight from an allowed origin: answer 200 at once with `CorsPolicy.preflightHeaders`.
    case answerPreflight
    /// A preflight from an origin not allowed, with `unmatchedPreflights: IGNORE`: answer 200, no CORS headers.
    case answerUnmatchedPreflight
    /// A preflight from an origin not allowed, with FORWARD: send it upstream, add nothing.
    case forwardUnmatchedPreflight
    /// Any other request from an allowed origin: forward, and add `CorsPolicy.actualResponseHeaders` to the answer.
    case forwardAllowed
}

extension CorsPolicy {
    /// Envoy's CORS filter decision for `request`: a request with a non-empty `Origin` is a CORS request; it is a
    /// preflight when its method is OPTIONS and it has a non-empty `Access-Control-Request-Method`.
    public func verdict(_ request: RequestView) -> CorsVerdict {
        guard let origin = request.value(ofField: Self.originName), !origin.isEmpty else { return .notCors }
        let preflight = request.method == .options
            && !(request.value(ofField: Self.requestMethodName)?.isEmpty ?? true)
        switch (allows(origin: origin), preflight) {
        case (true, true): return .answerPreflight
        case (true, false): return .forwardAllowed
        case (false, true): return forwardUnmatchedPreflights ? .forwardUnmatchedPreflight : .answerUnmatchedPreflight
        case (false, false): return .notCors
        }
    }

    /// Whether `origin` is allowed: some `allowOrigins` matcher matches it, or matches `*`.
    public func allows(origin: UnsafeRawBufferPointer) -> Bool {
        allowOrigins.contains { matcher in
            matcher.matches(origin) || Self.star.withUnsafeBytes { matcher.matches($0) }
        }
    }

    /// Calls `body` with each header of a preflight answer for `origin`: `access-control-allow-origin` (the
    /// origin itself), then `-allow-credentials: true` when allowed, `-allow-methods`, `-allow-headers` and
    /// `-max-age` when set.
    public func preflightHeaders(origin: UnsafeRawBufferPointer,
                                 _ body: (_ name: StaticString, _ value: UnsafeRawBufferPointer) -> Void) {
        body("access-control-allow-origin", origin)
        if allowCredentials { Self.trueValue.withUnsafeBytes { body("access-control-allow-credentials", $0) } }
        if !allowMethods.isEmpty { allowMethods.withUnsafeBytes { body("access-control-allow-methods", $0) } }
        if !allowHeaders.isEmpty { allowHeaders.withUnsafeBytes { body("access-control-allow-headers", $0) } }
        if !maxAge.isEmpty { maxAge.withUnsafeBytes { body("access-control-max-age", $0) } }
    }

    /// Calls `body` with each header added to the answer of an allowed request that is no preflight:
    /// `access-control-allow-origin`, then `-allow-credentials: true` when allowed and `-expose-headers` when set.
    public func actualResponseHeaders(origin: UnsafeRawBufferPointer,
                                      _ body: (_ name: StaticString, _ value: UnsafeRawBufferPointer) -> Void) {
        body("access-control-allow-origin", origin)
        if allowCredentials { Self.trueValue.withUnsafeBytes { body("access-control-allow-credentials", $0) } }
        if !exposeHeaders.isEmpty { exposeHeaders.withUnsafeBytes { body("access-control-expose-headers", $0) } }
    }

    static var originName: UnsafeRawBufferPointer { staticBytes("origin") }
    static var requestMethodName: UnsafeRawBufferPointer { staticBytes("access-control-request-method") }
    static let star: [UInt8] = [UInt8(ascii: "*")]
    static let trueValue: [UInt8] = Array("true".utf8)

    private static func staticBytes(_ text: StaticString) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount)
    }
}
