import KanariaRouting

/// An HTTP route's policies as read from its document, before destinations are resolved: each field nil when
/// the route does not set it, so that a delegate's route can take its parent's (Istio's `mergeHTTPRoute`).
struct RoutePolicySpec {
    var redirect: RedirectAction?
    var directResponse: DirectResponse?
    var rewrite: URIRewrite?
    var headers: HeaderPolicy?
    var corsPolicy: CorsPolicy?
    var timeout: Duration?
    /// nil: Istio's default policy.
    var retries: RetryPolicy?
    var fault: FaultPolicy?
    /// `mirror` and `mirrors`, folded into one list; nil when the route sets neither.
    var mirrors: [MirrorSpec]?

    /// `self`, with every field it leaves unset taken from `parent` (a delegate's route under its parent's;
    /// Istio does not inherit `redirect`).
    func inheriting(from parent: RoutePolicySpec) -> RoutePolicySpec {
        RoutePolicySpec(redirect: redirect, directResponse: directResponse ?? parent.directResponse,
                        rewrite: rewrite ?? parent.rewrite, headers: headers ?? parent.headers,
                        corsPolicy: corsPolicy ?? parent.corsPolicy, timeout: timeout ?? parent.timeout,
                        retries: retries ?? parent.retries, fault: fault ?? parent.fault,
                        mirrors: mirrors ?? parent.mirrors)
    }

    /// The route's action, when it does not forward.
    var action: RouteAction? {
        if let redirect { return .redirect(redirect) }
        if let directResponse { return .directResponse(directResponse) }
        return nil
    }
}

/// One mirror destination, with the namespace its host is resolved in (its VirtualService's).
struct MirrorSpec {
    var destination: DestinationSpec
    var namespace: String
    var percentage: Percentage
}

/// An HTTP route's `delegate`: the VirtualService whose routes take its place.
struct DelegateSpec {
    var name: Located<String>
    /// `delegate.namespace`, else the parent's.
    var namespace: String

    var key: String { "\(namespace)/\(name.value)" }
}

extension GoDuration {
    /// The duration `text` (Go's syntax, as `isValid` accepts it) denotes, to the nanosecond; nil when invalid.
    /// `1.5s` → 1.5 s; `1h2m` → 3,720 s; `300ms` → 0.3 s.
    static func parse(_ text: String) -> Duration? {
        guard isValid(text) else { return nil }
        var rest = Substring(text)
        let negative = rest.first == "-"
        if rest.first == "+" || rest.first == "-" { rest = rest.dropFirst() }
        var nanoseconds = 0
        while !rest.isEmpty {
            let number = rest.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
            rest = rest.dropFirst(number.count)
            let unitName = rest.prefix { $0.isLetter }
            rest = rest.dropFirst(unitName.count)
            let unit = ["ns": 1, "us": 1_000, "µs": 1_000, "ms": 1_000_000, "s": 1_000_000_000,
                        "m": 60_000_000_000, "h": 3_600_000_000_000][String(unitName)] ?? 0
            let parts = number.split(separator: ".", omittingEmptySubsequences: false)
            nanoseconds += (Int(parts[0]) ?? 0) * unit
            if parts.count == 2, !parts[1].isEmpty {
                let digits = parts[1].prefix(12)
                var scale = 1
                for _ in digits { scale *= 10 }
                nanoseconds += (Int(digits) ?? 0) * unit / scale
            }
        }
        return .nanoseconds(negative ? -nanoseconds : nanoseconds)
    }
}
