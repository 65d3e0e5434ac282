/// Collects the diagnostics of one load, in the order the files were read.
final class DiagnosticLog {
    private var entries: [(order: Int, diagnostic: Diagnostic)] = []
    private var fileOrder: [String: Int] = [:]

    /// Registers `file` so that its diagnostics sort after those of files registered before it.
    func register(file: String) {
        if fileOrder[file] == nil { fileOrder[file] = fileOrder.count }
    }

    func add(_ diagnostic: Diagnostic) {
        register(file: diagnostic.file)
        guard !entries.contains(where: { $0.diagnostic == diagnostic }) else { return }
        entries.append((fileOrder[diagnostic.file]!, diagnostic))
    }

    var hasErrors: Bool { entries.contains { $0.diagnostic.isError } }

    /// Every diagnostic, by file (in reading order), then by line; problems on one line keep the order found.
    var sorted: [Diagnostic] {
        entries.enumerated()
            .sorted { a, b in
                let (x, y) = (a.element, b.element)
                if x.order != y.order { return x.order < y.order }
                if x.diagnostic.line != y.diagnostic.line { return x.diagnostic.line < y.diagnostic.line }
                return a.offset < b.offset
            }
            .map(\.element.diagnostic)
    }
}

/// Where the diagnostics about one resource go: its file and its `Kind/name`.
struct Reporter {
    let log: DiagnosticLog
    let file: String
    let resource: String

    func error(_ line: Int, _ message: String, code: String? = nil) {
        log.add(Diagnostic(severity: .error, file: file, line: line, resource: resource, message: message, code: code))
    }

    func warning(_ line: Int, _ message: String, code: String? = nil) {
        log.add(Diagnostic(severity: .warning, file: file, line: line, resource: resource, message: message, code: code))
    }
}
