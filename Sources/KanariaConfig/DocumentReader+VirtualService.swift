import KanariaRouting
import Yams

extension DocumentReader {
    static func virtualService(_ spec: Node?, _ header: ResourceHeader, _ report: Reporter) -> VirtualServiceResource {
        let hosts = spec?.value("hosts")?.locatedStrings ?? []
        let routes = (spec?.value("http")?.items ?? []).enumerated().map { index, node in
            httpRoute(node, index: index, namespace: header.namespace, isDelegate: hosts.isEmpty, report)
        }
        return VirtualServiceResource(header: header, hosts: hosts, gateways: spec?.value("gateways")?.locatedStrings,
                                      gatewaysLine: spec?.value("gateways") == nil ? header.line : spec!.keyLine("gateways"),
                                      routes: routes)
    }

    static func httpRoute(_ node: Node, index: Int, namespace: String, isDelegate: Bool, _ report: Reporter) -> HTTPRouteSpec {
        let matches = (node.value("match")?.items ?? []).enumerated().map { index, match in
            MatchSpec(index: index, line: match.line, match: requestMatch(match, report))
        }
        let destinations = (node.value("route")?.items ?? []).compactMap { destination($0, report) }
        let hasOtherAction = ["redirect", "directResponse", "delegate"].contains { node.value($0) != nil }
        var route = HTTPRouteSpec(index: index, name: node.value("name")?.text, line: node.line, matches: matches,
                                  destinations: destinations, hasOtherAction: hasOtherAction)
        route.policy = routePolicy(node, namespace: namespace, report)
        route.delegate = delegate(node, namespace: namespace, isDelegate: isDelegate, label: route.label, report)
        if node.value("route") == nil && !hasOtherAction {
            report.error(node.line, "\(route.label) needs \"route\", \"redirect\", \"directResponse\" or \"delegate\"",
                         code: IstioCode.schema)
        }
        checkWeights(&route, routeLine: node.keyLine("route"), report)
        return route
    }

    /// Istio's weights: none negative; with several destinations a missing weight is 0 and the sum must be
    /// positive (share = weight / sum). A single destination takes all traffic whatever its weight.
    static func checkWeights(_ route: inout HTTPRouteSpec, routeLine: Int, _ report: Reporter) {
        var negative = false
        for (index, destination) in route.destinations.enumerated() {
            if let weight = destination.weight, weight.value < 0 {
                report.error(weight.line, "weight \(weight.value) is negative", code: IstioCode.schema)
                negative = true
            } else if let weight = destination.weight, weight.value > Int(Int32.max) {
                // Istio's weight is an int32: a larger one is a schema error. Clamp it so that the sums made while
                // compiling the rest (for more diagnostics) cannot overflow.
                report.error(weight.line, "weight \(weight.value) is larger than \(Int32.max), the largest Istio accepts",
                             code: IstioCode.schema)
                route.destinations[index].weight?.value = Int(Int32.max)
            }
        }
        let total = route.destinations.reduce(0) { $0 + max(0, $1.weight?.value ?? 0) }
        if route.destinations.count > 1 && total == 0 && !negative {
            report.error(routeLine, "the weights of \(route.label)'s \(route.destinations.count) destinations add up to 0; at least one must be positive",
                         code: IstioCode.schema)
        }
    }

    /// A `route[]` entry: its Destination, weight and headers.
    static func destination(_ node: Node, _ report: Reporter) -> DestinationSpec? {
        guard let target = node.value("destination"), var destination = destinationSpec(target, line: node.line) else {
            return nil  // reported by the schema check
        }
        destination.weight = node.value("weight").flatMap { w in w.integer.map { Located($0, line: w.line) } }
        destination.headers = node.value("headers").map { headerPolicy($0, report) } ?? .none
        return destination
    }

    /// A `Destination` (host, subset, port), as a route entry or a mirror names it; nil without a host.
    static func destinationSpec(_ target: Node, line: Int) -> DestinationSpec? {
        guard let host = target.value("host"), let hostText = host.text else { return nil }
        let port = target.value("port")?.value("number")
        return DestinationSpec(line: line, host: Located(hostText, line: host.line),
                               subset: target.value("subset").flatMap { s in s.text.map { Located($0, line: s.line) } },
                               port: port.flatMap { p in p.integer.map { Located($0, line: p.line) } }, weight: nil)
    }

    /// A route's `delegate`: Istio's rules for root routes (no `route`, no `redirect`) and for the routes of a
    /// delegate VirtualService (no second level of delegation).
    static func delegate(_ node: Node, namespace: String, isDelegate: Bool, label: String, _ report: Reporter) -> DelegateSpec? {
        guard let delegate = node.value("delegate") else { return nil }
        if isDelegate {
            report.error(node.keyLine("delegate"), "delegate HTTP route cannot contain delegate", code: IstioCode.schema)
            return nil
        }
        for field in ["redirect", "route"] where node.value(field) != nil {
            report.error(node.keyLine(field), "root HTTP route \(label) must not specify \(field)", code: IstioCode.schema)
        }
        guard let name = delegate.value("name"), let text = name.text else {
            report.error(node.keyLine("delegate"), "delegate needs a name", code: IstioCode.schema)
            return nil
        }
        return DelegateSpec(name: Located(text, line: name.line), namespace: delegate.value("namespace")?.text ?? namespace)
    }

    /// One `match` entry compiled; nil when a regex in it does not compile (reported).
    static func requestMatch(_ node: Node, _ report: Reporter) -> RequestMatch? {
        var valid = true
        func condition(_ field: String) -> StringMatcher? {
            guard let value = node.value(field) else { return nil }
            guard let matcher = stringMatcher(value, field: field, report) else { valid = false; return nil }
            if case .any = matcher { return nil }  // `uri: {}` sets no condition
            return matcher
        }
        func mapMatchers(_ field: String) -> [(String, StringMatcher)] {
            (node.value(field)?.entries ?? []).compactMap { entry in
                let value = entry.value.isNull ? .any : stringMatcher(entry.value, field: entry.key, presenceStar: true, report)
                guard let value else { valid = false; return nil }
                return (entry.key, value)
            }
        }
        func headerMatchers(_ field: String) -> [HeaderMatcher] {
            mapMatchers(field).map { HeaderMatcher(name: $0.0, value: $0.1) }
        }
        var match = RequestMatch(name: node.value("name")?.text)
        match.uri = condition("uri")
        match.authority = condition("authority")
        match.method = condition("method")
        match.ignoreUriCase = node.value("ignoreUriCase")?.boolean ?? false
        match.headers = headerMatchers("headers")
        match.withoutHeaders = headerMatchers("withoutHeaders")
        match.port = node.value("port")?.integer
        match.scheme = condition("scheme")
        match.queryParams = mapMatchers("queryParams").map { QueryParamMatcher(name: $0.0, value: $0.1) }
        return valid ? match : nil
    }

    /// Istio's StringMatch: `{exact: …}`, `{prefix: …}` or `{regex: …}` (RE2, matched against the whole value);
    /// `{}` is `.any` (for a header: it must be present), and so is `regex: "*"` for headers and query parameters
    /// (`presenceStar`; Istio's `canBeConvertedToPresentMatch`). Nil when the regex does not compile (reported).
    static func stringMatcher(_ node: Node, field: String, presenceStar: Bool = false, _ report: Reporter) -> StringMatcher? {
        if let exact = node.value("exact")?.text { return .exact(exact) }
        if let prefix = node.value("prefix")?.text { return .prefix(prefix) }
        if presenceStar && node.value("regex")?.text == "*" { return .any }
        if let regexNode = node.value("regex"), let pattern = regexNode.text {
            do {
                return .regex(try RegexMatcher(pattern))
            } catch {
                report.error(regexNode.line, "invalid regex \"\(pattern)\" in field \"\(field)\": \(RegexProblem.describe(error))",
                             code: IstioCode.schema)
                return nil
            }
        }
        return .any
    }
}

enum RegexProblem {
    /// The first line of the regex engine's complaint, without its type name.
    static func describe(_ error: any Error) -> String {
        let text = String(describing: error)
        return text.split(separator: "\n").first.map(String.init) ?? text
    }
}
