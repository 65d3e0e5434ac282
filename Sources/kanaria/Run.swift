import ArgumentParser
import KanariaConfig
import KanariaPosix
import KanariaProxy
import KanariaRouting

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve the Gateways of the given configuration.",
        discussion: """
        SIGHUP (or POST /reload on the admin port) reloads the files: a configuration with errors is reported and \
        the running one kept. SIGTERM or Ctrl-C stops accepting, lets requests in flight finish, then exits.
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
        let files = self.files
        let loaded = ConfigLoader.load(paths: files)
        guard report(loaded), let table = loaded.table else { throw ExitCode(1) }
        let bindings = try listenerBindings(for: loaded.servers, table: table)
        let launch = try Launch(table: table, bindings: bindings, options: proxy.options(),
                                adminAddress: try proxy.adminAddress(), sources: files,
                                load: { ConfigLoader.load(paths: files) })
        if let url = launch.dashboardURL {
            complain("kanaria: admin listening on \(launch.admin!.address) (dashboard \(url))")
        }
        for bound in launch.server.boundAddresses {
            complain("kanaria: gateway port \(bound.gatewayPort) listening on \(bound.address)")
        }
        while true {
            switch Signals.wait() {
            case .reload:
                for line in launch.controlPlane.reload().messages { complain("kanaria: \(line)") }
            case .terminate, .interrupt:
                complain("kanaria: draining")
                launch.stop()
                complain("kanaria: stopped")
                return
            }
        }
    }

    /// Where each Gateway server port is served: `--listen` or 0.0.0.0:PORT.
    private func listenerBindings(for servers: [GatewayServer], table: RouteTable) throws -> [ListenerBinding] {
        let ports = Array(Set(servers.map(\.port))).sorted()
        for override in listens where !ports.contains(override.gatewayPort) {
            complain("kanaria: --listen \(override.gatewayPort)=…: no Gateway server has port \(override.gatewayPort) (ports: \(ports.map(String.init).joined(separator: ", ")))")
            throw ExitCode(1)
        }
        if ports.isEmpty {
            complain("kanaria: the configuration has no Gateway server to serve")
            throw ExitCode(1)
        }
        return try ports.map { port in
            let address = listens.last(where: { $0.gatewayPort == port })?.address ?? SocketAddress(host: "0.0.0.0", port: port)!
            return ListenerBinding(gatewayPort: port, address: address, tls: try tlsContext(for: port, in: table))
        }
    }
}
