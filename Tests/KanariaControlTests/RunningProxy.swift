import Foundation
import KanariaConfig
import KanariaControl
import KanariaPosix
import KanariaProxy
import KanariaTelemetry
import Synchronization
import Testing

/// The tutorial's files (`config/*.yaml`) held in memory, editable between reloads as a user edits the folder.
final class EditableFiles: Sendable {
    private let files: Mutex<[(name: String, text: String)]>

    init() throws {
        let folder = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("config")
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".yaml") }.sorted()
        files = Mutex(try names.map { (name: $0, text: try String(contentsOf: folder.appendingPathComponent($0), encoding: .utf8)) })
    }

    /// Replaces the one occurrence of `old` in file `name` with `new`.
    func edit(_ name: String, replacing old: String, with new: String) {
        files.withLock { files in
            guard let index = files.firstIndex(where: { $0.name == name }), files[index].text.contains(old) else {
                Issue.record("\(name) has no \(old)")
                return
            }
            files[index].text = files[index].text.replacingOccurrences(of: old, with: new)
        }
    }

    func load() -> LoadedConfiguration {
        ConfigLoader.load(sources: files.withLock { $0 })
    }
}

/// A real proxy (one worker, gateway port 80 on 127.0.0.1, a port the kernel picks) under a control plane that
/// reloads `files`.
struct RunningProxy {
    let files: EditableFiles
    let server: ProxyServer
    let control: ControlPlane

    init() throws {
        let files = try EditableFiles()
        let table = try #require(files.load().table)
        server = try ProxyServer(table: table,
                                 bindings: [ListenerBinding(gatewayPort: 80, address: SocketAddress(host: "127.0.0.1", port: 0)!)],
                                 options: ProxyOptions(workers: 1), registry: TelemetryRegistry(workers: 1))
        try server.start()
        control = ControlPlane(server: server, table: table, servingPorts: [80], sources: ["config/"], load: { files.load() })
        self.files = files
    }

    /// The weights of the tutorial's one route in the configuration the control plane publishes.
    var weights: [Int] { control.current.table.routes[0].destinations.map(\.weight) }

    /// What is published now: the generation, the tutorial route's weights, and the generation the metrics report.
    var published: Published {
        Published(generation: control.current.generation, weights: weights, reported: metric("kanaria_config_generation"))
    }

    /// The value of the sample `name` (with its labels, as printed) in the proxy's Prometheus text.
    func metric(_ name: String) -> String? {
        server.registry.prometheusText().split(separator: "\n")
            .first { $0.hasPrefix(name + " ") }
            .map { String($0.dropFirst(name.count + 1)) }
    }

    func stop() { server.drainAndStop() }
}

/// A published configuration as the tests compare it; `Published(generation: 2, weights: [50, 50])` expects the
/// metrics to report generation 2 too.
struct Published: Equatable {
    var generation: Int
    var weights: [Int]
    var reported: String?

    init(generation: Int, weights: [Int], reported: String? = nil) {
        self.generation = generation
        self.weights = weights
        self.reported = reported ?? String(generation)
    }
}
