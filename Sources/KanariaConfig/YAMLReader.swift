import Foundation
import Yams

/// Splits a YAML text into its documents, reporting a syntax error with its line. The documents before the
/// error are kept, so their problems are reported too.
enum YAMLReader {
    static func documents(in text: String, file: String, log: DiagnosticLog) -> [Node] {
        var documents: [Node] = []
        do {
            let parser = try Parser(yaml: text, encoding: .utf8)
            while let root = try parser.nextRoot() {
                documents.append(root)
            }
        } catch {
            let (line, message) = describe(error, in: text)
            log.add(Diagnostic(severity: .error, file: file, line: line, resource: "", message: "YAML syntax error: \(message)"))
        }
        return documents
    }

    /// The line and a one-line message for a Yams error.
    static func describe(_ error: any Error, in text: String) -> (line: Int, message: String) {
        guard let error = error as? YamlError else { return (0, "\(error)") }
        switch error {
        case .scanner(let context, let problem, let mark, _),
             .parser(let context, let problem, let mark, _),
             .composer(let context, let problem, let mark, _):
            var message = problem
            if let context, !context.text.isEmpty, context.mark.line != mark.line {
                message += " (\(context.text) on line \(context.mark.line))"
            } else if let context, !context.text.isEmpty {
                message = "\(context.text): \(problem)"
            }
            return (mark.line, message)
        case .reader(let problem, let offset, _, _):
            let line = offset.map { lineNumber(atCharacterOffset: $0, in: text) } ?? 0
            return (line, problem)
        case .duplicatedKeysInMapping(let duplicates, let context):
            let keys = duplicates.map { "\"\($0)\"" }.joined(separator: ", ")
            return (context.mark.line, "duplicate key \(keys) in a mapping")
        default:
            return (0, "\(error)")
        }
    }

    static func lineNumber(atCharacterOffset offset: Int, in text: String) -> Int {
        1 + text.prefix(offset).reduce(0) { $0 + ($1 == "\n" ? 1 : 0) }
    }
}
