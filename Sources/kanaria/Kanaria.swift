import ArgumentParser
import KanariaConfig
import KanariaControl
import KanariaDemo
import KanariaPosix
import KanariaProxy
import KanariaRouting
import KanariaTelemetry
import KanariaAdmin
import KanariaTLS

#if canImport(Glibc)
import Glibc
#endif

@main
struct Kanaria: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kanaria",
        abstract: "Istio's canary data plane in one program: VirtualService weights, DestinationRule subsets, label-selected endpoints.",
        subcommands: [Run.self, Validate.self, Route.self, Demo.self, Shark.self, LoadTest.self]
    )

    /// As ArgumentParser's, except that `loadtest` exits 2 on a usage error (its contract for CI scripts).
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            if CommandLine.arguments.dropFirst().first == "loadtest" && exitCode(for: error) == .validationFailure {
                complain(fullMessage(for: error))
                Glibc.exit(2)
            }
            exit(withError: error)
        }
    }
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

    @Option(help: "The admin endpoints and dashboard: ADDR:PORT, or 'off'.")
    var admin: String = "127.0.0.1:15000"

    @Option(name: .customLong("access-log"), help: "Write an access-log line per request to this file, or '-' for standard output (default: none).")
    var accessLog: String?

    @Option(name: .customLong("access-log-format"), help: "envoy (Envoy's default text), istio (Istio's text) or json.")
    var accessLogFormat: AccessLogFormatName = .envoy

    func options(defaultWorkers: Int? = nil) -> ProxyOptions {
        var options = ProxyOptions(workers: workers ?? defaultWorkers ?? availableProcessorCount(), split: split)
        if let accessLog { options.accessLog = AccessLogOptions(path: accessLog, format: accessLogFormat.format) }
        return options
    }

    func adminAddress() throws -> SocketAddress? { try parseAdminAddress(admin) }
}

/// The TLS context of an HTTPS Gateway port: its servers' certificates, picked by SNI; nil for plain ports.
func tlsContext(for port: Int, in table: RouteTable) throws -> TLSServerContext? {
    do {
        return try TLSServerContext.gatewayPort(port, in: table)
    } catch {
        complain("kanaria: gateway port \(port): \(error)")
        throw ExitCode(1)
    }
}

/// `--admin ADDR:PORT` or `--admin off` (nil).
func parseAdminAddress(_ text: String) throws -> SocketAddress? {
    if text == "off" { return nil }
    guard let address = SocketAddress(parsing: text) else {
        throw ValidationError("--admin \(text): expected ADDR:PORT (e.g. 127.0.0.1:15000) or off")
    }
    return address
}

enum AccessLogFormatName: String, ExpressibleByArgument, CaseIterable {
    case envoy, istio, json

    var format: AccessLogFormat {
        switch self {
        case .envoy: .envoyText
        case .istio: .istioText
        case .json: .json
        }
    }
}

/// Starts the proxy, the control plane and the admin endpoints for a loaded configuration: what `run` and `demo`
/// share. Prints where each listener and the dashboard are.
struct Launch {
    let server: ProxyServer
    let controlPlane: ControlPlane
    let admin: AdminServer?

    init(table: RouteTable, bindings: [ListenerBinding], options: ProxyOptions, adminAddress: SocketAddress?,
         sources: [String], load: @escaping @Sendable () -> LoadedConfiguration) throws {
        let registry = TelemetryRegistry(workers: options.workers)
        do {
            server = try ProxyServer(table: table, bindings: bindings, options: options, registry: registry)
        } catch {
            complain("kanaria: \(error)")
            throw ExitCode(1)
        }
        controlPlane = ControlPlane(server: server, table: table, servingPorts: Set(bindings.map(\.gatewayPort)),
                                    sources: sources, load: load)
        if let adminAddress {
            do {
                admin = try AdminServer(listen: adminAddress, registry: registry, controls: controlPlane.adminControls(log: complain))
            } catch {
                complain("kanaria: cannot listen on \(adminAddress) for the admin endpoints: \(error) (use --admin ADDR:PORT or --admin off)")
                throw ExitCode(1)
            }
        } else {
            admin = nil
        }
        do {
            try server.start()
        } catch {
            complain("kanaria: \(error)")
            throw ExitCode(1)
        }
        admin?.start()
    }

    var dashboardURL: String? { admin.map { "http://\($0.address)/dashboard" } }

    /// Stops accepting, drains, stops the admin endpoints.
    func stop() {
        server.drainAndStop()
        admin?.stop()
    }
}

/// Prints the diagnostics of a load; returns false when there were errors.
func report(_ loaded: LoadedConfiguration, warningsTo warn: (String) -> Void = complain) -> Bool {
    for diagnostic in loaded.diagnostics {
        if diagnostic.isError { complain(diagnostic.description) } else { warn(diagnostic.description) }
    }
    return !loaded.hasErrors
}
