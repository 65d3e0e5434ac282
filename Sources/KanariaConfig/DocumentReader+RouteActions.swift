import Foundation
import KanariaRouting
import Yams

/// `redirect`, `directResponse` and `rewrite`, checked as Istio's `validateHTTPRedirect`,
/// `validateHTTPDirectResponse` and `validateHTTPRewrite` check them.
extension DocumentReader {
    /// The redirect codes Istio translates for Envoy (others make Istio drop the route).
    static let redirectCodes = [301, 302, 303, 307, 308]

    static func redirect(_ node: Node, _ report: Reporter) -> RedirectAction? {
        var valid = true
        let uri = node.value("uri")?.text, authority = node.value("authority")?.text, scheme = node.value("scheme")?.text
        var port = RedirectAction.Port.protocolDefault
        if let number = node.value("port")?.integer {
            if !(1...65535).contains(number) {
                report.error(node.value("port")!.line, "redirect port \(number) is not in range 1-65535", code: IstioCode.schema)
                valid = false
            }
            port = .number(number)
        } else if node.value("derivePort")?.text == "FROM_REQUEST_PORT" {
            port = .fromRequestPort
        }
        let hasPort = node.value("port") != nil || node.value("derivePort") != nil
        if (uri ?? "").isEmpty && (authority ?? "").isEmpty && (scheme ?? "").isEmpty && !hasPort {
            report.error(node.line, "redirect must specify uri, authority, scheme, or port", code: IstioCode.schema)
            valid = false
        }
        if let scheme, !scheme.isEmpty, scheme != "http" && scheme != "https" {
            report.error(node.value("scheme")!.line, "invalid redirect scheme \"\(scheme)\": it must be \"http\" or \"https\"", code: IstioCode.schema)
            valid = false
        }
        var code = 301
        if let codeNode = node.value("redirectCode"), let value = codeNode.integer, value != 0 {
            if !redirectCodes.contains(value) {
                report.error(codeNode.line, "redirectCode \(value) is not supported: use 301, 302, 303, 307 or 308", code: IstioCode.schema)
                valid = false
            }
            code = value
        }
        return valid ? RedirectAction(uri: uri, authority: authority, port: port, scheme: scheme, code: code) : nil
    }

    static func directResponse(_ node: Node, _ report: Reporter) -> DirectResponse? {
        guard let statusNode = node.value("status") else { return nil }  // required: the schema reports it
        let status = PolicyField.httpStatus(statusNode, field: "status", report)
        var body: [UInt8] = []
        if let bodyNode = node.value("body") {
            if let text = bodyNode.value("string")?.text {
                body = Array(text.utf8)
            } else if let encoded = bodyNode.value("bytes") {
                guard let text = encoded.text, let data = Data(base64Encoded: text) else {
                    report.error(encoded.line, "body.bytes is not valid base64", code: IstioCode.schema)
                    return nil
                }
                body = Array(data)
            }
            if body.count > 1 << 20 {
                report.error(bodyNode.line, "large direct_responses may impact control plane performance, must be less than 1MB", code: IstioCode.schema)
                return nil
            } else if body.count > 100 << 10 {
                report.warning(bodyNode.line, "large direct_responses may impact control plane performance")
            }
        }
        return status.map { DirectResponse(status: $0, body: body) }
    }

    static func rewrite(_ node: Node, _ report: Reporter) -> URIRewrite? {
        let uri = node.value("uri")?.text ?? "", authority = node.value("authority")?.text
        let regexNode = node.value("uriRegexRewrite")
        if !uri.isEmpty && regexNode != nil {
            report.error(node.keyLine("uriRegexRewrite"), "rewrite may only contain one of uri or uriRegexRewrite", code: IstioCode.schema)
            return nil
        }
        if uri.isEmpty && regexNode == nil && (authority ?? "").isEmpty {
            report.error(node.line, "rewrite must specify at least one of uri, uriRegexRewrite, or authority", code: IstioCode.schema)
            return nil
        }
        var path: URIRewrite.Path? = uri.isEmpty ? nil : .prefix(Array(uri.utf8))
        if let regexNode {
            guard let pattern = regexNode.value("match")?.text, !pattern.isEmpty,
                  let substitution = regexNode.value("rewrite")?.text, !substitution.isEmpty else {
                report.error(regexNode.line, "uriRegexRewrite requires both rewrite and match fields to be specified", code: IstioCode.schema)
                return nil
            }
            do {
                path = .regex(try RegexMatcher(pattern), substitution: substitution)
            } catch {
                report.error(regexNode.value("match")!.line, "invalid regex \"\(pattern)\" in field \"match\": \(RegexProblem.describe(error))",
                             code: IstioCode.schema)
                return nil
            }
        }
        return URIRewrite(path: path, authority: authority)
    }
}
