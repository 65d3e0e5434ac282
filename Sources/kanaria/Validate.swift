import ArgumentParser
import Foundation
import KanariaConfig

struct Validate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check configuration files: one line per problem (FILE:LINE: Kind/name: message), exit 1 on errors.",
        discussion: """
        After the problems it says what it checked: the files, the resources by kind, the listeners, the routes and \
        the endpoints of every subset. --json prints one JSON object instead: {"valid", "diagnostics": [{"file", \
        "line", "severity", "code", "resource", "message", "text"}], "summary": {"counts": {"errors", \
        "warnings", "resources", "byKind", "listeners", "routes", "clusters", "endpoints"}, "files", "resources", \
        "listeners", "routesByVirtualService", "clusters"}}.
        """
    )

    @Option(name: [.customShort("f"), .customLong("file")], help: "A YAML file or a folder of them (repeatable).")
    var files: [String]

    @Flag(help: "Print the diagnostics and what was checked as one JSON object.")
    var json = false

    func validate() throws {
        if files.isEmpty { throw ValidationError("give at least one -f PATH") }
    }

    func run() throws {
        let loaded = ConfigLoader.load(paths: files)
        if json {
            say(try Self.json(loaded))
        } else {
            for diagnostic in loaded.diagnostics { say(diagnostic.description) }
            for line in loaded.summary.lines { say(line) }
        }
        if loaded.hasErrors { throw ExitCode(1) }
    }

    private struct Report: Encodable {
        var valid: Bool
        var diagnostics: [Diagnostic]
        var summary: ValidationSummary
    }

    /// The machine-readable report: keys sorted, so the same files always print the same text.
    static func json(_ loaded: LoadedConfiguration) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let report = Report(valid: !loaded.hasErrors, diagnostics: loaded.diagnostics, summary: loaded.summary)
        return String(decoding: try encoder.encode(report), as: UTF8.self)
    }
}
