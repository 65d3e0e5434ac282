import KanariaHTTP

/// Why routing chose what it chose for one request: for `kanaria route explain` and the admin API. Not on the
/// request path (it builds strings).
public struct RouteExplanation: Sendable {
    /// One route that was tried, in order.
    public struct Attempt: Sendable {
        public var route: Int
        /// nil when the route matched; otherwise why each of its match clauses did not.
        public var mismatch: String?
    }

    public var listenerPort: Int
    /// The virtual host chosen for the authority, or nil when no host matched.
    public var virtualHost: Int?
    public var attempts: [Attempt]
    /// The route that matched, if any (the last attempt).
    public var route: Int? { attempts.last.flatMap { $0.mismatch == nil ? $0.route : nil } }
}

extension RequestMatch {
    /// nil when `request` satisfies every condition; otherwise the first condition that fails, in words.
    public func firstMismatch(_ request: RequestView, listenerPort: Int, isTLS: Bool = false) -> String? {
        if let port, port != listenerPort { return "port \(port) is not the listener's \(listenerPort)" }
        if let scheme, !Self.withScheme(isTLS: isTLS, { scheme.matches($0) }) {
            return "scheme \(scheme) does not match \(isTLS ? "https" : "http")"
        }
        if let uri {
            let isPrefix: Bool = if case .prefix = uri { true } else { false }
            let path = isPrefix ? request.path : request.pathWithoutQuery
            if !uri.matches(path, ignoreCase: ignoreUriCase) {
                return "uri \(uri) does not match \"\(String(decoding: path, as: UTF8.self))\"\(ignoreUriCase ? " (ignoring case)" : "")"
            }
        }
        if let method, !method.matches(request.methodName) {
            return "method \(method) does not match \(String(decoding: request.methodName, as: UTF8.self))"
        }
        if let authority, !authority.matches(request.authority) {
            return "authority \(authority) does not match \"\(String(decoding: request.authority, as: UTF8.self))\""
        }
        for header in headers {
            let name = String(decoding: header.name, as: UTF8.self)
            guard let found = header.name.withUnsafeBytes({ request.value(ofField: $0) }) else {
                return "header \(name) is absent (needs \(header.value))"
            }
            if !header.value.matches(found) {
                return "header \(name): \(header.value) does not match \"\(String(decoding: found, as: UTF8.self))\""
            }
        }
        for header in withoutHeaders where header.isPresent(in: request) {
            let name = String(decoding: header.name, as: UTF8.self)
            let found = header.name.withUnsafeBytes({ request.value(ofField: $0) }).map { String(decoding: $0, as: UTF8.self) }
            return "withoutHeaders \(name): \(header.value) matches \"\(found ?? "")\"\(found == nil ? " (absent, taken as empty)" : "")"
        }
        for param in queryParams {
            let name = String(decoding: param.name, as: UTF8.self)
            guard let found = param.firstValue(in: request.path) else {
                return "query parameter \(name) is absent (needs \(param.value))"
            }
            if !param.value.matches(found) {
                return "query parameter \(name): \(param.value) does not match \"\(String(decoding: found, as: UTF8.self))\""
            }
        }
        return nil
    }
}

extension RouteTable {
    /// Replays `matchRoute` for `request` on `listener`, recording why each route before the chosen one failed.
    public func explain(_ request: RequestView, listener: Int) -> RouteExplanation {
        let listener = listeners[listener]
        var explanation = RouteExplanation(listenerPort: listener.port, virtualHost: nil, attempts: [])
        guard let host = listener.hosts.match(request.authority) else { return explanation }
        explanation.virtualHost = host
        for routeIndex in listener.hosts.virtualHosts[host].routes {
            let route = routes[routeIndex]
            if route.matches.isEmpty {
                explanation.attempts.append(.init(route: routeIndex, mismatch: nil))
                return explanation
            }
            var reasons: [String] = []
            for (i, match) in route.matches.enumerated() {
                guard let reason = match.firstMismatch(request, listenerPort: listener.port, isTLS: listener.tls != nil) else {
                    explanation.attempts.append(.init(route: routeIndex, mismatch: nil))
                    return explanation
                }
                reasons.append(route.matches.count > 1 ? "match[\(i)]: \(reason)" : reason)
            }
            explanation.attempts.append(.init(route: routeIndex, mismatch: reasons.joined(separator: "; ")))
        }
        return explanation
    }
}
