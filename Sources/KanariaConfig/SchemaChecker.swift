import Yams

/// Walks a document against its `Shape` and reports, each on the line of the offending field:
/// unknown fields (with the nearest valid name), values of the wrong type, missing required fields and
/// mutually exclusive fields set together — all errors with istioctl's schema code IST0106 — and a warning for
/// each valid field Kanaria does not implement yet (once, at the outermost such field).
struct SchemaChecker {
    let report: Reporter

    /// Checks `node`, the value of the field `name` whose key is on `keyLine`. `quiet` is set inside a field
    /// already warned about, so its children are checked for errors but not warned about again.
    func check(_ node: Node, _ shape: Shape, name: String, keyLine: Int, quiet: Bool = false) {
        if node.isNull { return }
        switch shape {
        case .any:
            return
        case .string:
            if node.text == nil { typeError(node, name, expected: "a string") }
        case .integer:
            if node.integer == nil { typeError(node, name, expected: "an integer") }
        case .number:
            if !(node.scalar != nil && (node.tagName == .int || node.tagName == .float)) {
                typeError(node, name, expected: "a number")
            }
        case .boolean:
            if node.boolean == nil { typeError(node, name, expected: "true or false") }
        case .duration:
            if let text = node.text, GoDuration.isValid(text) { return }
            typeError(node, name, expected: "a duration like \"1.5s\" or \"500ms\"")
        case .intOrString:
            if node.integer == nil && node.text == nil { typeError(node, name, expected: "a number or a name") }
        case .enumeration(let values, let ignoringCase):
            checkEnumeration(node, values, ignoringCase: ignoringCase, name: name)
        case .list(let item):
            guard node.sequence != nil else { return typeError(node, name, expected: "a list") }
            for (index, element) in node.items.enumerated() {
                check(element, item, name: "\(name)[\(index)]", keyLine: element.line, quiet: quiet)
            }
        case .map(let value):
            guard node.mapping != nil else { return typeError(node, name, expected: "a mapping") }
            for entry in node.entries {
                check(entry.value, value, name: entry.key, keyLine: entry.keyLine, quiet: quiet)
            }
        case .object(let object):
            guard node.mapping != nil else { return typeError(node, name, expected: "a mapping of fields") }
            checkObject(node, object, keyLine: keyLine, quiet: quiet)
        }
    }

    private func checkObject(_ node: Node, _ object: ObjectShape, keyLine: Int, quiet: Bool) {
        for entry in node.entries {
            guard let field = object.fields[entry.key] else {
                let hint = Suggestion.hint(for: entry.key, in: object.names)
                report.error(entry.keyLine, "unknown field \"\(entry.key)\"\(hint)", code: IstioCode.schema)
                continue
            }
            if field.support == .unimplemented && !quiet && !entry.value.isNull {
                report.warning(entry.keyLine, "field \"\(entry.key)\" is valid Istio but not implemented yet; it is ignored")
            }
            check(entry.value, field.shape, name: entry.key, keyLine: entry.keyLine,
                  quiet: quiet || field.support == .unimplemented)
        }
        for name in object.names where object.fields[name]!.required && node.value(name) == nil {
            report.error(keyLine, "missing required field \"\(name)\"", code: IstioCode.schema)
        }
        for group in object.exclusive {
            let present = group.filter { node.value($0) != nil }
            if present.count > 1 {
                let names = group.map { "\"\($0)\"" }
                let list = names.dropLast().joined(separator: ", ") + " or " + names.last!
                report.error(node.keyLine(present[1]), "only one of \(list) may be set", code: IstioCode.schema)
            }
        }
    }

    private func checkEnumeration(_ node: Node, _ values: [String], ignoringCase: Bool, name: String) {
        guard let text = node.text else { return typeError(node, name, expected: "a string") }
        let known = ignoringCase ? values.contains { $0.caseInsensitiveCompare(text) } : values.contains(text)
        if known { return }
        var message = "invalid value \"\(text)\" for field \"\(name)\""
        if let nearest = Suggestion.nearest(to: text, in: values) {
            message += "; did you mean \"\(nearest)\"?"
        } else {
            message += " (expected one of \(values.joined(separator: ", ")))"
        }
        report.error(node.line, message, code: IstioCode.schema)
    }

    private func typeError(_ node: Node, _ name: String, expected: String) {
        var message = "field \"\(name)\" must be \(expected), got \(Self.describe(node))"
        if expected == "a string", let scalar = node.scalar, scalar.style == .plain {
            message += "; quote it: \"\(scalar.string)\""
        }
        report.error(node.line, message, code: IstioCode.schema)
    }

    /// How a value reads in a message: a scalar as written (quoted when it was), else what kind of node it is.
    static func describe(_ node: Node) -> String {
        switch node {
        case .scalar(let scalar):
            return scalar.style == .plain && !scalar.string.isEmpty ? scalar.string : "\"\(scalar.string)\""
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        }
    }
}

private extension String {
    func caseInsensitiveCompare(_ other: String) -> Bool { lowercased() == other.lowercased() }
}

/// Go's duration syntax, which Istio accepts for protobuf Durations: one or more decimal numbers, each with a
/// unit (`ns`, `us`, `µs`, `ms`, `s`, `m`, `h`), as in `1.5s`, `300ms` or `1h30m`; or just `0`.
enum GoDuration {
    static func isValid(_ text: String) -> Bool {
        var rest = Substring(text)
        if rest.first == "+" || rest.first == "-" { rest = rest.dropFirst() }
        if rest == "0" { return true }
        guard !rest.isEmpty else { return false }
        while !rest.isEmpty {
            let number = rest.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
            guard !number.isEmpty, number != ".", number.filter({ $0 == "." }).count <= 1 else { return false }
            rest = rest.dropFirst(number.count)
            let unit = rest.prefix { $0.isLetter }
            guard ["ns", "us", "µs", "ms", "s", "m", "h"].contains(String(unit)) else { return false }
            rest = rest.dropFirst(unit.count)
        }
        return true
    }
}
