import KanariaRouting

/// Delegate VirtualServices (Istio's `HTTPRoute.delegate`): a root route's place in its VirtualService is taken by
/// the delegate's routes, each narrowed by the root route's matches and inheriting the root route's policies
/// where it sets none (pilot's `MergeHTTPRoutes`). Config-time only: the table holds the merged routes.
extension ConfigCompiler {
    /// The routes one `http` entry contributes: itself, or its delegate's routes merged with it.
    func compileRoutes(_ route: HTTPRouteSpec, of service: VirtualServiceResource, clusters: inout ClusterBuilder,
                       _ report: Reporter) -> [HTTPRoute] {
        guard let delegate = route.delegate else {
            return compileRoute(route, of: service, clusters: &clusters, report).map { [$0] } ?? []
        }
        guard let child = documents.virtualServices.first(where: { $0.header.key == delegate.key }) else {
            let names = documents.virtualServices.filter { $0.header.namespace == delegate.namespace && $0.hosts.isEmpty }
                .map(\.header.name)
            report.error(delegate.name.line, "referenced delegate not found: no VirtualService \(delegate.key)\(Suggestion.hint(for: delegate.name.value, in: names))",
                         code: IstioCode.notFound)
            return []
        }
        if !child.hosts.isEmpty {
            report.error(delegate.name.line, "VirtualService \(delegate.key) cannot be a delegate: it has hosts", code: IstioCode.schema)
            return []
        }
        let childReport = reporter(for: child.header)
        return child.routes.compactMap { childRoute -> HTTPRoute? in
            guard childRoute.delegate == nil else { return nil }  // refused when read
            guard let merged = RouteDelegation.merge(parent: route, child: childRoute) else {
                report.warning(delegate.name.line, "\(childRoute.label) of VirtualService \(delegate.key) has matches that conflict with \(route.label)'s; it is left out, as Istio does")
                return nil
            }
            return compileRoute(merged, of: child, clusters: &clusters, childReport)
        }
    }

    /// Whether some route of some VirtualService delegates to `service`.
    func isDelegateTarget(_ service: VirtualServiceResource) -> Bool {
        documents.virtualServices.contains { parent in parent.routes.contains { $0.delegate?.key == service.header.key } }
    }
}

/// Istio's merge of a root route and a delegate's route (pilot/pkg/model/virtualservice.go).
enum RouteDelegation {
    /// The delegate's route `child` under `parent`: each child match combined with each parent match it does not
    /// conflict with (nil when one child match fits no parent match, or when no combination is left), named
    /// `parent-child`, with the parent's policies where the child has none.
    static func merge(parent: HTTPRouteSpec, child: HTTPRouteSpec) -> HTTPRouteSpec? {
        let parentMatches = parent.matches.compactMap(\.match), childMatches = child.matches.compactMap(\.match)
        guard parentMatches.count == parent.matches.count, childMatches.count == child.matches.count else { return nil }
        var merged = child
        if !parentMatches.isEmpty && !childMatches.isEmpty {
            var matches: [MatchSpec] = []
            for (index, leaf) in childMatches.enumerated() {
                let fitting = parentMatches.filter { !conflicts(root: $0, leaf: leaf) }
                if fitting.isEmpty { return nil }
                matches += fitting.map { MatchSpec(index: index, line: child.matches[index].line, match: combine(root: $0, leaf: leaf)) }
            }
            merged.matches = matches
        } else if childMatches.isEmpty {
            merged.matches = parent.matches
        }
        merged.name = switch (parent.name, child.name) {
        case (let p?, let c?): "\(p)-\(c)"
        case (let p, nil): p
        case (nil, let c): c
        }
        merged.policy = child.policy.inheriting(from: parent.policy)
        return merged
    }

    /// Istio's `hasConflict`: a leaf match fits under a root match when each string condition is narrower, the
    /// case rule is the same and the ports agree.
    static func conflicts(root: RequestMatch, leaf: RequestMatch) -> Bool {
        if conflicts(root.uri, leaf.uri) || conflicts(root.scheme, leaf.scheme) || conflicts(root.method, leaf.method)
            || conflicts(root.authority, leaf.authority) { return true }
        for header in leaf.headers where conflicts(root.headers.first { $0.name == header.name }?.value, header.value) { return true }
        for header in leaf.withoutHeaders where conflicts(root.withoutHeaders.first { $0.name == header.name }?.value, header.value) {
            return true
        }
        for param in leaf.queryParams where conflicts(root.queryParams.first { $0.name == param.name }?.value, param.value) { return true }
        if root.ignoreUriCase != leaf.ignoreUriCase { return true }
        if let a = root.port, let b = leaf.port, a != b { return true }
        return false
    }

    /// Istio's `stringMatchConflict`: a regex fits only under nothing; under an exact, only the same exact;
    /// under a prefix, an exact or prefix that starts with it.
    static func conflicts(_ root: StringMatcher?, _ leaf: StringMatcher?) -> Bool {
        guard let root, let leaf else { return false }
        switch (root, leaf) {
        case (.regex, _), (_, .regex): return true
        case (.exact(let e), .exact(let l)): return e != l
        case (.exact, _): return true
        case (.prefix(let p), .prefix(let l)), (.prefix(let p), .exact(let l)): return !l.starts(with: p)
        default: return true
        }
    }

    /// Istio's `mergeHTTPMatchRequest`: the leaf's conditions, with the root's where the leaf has none; header,
    /// withoutHeaders and query conditions of both, the leaf's winning for the same name.
    static func combine(root: RequestMatch, leaf: RequestMatch) -> RequestMatch {
        var out = leaf
        out.name = switch (root.name, leaf.name) {
        case (let r?, let l?): "\(r)-\(l)"
        case (let r, nil): r
        case (nil, let l): l
        }
        out.uri = leaf.uri ?? root.uri
        out.scheme = leaf.scheme ?? root.scheme
        out.method = leaf.method ?? root.method
        out.authority = leaf.authority ?? root.authority
        out.headers = root.headers.filter { r in !leaf.headers.contains { $0.name == r.name } } + leaf.headers
        out.withoutHeaders = root.withoutHeaders.filter { r in !leaf.withoutHeaders.contains { $0.name == r.name } } + leaf.withoutHeaders
        out.queryParams = root.queryParams.filter { r in !leaf.queryParams.contains { $0.name == r.name } } + leaf.queryParams
        out.port = leaf.port ?? root.port
        return out
    }
}
