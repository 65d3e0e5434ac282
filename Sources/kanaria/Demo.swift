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
        127.0.0.1:--port.
        """
    )

    @Option(help: "Port for the proxy on 127.0.0.1 (Gateway port 80 is served there).")
    var port: Int = 8080

    @Option(help: "Event-loop threads; 1 keeps the split exact over the whole run.")
    var workers: Int = 1

    @Option(help: "exact or random.")
    var split: SplitMode = .exact

    func run() throws {
        Signals.blockForWaiting()
        let loaded = ConfigLoader.load(sources: DemoConfiguration.files.map { (name: $0.name, text: $0.text) })
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
        let server: ProxyServer
        do {
            server = try ProxyServer(table: table, bindings: [ListenerBinding(gatewayPort: 80, address: proxyAddress)],
                                     options: ProxyOptions(workers: workers, split: split))
            try server.start()
        } catch {
            complain("kanaria demo: \(error)")
            throw ExitCode(1)
        }
        let bound = server.boundAddresses.first?.address ?? proxyAddress
        say("Kanaria demo: the tutorial's canary, 80% to v1 and 20% to v2 (\(split.rawValue) split)")
        for shark in sharks {
            say("  shark \(shark.version.rawValue) (\(shark.version == .v1 ? "friendly" : "scary"))   http://\(shark.address)/")
        }
        say("  through the proxy    http://\(bound)/   <- open this and refresh: 4 friendly pages in 5")
        say("Ctrl-C stops.")
        _ = Signals.wait()
        server.drainAndStop()
        for shark in sharks { shark.stop() }
    }
}
