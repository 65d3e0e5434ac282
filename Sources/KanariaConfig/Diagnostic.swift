/// One problem found in the configuration, located by file and line, as `kanaria validate` prints it.
///
/// The printed form is a contract that users (and their editors' problem matchers) rely on:
///
///     bad.yaml:23: VirtualService/nodejs: unknown field "wieght"; did you mean "weight"? [IST0106]
///     vs.yaml:12: VirtualService/nodejs: warning: field "retries" is valid Istio but not implemented yet; it is ignored
///     bad.yaml:7: YAML syntax error: mapping values are not allowed in this context
///
/// `code` is the `istioctl analyze` message code where Istio has one for the problem, so people who know Istio
/// recognise it: IST0101 (referenced resource not found), IST0106 (schema error), IST0130 (rule never used),
/// IST0131 (match never used).
public struct Diagnostic: Sendable, CustomStringConvertible, Equatable, Encodable {
    public enum Severity: String, Sendable, Encodable {
        case error
        case warning
    }

    public var severity: Severity
    /// The path as the user gave it (a file, or a folder joined with the file's name).
    public var file: String
    /// 1-based; 0 when the problem concerns the file as a whole (it cannot be read).
    public var line: Int
    /// `Kind/name` of the resource the problem is in; empty outside a resource (a YAML syntax error).
    public var resource: String
    public var message: String
    public var code: String?

    public init(severity: Severity, file: String, line: Int, resource: String, message: String, code: String? = nil) {
        self.severity = severity
        self.file = file
        self.line = line
        self.resource = resource
        self.message = message
        self.code = code
    }

    public var isError: Bool { severity == .error }

    /// `FILE:LINE: Kind/name: [warning: ]MESSAGE[ [CODE]]`; the resource part is left out when empty, the line
    /// when 0.
    public var description: String {
        var text = line > 0 ? "\(file):\(line): " : "\(file): "
        if !resource.isEmpty { text += "\(resource): " }
        if severity == .warning { text += "warning: " }
        text += message
        if let code { text += " [\(code)]" }
        return text
    }

    private enum Key: String, CodingKey {
        case file, line, severity, code, resource, message, text
    }

    /// `{"file": "bad.yaml", "line": 23, "severity": "error", "code": "IST0106", "resource": "VirtualService/nodejs",
    /// "message": "unknown field …", "text": "bad.yaml:23: VirtualService/nodejs: unknown field … [IST0106]"}`;
    /// `code` is null where Istio has none, `text` is the printed line.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        try container.encode(file, forKey: .file)
        try container.encode(line, forKey: .line)
        try container.encode(severity, forKey: .severity)
        try container.encode(code, forKey: .code)
        try container.encode(resource, forKey: .resource)
        try container.encode(message, forKey: .message)
        try container.encode(description, forKey: .text)
    }
}

/// The `istioctl analyze` message codes Kanaria reports.
enum IstioCode {
    /// ReferencedResourceNotFound.
    static let notFound = "IST0101"
    /// SchemaValidationError.
    static let schema = "IST0106"
    /// VirtualServiceUnreachableRule.
    static let unreachableRule = "IST0130"
    /// VirtualServiceIneffectiveMatch.
    static let ineffectiveMatch = "IST0131"
}
