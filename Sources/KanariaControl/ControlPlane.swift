import KanariaAdmin
import KanariaConfig
import KanariaProxy
import KanariaRouting
import KanariaTLS
import Synchronization

/// The running configuration and the two ways it changes: a reload of the files (SIGHUP, `POST /reload`) and a
/// live weight change (the dashboard, `POST /weights`). Both build a new table and publish it whole; a reload
/// replaces any live weight change, since the files are the source of truth. Thread-safe: the main thread (signals)
/// and the admin thread call it.
public final class ControlPlane: Sendable {
    private struct State {
        var table: RouteTable
        var generation: Int
        var overrides: [Int: [Int]] = [:]
    }

    private let state: Mutex<State>
    private let load: @Sendable () -> LoadedConfiguration
    private let sources: [String]
    private let servingPorts: Set<Int>
    private let server: ProxyServer

    /// - Parameters:
    ///   - load: loads the configuration again (the files, or the demo's embedded copy).
    ///   - table: the configuration the server started with (generation 1).
    public init(server: ProxyServer, table: RouteTable, servingPorts: Set<Int>, sources: [String],
         load: @escaping @Sendable () -> LoadedConfiguration) {
        self.server = server
        self.state = Mutex(State(table: table, generation: 1))
        self.servingPorts = servingPorts
        self.sources = sources
        self.load = load
    }

    public var current: AdminConfigurationState {
        state.withLock { AdminConfigurationState(table: $0.table, generation: $0.generation, sources: sources, weightOverrides: $0.overrides) }
    }

    /// Loads the files again and applies them if they are valid; otherwise keeps the running configuration.
    public func reload() -> ReloadOutcome {
        let loaded = load()
        var messages = loaded.diagnostics.map(\.description)
        guard let table = loaded.table else {
            server.registry.recordConfigReload(succeeded: false)
            messages.append("reload failed; still serving the previous configuration")
            return ReloadOutcome(applied: false, messages: messages)
        }
        let ports = Set(loaded.servers.map(\.port))
        guard ports.isSuperset(of: servingPorts) else {
            server.registry.recordConfigReload(succeeded: false)
            messages.append("reload failed: the new configuration drops Gateway ports \(servingPorts.subtracting(ports).sorted()); restart to change listeners")
            return ReloadOutcome(applied: false, messages: messages)
        }
        if !ports.subtracting(servingPorts).isEmpty {
            messages.append("warning: new Gateway ports \(ports.subtracting(servingPorts).sorted()) are served after a restart")
        }
        let certificates: [Int: TLSServerContext]
        switch readCertificates(of: table) {
        case .success(let read): certificates = read
        case .failure(let problem):
            server.registry.recordConfigReload(succeeded: false)
            messages.append("reload failed: \(problem.text); still serving the previous configuration")
            return ReloadOutcome(applied: false, messages: messages)
        }
        let generation = state.withLock { state in
            state.generation += 1
            state.table = table
            state.overrides = [:]
            server.apply(table, generation: state.generation, listenerTLS: certificates)
            return state.generation
        }
        server.registry.recordConfigReload(succeeded: true, generation: generation)
        messages.append("configuration reloaded (generation \(generation))")
        return ReloadOutcome(applied: true, messages: messages)
    }

    private struct CertificateProblem: Error { var text: String }

    /// Reads again the certificates of every HTTPS port being served, so a renewed certificate is served to the
    /// next connections. A port cannot switch between plain and TLS without a restart (its listener keeps its mode).
    private func readCertificates(of table: RouteTable) -> Result<[Int: TLSServerContext], CertificateProblem> {
        let running = state.withLock { $0.table }
        var contexts: [Int: TLSServerContext] = [:]
        for port in servingPorts.sorted() {
            let wasTLS = running.listenerIndex(port: port).map { running.listeners[$0].tls != nil } ?? false
            let isTLS = table.listenerIndex(port: port).map { table.listeners[$0].tls != nil } ?? false
            guard wasTLS == isTLS else {
                return .failure(CertificateProblem(text: "Gateway port \(port) changes between plain and TLS; restart to change it"))
            }
            do {
                if let context = try TLSServerContext.gatewayPort(port, in: table) { contexts[port] = context }
            } catch {
                return .failure(CertificateProblem(text: "Gateway port \(port): \(error)"))
            }
        }
        return .success(contexts)
    }

    /// Gives route `route` new weights, for the next requests; kept until the next reload of the files.
    public func setWeights(route: Int, weights: [Int]) -> Result<AdminConfigurationState, WeightChangeError> {
        state.withLock { state -> Result<AdminConfigurationState, WeightChangeError> in
            do throws(WeightChangeError) {
                let table = try state.table.replacingWeights(ofRoute: route, with: weights)
                state.table = table
                state.generation += 1
                state.overrides[route] = weights
                server.apply(table, generation: state.generation)
                server.registry.setConfigGeneration(state.generation)
                return .success(AdminConfigurationState(table: table, generation: state.generation, sources: sources,
                                                        weightOverrides: state.overrides))
            } catch {
                return .failure(error)
            }
        }
    }

    /// The admin endpoints' view of this control plane; `log` gets one line per change they make (the executable
    /// prints it to standard error).
    public func adminControls(log: @escaping @Sendable (String) -> Void) -> AdminControls {
        AdminControls(
            configuration: { self.current },
            reload: {
                let outcome = self.reload()
                for line in outcome.messages { log("kanaria: \(line)") }
                return outcome
            },
            setWeights: { route, weights in
                let result = self.setWeights(route: route, weights: weights)
                if case .success = result { log("kanaria: route \(route) weights set to \(weights) from the admin API") }
                return result
            })
    }
}
