import KanariaRouting
import Yams

/// Reads an HTTP route's policies (everything but `match` and `route`), validated as Istio's webhook validates
/// them (pkg/config/validation: `validateHTTPRoute` and the functions it calls), each problem on its field's line.
extension DocumentReader {
    static func routePolicy(_ node: Node, namespace: String, _ report: Reporter) -> RoutePolicySpec {
        var policy = RoutePolicySpec()
        policy.redirect = node.value("redirect").flatMap { redirect($0, report) }
        policy.directResponse = node.value("directResponse").flatMap { directResponse($0, report) }
        policy.rewrite = node.value("rewrite").flatMap { rewrite($0, report) }
        policy.headers = node.value("headers").map { headerPolicy($0, report) }
        policy.corsPolicy = node.value("corsPolicy").flatMap { corsPolicy($0, report) }
        if let timeout = node.value("timeout") {
            policy.timeout = PolicyField.duration(timeout, field: "timeout", report)
        }
        policy.retries = node.value("retries").flatMap { retries($0, report) }
        policy.fault = node.value("fault").flatMap { fault($0, report) }
        policy.mirrors = mirrors(node, namespace: namespace, report)
        checkConflicts(node, report)
        checkAuthority(node, report)
        return policy
    }

    /// Istio's `validateHTTPRouteConflict`: a redirect or direct response excludes fault and rewrite.
    static func checkConflicts(_ node: Node, _ report: Reporter) {
        for action in ["redirect", "directResponse"] where node.value(action) != nil {
            let name = action == "redirect" ? "redirect" : "direct_response"
            for other in ["fault", "rewrite"] where node.value(other) != nil {
                report.error(node.keyLine(other), "HTTP route cannot contain both \(other) and \(name)", code: IstioCode.schema)
            }
        }
        if node.value("mirror") != nil && node.value("mirrors") != nil {
            report.error(node.keyLine("mirrors"), "HTTP route cannot contain both mirror and mirrors", code: IstioCode.schema)
        }
    }

    /// Istio's `validateAuthorityRewrite`: the authority is rewritten in one place only (`rewrite.authority` or a
    /// `host`/`:authority` in `headers.request.set` or `.add`).
    static func checkAuthority(_ node: Node, _ report: Reporter) {
        var current = node.value("rewrite")?.value("authority")?.text
        let request = node.value("headers")?.value("request")
        for operation in ["set", "add"] {
            for entry in request?.value(operation)?.entries ?? [] where HeaderNames.isAuthority(entry.key) {
                guard let value = entry.value.text else { continue }
                if let current {
                    report.error(entry.keyLine, "authority header cannot be set multiple times: have \"\(current)\", attempting to set \"\(value)\"",
                                 code: IstioCode.schema)
                }
                current = current ?? value
            }
        }
    }

    /// `mirror` (with `mirrorPercentage` or `mirror_percent`) and `mirrors`, folded into one list as Istio does:
    /// a missing percentage is 100%, an explicit 0 drops the mirror. nil when the route has neither.
    static func mirrors(_ node: Node, namespace: String, _ report: Reporter) -> [MirrorSpec]? {
        guard node.value("mirror") != nil || node.value("mirrors") != nil else { return nil }
        var result: [MirrorSpec] = []
        if let mirror = node.value("mirror"), let destination = destinationSpec(mirror, line: mirror.line) {
            var percentage = Percentage.all
            if let value = node.value("mirrorPercentage") {
                percentage = PolicyField.percentage(value, field: "mirrorPercentage", report) ?? .all
            } else if let legacy = node.value("mirror_percent"), let value = legacy.integer {
                report.warning(node.keyLine("mirror_percent"), "using deprecated setting \"mirror_percent\", use \"mirrorPercentage\" instead")
                if value > 100 || value < 0 {
                    report.error(legacy.line, "mirror_percent must be between 0 and 100 (it has \(value))", code: IstioCode.schema)
                } else {
                    percentage = Percentage(percent: Double(value))
                }
            }
            if percentage.millionths > 0 { result.append(MirrorSpec(destination: destination, namespace: namespace, percentage: percentage)) }
        }
        for item in node.value("mirrors")?.items ?? [] {
            guard let target = item.value("destination"), let destination = destinationSpec(target, line: target.line) else { continue }
            let percentage = item.value("percentage").map { PolicyField.percentage($0, field: "percentage", report) ?? .all } ?? .all
            if percentage.millionths > 0 { result.append(MirrorSpec(destination: destination, namespace: namespace, percentage: percentage)) }
        }
        return result
    }
}

/// Checks of single policy values shared by the route readers, with Istio's rules and messages.
enum PolicyField {
    /// A Duration as Istio's `ValidateDuration` accepts it: at least 1 ms, whole milliseconds.
    static func duration(_ node: Node, field: String, _ report: Reporter) -> Duration? {
        guard let text = node.text, let duration = GoDuration.parse(text) else { return nil }  // the schema reports it
        if duration < .milliseconds(1) {
            report.error(node.line, "\(field) \(text): duration must be at least 1ms", code: IstioCode.schema)
            return nil
        }
        if !duration.isWholeMilliseconds {
            report.error(node.line, "\(field) \(text): only durations to ms precision are supported", code: IstioCode.schema)
            return nil
        }
        return duration
    }

    /// A `Percent` (`{value: 12.5}`) as Istio's `validatePercentage` accepts it: 0, or 0.0001 to 100.
    static func percentage(_ node: Node, field: String, _ report: Reporter) -> Percentage? {
        guard let valueNode = node.value("value") else { return Percentage.zero }
        guard let value = valueNode.number else { return nil }  // the schema reports it
        if value < 0 || value > 100 || (value > 0 && value < 0.0001) {
            report.error(valueNode.line, "\(field) \(valueNode.scalar?.string ?? "") is neither 0 nor between 0.0001 and 100",
                         code: IstioCode.schema)
            return nil
        }
        return Percentage(percent: value)
    }

    /// An HTTP status as Istio's `validateHTTPStatus` accepts it: 200 to 599.
    static func httpStatus(_ node: Node, field: String, _ report: Reporter) -> Int? {
        guard let status = node.integer else { return nil }
        if !(200...599).contains(status) {
            report.error(node.line, "\(field) \(status) is not in range 200-599", code: IstioCode.schema)
            return nil
        }
        return status
    }
}

extension Node {
    /// A number scalar (integer or with a fraction).
    var number: Double? {
        guard case .scalar(let scalar) = self, tagName == .int || tagName == .float else { return nil }
        return Double(scalar.string)
    }
}
