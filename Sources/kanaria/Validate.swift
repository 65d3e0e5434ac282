import ArgumentParser
import KanariaConfig

struct Validate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check configuration files: one line per problem (FILE:LINE: Kind/name: message), exit 1 on errors."
    )

    @Option(name: [.customShort("f"), .customLong("file")], help: "A YAML file or a folder of them (repeatable).")
    var files: [String]

    func validate() throws {
        if files.isEmpty { throw ValidationError("give at least one -f PATH") }
    }

    func run() throws {
        let loaded = ConfigLoader.load(paths: files)
        for diagnostic in loaded.diagnostics { say(diagnostic.description) }
        if loaded.hasErrors { throw ExitCode(1) }
    }
}
