import KanariaRouting
import Yams

/// `headers` (on a route and on each destination) and `corsPolicy`, checked as Istio's validation checks them.
extension DocumentReader {
    /// A `Headers` object. Request `set`/`add` may name `host`/`:authority` (an authority rewrite); no other
    /// pseudo-header, and `host` nowhere else (Istio's `ValidateHTTPHeader…OperationName`).
    static func headerPolicy(_ node: Node, _ report: Reporter) -> HeaderPolicy {
        let request = node.value("request"), response = node.value("response")
        var authority: String?
        func fields(_ operations: Node?, _ operation: String, isRequest: Bool) -> [HeaderOperations.Field] {
            (operations?.value(operation)?.entries ?? []).compactMap { entry in
                guard let value = entry.value.text else { return nil }
                guard HeaderNames.check(entry.key, line: entry.keyLine, allowsAuthority: isRequest, report) else { return nil }
                if isRequest && HeaderNames.isAuthority(entry.key) {
                    if operation == "set" || authority == nil { authority = value }
                    return nil
                }
                return HeaderOperations.Field(entry.key, value)
            }
        }
        func removals(_ operations: Node?) -> [String] {
            (operations?.value("remove")?.items ?? []).compactMap { item in
                guard let name = item.text, HeaderNames.check(name, line: item.line, allowsAuthority: false, report) else { return nil }
                return name
            }
        }
        let requestSet = fields(request, "set", isRequest: true), requestAdd = fields(request, "add", isRequest: true)
        return HeaderPolicy(
            request: HeaderOperations(set: requestSet, add: requestAdd, remove: removals(request)),
            response: HeaderOperations(set: fields(response, "set", isRequest: false), add: fields(response, "add", isRequest: false),
                                       remove: removals(response)),
            authority: authority)
    }

    /// The HTTP methods Istio's CORS validation accepts.
    static let corsMethods = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "CONNECT", "OPTIONS", "TRACE", "*"]

    static func corsPolicy(_ node: Node, _ report: Reporter) -> CorsPolicy? {
        var valid = true
        var origins: [StringMatcher] = []
        if let allowOrigins = node.value("allowOrigins") {
            for item in allowOrigins.items {
                let text = item.value("exact")?.text ?? item.value("prefix")?.text ?? item.value("regex")?.text ?? ""
                if text.isEmpty {
                    report.error(item.line, "'' is not a valid match type for CORS allow origins", code: IstioCode.schema)
                    valid = false
                    continue
                }
                guard let matcher = stringMatcher(item, field: "allowOrigins", report) else { valid = false; continue }
                origins.append(matcher)
            }
        } else if let allowOrigin = node.value("allowOrigin") {
            report.warning(node.keyLine("allowOrigin"), "using deprecated setting \"allowOrigin\", use \"allowOrigins\" instead")
            origins = allowOrigin.locatedStrings.map { .exact($0.value) }
        }
        let methods = node.value("allowMethods")?.locatedStrings ?? []
        for method in methods where !corsMethods.contains(method.value) {
            let hint = Suggestion.hint(for: method.value, in: corsMethods)
            report.error(method.line, "\"\(method.value)\" is not a supported HTTP method\(hint)", code: IstioCode.schema)
            valid = false
        }
        var maxAge: Int?
        if let maxAgeNode = node.value("maxAge") {
            if let duration = PolicyField.duration(maxAgeNode, field: "maxAge", report) {
                if duration.wholeMilliseconds % 1000 != 0 {
                    report.error(maxAgeNode.line, "max_age duration is accurate only to seconds precision", code: IstioCode.schema)
                    valid = false
                }
                maxAge = duration.wholeMilliseconds / 1000
            } else {
                valid = false
            }
        }
        guard valid else { return nil }
        return CorsPolicy(allowOrigins: origins, allowMethods: methods.map(\.value),
                          allowHeaders: node.value("allowHeaders")?.locatedStrings.map(\.value) ?? [],
                          exposeHeaders: node.value("exposeHeaders")?.locatedStrings.map(\.value) ?? [],
                          maxAgeSeconds: maxAge, allowCredentials: node.value("allowCredentials")?.boolean ?? false,
                          forwardUnmatchedPreflights: node.value("unmatchedPreflights")?.text != "IGNORE")
    }
}

/// Header names in header operations.
enum HeaderNames {
    /// `host` or `:authority`, any case.
    static func isAuthority(_ name: String) -> Bool {
        let lower = name.lowercased()
        return lower == "host" || lower == ":authority"
    }

    /// Reports a name Istio refuses in a header operation; true when it is acceptable.
    static func check(_ name: String, line: Int, allowsAuthority: Bool, _ report: Reporter) -> Bool {
        if name.isEmpty {
            report.error(line, "header name cannot be empty", code: IstioCode.schema)
            return false
        }
        if allowsAuthority && isAuthority(name) { return true }
        if name.lowercased() == "host" {
            report.error(line, "invalid header \"\(name)\": cannot set Host header", code: IstioCode.schema)
            return false
        }
        if name.hasPrefix(":") {
            report.error(line, "invalid header \"\(name)\": header cannot have \":\" prefix", code: IstioCode.schema)
            return false
        }
        return true
    }
}
