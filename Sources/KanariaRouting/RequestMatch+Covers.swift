/// Static analysis of matches, for configuration checks (a route that can never be used): never on the hot path.
///
/// Every answer is conservative: `covers` returns true only when it is certain that every request the other
/// match accepts is accepted by this one; when in doubt (a regex against a prefix, say) it returns false.
extension RequestMatch {
    /// Whether every request that `later` matches is also matched by `self`, so that a route with `later` placed
    /// after a route with `self` never sees those requests.
    ///
    /// Each condition of `self` must be implied by a condition of `later`: `uri: {prefix: /api}` covers
    /// `uri: {prefix: /api/v2}` and `uri: {exact: /api/users}` when the other conditions of `self` are a subset
    /// of those of `later`; a match with no condition covers everything.
    public func covers(_ later: RequestMatch) -> Bool {
        if let port, later.port != port { return false }
        if let uri {
            guard let other = later.uri else { return false }
            // A case-sensitive match covers a case-insensitive one only in cases not worth proving.
            if !ignoreUriCase && later.ignoreUriCase { return false }
            guard uri.covers(other, ignoreCase: ignoreUriCase) else { return false }
        }
        if let method {
            guard let other = later.method, method.covers(other, ignoreCase: false) else { return false }
        }
        if let authority {
            guard let other = later.authority, authority.covers(other, ignoreCase: false) else { return false }
        }
        for header in headers {
            // `later` must require the same header with values this one accepts.
            let implied = later.headers.contains { $0.name == header.name && header.value.covers($0.value, ignoreCase: false) }
            if !implied { return false }
        }
        if let scheme {
            guard let other = later.scheme, scheme.covers(other, ignoreCase: false) else { return false }
        }
        for param in queryParams {
            let implied = later.queryParams.contains { $0.name == param.name && param.value.covers($0.value, ignoreCase: false) }
            if !implied { return false }
        }
        for header in withoutHeaders {
            // `later` must exclude at least the values this one excludes.
            let implied = later.withoutHeaders.contains { $0.name == header.name && $0.value.covers(header.value, ignoreCase: false) }
            if !implied { return false }
        }
        return true
    }
}

extension StringMatcher {
    /// Whether every value `other` matches is matched by `self`; `ignoreCase` is how `self` compares (a later
    /// matcher compared case-sensitively matches a subset of what it would match ignoring case).
    ///
    /// - `any` covers everything; `exact x` covers `exact x`;
    /// - `prefix p` covers `exact s` and `prefix q` when `s` / `q` start with `p`;
    /// - `regex r` covers `exact s` when `r` matches `s`, and the identical regex.
    public func covers(_ other: StringMatcher, ignoreCase: Bool) -> Bool {
        switch (self, other) {
        case (.any, _):
            return true
        case (_, .any):
            return false
        case (.exact(let a), .exact(let b)):
            return Self.equal(a, b, ignoreCase: ignoreCase)
        case (.prefix(let p), .exact(let s)), (.prefix(let p), .prefix(let s)):
            return p.count <= s.count && Self.equal(p, Array(s[..<p.count]), ignoreCase: ignoreCase)
        case (.regex(let r), .exact(let s)):
            return s.withUnsafeBytes { r.matches($0, ignoreCase: ignoreCase) }
        case (.regex(let r), .regex(let q)):
            return r.pattern == q.pattern
        default:
            return false
        }
    }

    private static func equal(_ a: [UInt8], _ b: [UInt8], ignoreCase: Bool) -> Bool {
        guard a.count == b.count else { return false }
        if !ignoreCase { return a == b }
        return zip(a, b).allSatisfy { lowerASCII($0) == lowerASCII($1) }
    }
}
