import KanariaRouting

/// Finds HTTP routes and matches of a VirtualService that can never be used because an earlier one catches
/// every request they would match, as `istioctl analyze` does:
/// - IST0130: a route after a route without conditions, or whose every match is covered by earlier matches;
/// - IST0131: a single match covered by an earlier match (of an earlier route, or of the same route).
///
/// Conservative: a problem is reported only when `RequestMatch.covers` is certain.
enum RouteReachability {
    static func check(_ service: VirtualServiceResource, _ report: Reporter) {
        var catchAll: HTTPRouteSpec?
        var earlier: [(label: String, match: RequestMatch)] = []
        for route in service.routes {
            if let catcher = catchAll {
                report.error(route.line, "\(route.label) can never match: \(catcher.label) before it catches every request",
                             code: IstioCode.unreachableRule)
                continue
            }
            let compiled = route.matches.compactMap { spec in spec.match.map { (spec, $0) } }
            if route.matches.isEmpty || compiled.contains(where: { $0.1.isCatchAll }) {
                catchAll = route
                continue
            }
            guard compiled.count == route.matches.count else { continue }  // an invalid regex: nothing certain
            let coverers = compiled.map { _, match in earlier.first { $0.match.covers(match) }?.label }
            let fromEarlierRoutes = coverers.compactMap { $0 }
            if fromEarlierRoutes.count == compiled.count {
                let routes = Set(fromEarlierRoutes.map { $0.prefix { $0 != "." } }).sorted().joined(separator: ", ")
                report.error(route.line, "\(route.label) can never match: every request it matches is caught first by \(routes)",
                             code: IstioCode.unreachableRule)
            } else {
                for ((spec, match), coverer) in zip(compiled, coverers) {
                    let sameRoute = compiled.first { other in other.0.index < spec.index && other.1.covers(match) }
                    guard let by = coverer ?? sameRoute.map({ "http[\(route.index)].match[\($0.0.index)]" }) else { continue }
                    report.error(spec.line, "http[\(route.index)].match[\(spec.index)] can never match: \(by) catches every request it matches",
                                 code: IstioCode.ineffectiveMatch)
                }
            }
            earlier += compiled.map { spec, match in ("http[\(route.index)].match[\(spec.index)]", match) }
        }
    }
}
