import ArgumentParser
import KanariaConfig
import KanariaDemo
import KanariaPosix
import KanariaProxy
import KanariaRouting

struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The tutorial's canary on this machine: shark v1 and v2 behind the proxy, 80% / 20%.",
        discussion: """
        Uses the tutorial's manifests unchanged plus two WorkloadEntries (the same files as config/), embedded in \
        the binary. Each shark app listens where its WorkloadEntry says; Gateway port 80 is served on \
        127.0.0.1:--port; the live dashboard is on the admin port.
        """
    )

    @Option(help: "Port for the proxy on 127.0.0.1 (Gateway port 80 is served there).")
    var port: Int = 8080

    @Option(help: "Event-loop threads; 1 keeps the split exact over the whole run.")
    var workers: Int = 1

    @Option(help: "exact or random.")
    var split: SplitMode = .exact

    @Option(help: "The admin endpoints and dashboard: ADDR:PORT, or 'off'.")
    var admin: String = "127.0.0.1:15000"

    func run() throws {
        Signals.blockForWaiting()
        let load: @Sendable () -> LoadedConfiguration = {
            ConfigLoader.load(sources: DemoConfiguration.files.map { (name: $0.name, text: $0.text) })
        }
        let loaded = load()
        guard report(loaded, warningsTo: { _ in }), let table = loaded.table else { throw ExitCode(1) }

        var sharks: [SharkServer] = []
        for endpoint in table.endpoints {
            guard let version = SharkVersion(rawValue: endpoint.version),
                  let address = SocketAddress(host: endpoint.address, port: endpoint.port) else { continue }
            do {
                let shark = try SharkServer(version: version, listen: address)
                shark.start()
                sharks.append(shark)
            } catch {
                complain("kanaria demo: cannot start shark \(version.rawValue) on \(address) (its WorkloadEntry's address): \(error)")
                throw ExitCode(1)
            }
        }
        guard let proxyAddress = SocketAddress(host: "127.0.0.1", port: port) else {
            throw ValidationError("--port \(port) is not a port")
        }
        let launch = try Launch(table: table, bindings: [ListenerBinding(gatewayPort: 80, address: proxyAddress)],
                                options: ProxyOptions(workers: workers, split: split), adminAddress: try parseAdminAddress(admin),
                                sources: DemoConfiguration.files.map(\.name), load: load)
        let bound = launch.server.boundAddresses.first?.address ?? proxyAddress
        say("Kanaria demo: the tutorial's canary, 80% to v1 and 20% to v2 (\(split.rawValue) split)")
        if let url = launch.dashboardURL {
            say("  live dashboard       \(url)   <- watch the split here")
        }
        say("  through the proxy    http://\(bound)/   <- open this and refresh: 4 friendly pages in 5")
        for shark in sharks {
            say("  shark \(shark.version.rawValue) (\(shark.version == .v1 ? "friendly" : "scary"))   http://\(shark.address)/")
        }
        say("Ctrl-C stops.")
        _ = Signals.wait()
        launch.stop()
        for shark in sharks { shark.stop() }
    }
}
