import ArgumentParser
import KanariaConfig
import KanariaDemo
import KanariaPosix
import KanariaProxy
import KanariaRouting

#if canImport(Glibc)
import Glibc
#endif

@main
struct Kanaria: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kanaria",
        abstract: "Istio's canary data plane in one program: VirtualService weights, DestinationRule subsets, label-selected endpoints.",
        subcommands: [Run.self, Validate.self, Route.self, Demo.self, Shark.self]
    )
}

/// Prints a line to standard output and flushes it at once (the output is often a pipe read by a script).
func say(_ line: String) {
    writeLine(line, to: 1)
}

/// Prints a line to standard error.
func complain(_ line: String) {
    writeLine(line, to: 2)
}

private func writeLine(_ line: String, to fd: Int32) {
    var text = line + "\n"
    text.withUTF8 { bytes in
        var offset = 0
        while offset < bytes.count {
            let n = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if n <= 0 { return }
            offset += n
        }
    }
}

extension SplitMode: ExpressibleByArgument {}

/// `--listen 80=127.0.0.1:8080`: serve Gateway port 80 on that address instead of 0.0.0.0:80.
struct ListenOverride: ExpressibleByArgument {
    var gatewayPort: Int
    var address: SocketAddress

    init?(argument: String) {
        let parts = argument.split(separator: "=", maxSplits: 1)
        guard parts.count == 2, let port = Int(parts[0]), let address = SocketAddress(parsing: String(parts[1])) else {
            return nil
        }
        self.gatewayPort = port
        self.address = address
    }

    static var defaultCompletionKind: CompletionKind { .default }
}

/// Options shared by the commands that start the proxy.
struct ProxyFlags: ParsableArguments {
    @Option(help: "Event-loop threads (default: the number of CPUs).")
    var workers: Int?

    @Option(help: "How a route picks among weighted destinations: exact (smooth weighted round-robin) or random (Envoy's per-request draw).")
    var split: SplitMode = .exact

    func options() -> ProxyOptions {
        ProxyOptions(workers: workers ?? availableProcessorCount(), split: split)
    }
}

/// Prints the diagnostics of a load; returns false when there were errors.
func report(_ loaded: LoadedConfiguration, warningsTo warn: (String) -> Void = complain) -> Bool {
    for diagnostic in loaded.diagnostics {
        if diagnostic.isError { complain(diagnostic.description) } else { warn(diagnostic.description) }
    }
    return !loaded.hasErrors
}
