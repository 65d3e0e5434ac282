import ArgumentParser
import KanariaConfig
import KanariaPosix
import KanariaProxy
import KanariaRouting

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve the Gateways of the given configuration.",
        discussion: """
        SIGHUP reloads the files (a configuration with errors is reported and the running one kept); SIGTERM or \
        Ctrl-C stops accepting, lets requests in flight finish, then exits.
        """
    )

    @Option(name: [.customShort("f"), .customLong("file")], help: "A YAML file or a folder of them (repeatable).")
    var files: [String]

    @Option(name: .customLong("listen"), help: "Serve a Gateway port on another address: PORT=ADDR:PORT (repeatable).")
    var listens: [ListenOverride] = []

    @OptionGroup var proxy: ProxyFlags

    func validate() throws {
        if files.isEmpty { throw ValidationError("give at least one -f PATH") }
    }

    func run() throws {
        Signals.blockForWaiting()
        let loaded = ConfigLoader.load(paths: files)
        guard report(loaded), let table = loaded.table else { throw ExitCode(1) }
        let bindings = try listenerBindings(for: loaded.servers)
        let server: ProxyServer
        do {
            server = try ProxyServer(table: table, bindings: bindings, options: proxy.options())
            try server.start()
        } catch {
            complain("kanaria: \(error)")
            throw ExitCode(1)
        }
        for bound in server.boundAddresses {
            complain("kanaria: gateway port \(bound.gatewayPort) listening on \(bound.address)")
        }
        while true {
            switch Signals.wait() {
            case .reload:
                reload(server, servingPorts: Set(bindings.map(\.gatewayPort)))
            case .terminate, .interrupt:
                complain("kanaria: draining")
                server.drainAndStop()
                complain("kanaria: stopped")
                return
            }
        }
    }

    /// Where each Gateway server port is served: `--listen` or 0.0.0.0:PORT.
    private func listenerBindings(for servers: [GatewayServer]) throws -> [ListenerBinding] {
        let ports = Array(Set(servers.map(\.port))).sorted()
        for override in listens where !ports.contains(override.gatewayPort) {
            complain("kanaria: --listen \(override.gatewayPort)=…: no Gateway server has port \(override.gatewayPort) (ports: \(ports.map(String.init).joined(separator: ", ")))")
            throw ExitCode(1)
        }
        if ports.isEmpty {
            complain("kanaria: the configuration has no Gateway server to serve")
            throw ExitCode(1)
        }
        return ports.map { port in
            let address = listens.last(where: { $0.gatewayPort == port })?.address ?? SocketAddress(host: "0.0.0.0", port: port)!
            return ListenerBinding(gatewayPort: port, address: address)
        }
    }

    private func reload(_ server: ProxyServer, servingPorts: Set<Int>) {
        let loaded = ConfigLoader.load(paths: files)
        guard report(loaded), let table = loaded.table else {
            complain("kanaria: reload failed; still serving the previous configuration")
            return
        }
        let ports = Set(loaded.servers.map(\.port))
        guard ports.isSuperset(of: servingPorts) else {
            complain("kanaria: reload failed: the new configuration drops Gateway ports \(servingPorts.subtracting(ports).sorted()); restart to change listeners")
            return
        }
        if !ports.subtracting(servingPorts).isEmpty {
            complain("kanaria: warning: new Gateway ports \(ports.subtracting(servingPorts).sorted()) are served after a restart")
        }
        server.apply(table)
        complain("kanaria: configuration reloaded")
    }
}
