import KanariaPosix
import KanariaRouting
import KanariaTLS
import KanariaTelemetry

/// The data plane: binds the Gateway listeners, runs the workers, publishes new configurations and drains.
///
/// Every worker binds its own listener on each port (SO_REUSEPORT); a port given as 0 is bound once first to
/// learn the port the kernel chose, and the other workers bind that port.
public final class ProxyServer: @unchecked Sendable {
    public let options: ProxyOptions
    /// Where each listener ended up (a port 0 resolved), in the order of the bindings given.
    public private(set) var boundAddresses: [(gatewayPort: Int, address: SocketAddress)] = []
    private let control: ProxyControl
    /// The metrics every worker records into (one shard each).
    public let registry: TelemetryRegistry
    private let accessLog: AccessLogSink?
    private var workerListeners: [[ListenerSocket]] = []
    private var threads: [PosixThread] = []

    /// Binds every listener; throws when an address cannot be bound (in use, not permitted) or the access log
    /// cannot be opened.
    /// - Parameter registry: where metrics go; it must have `options.workers` shards.
    public init(table: RouteTable, bindings: [ListenerBinding], options: ProxyOptions,
                registry: TelemetryRegistry) throws(ProxyStartError) {
        precondition(registry.workerCount == options.workers, "one metric shard per worker")
        self.options = options
        self.registry = registry
        do {
            control = try ProxyControl(snapshot: ConfigSnapshot(table: table, generation: 1, registry: registry),
                                       workers: options.workers)
        } catch {
            throw ProxyStartError(message: "cannot create event descriptors: \(error)")
        }
        registry.setConfigGeneration(1)
        if let logOptions = options.accessLog {
            do {
                accessLog = try AccessLogSink(logOptions)
            } catch {
                throw ProxyStartError(message: "cannot open the access log \(logOptions.path): \(error)")
            }
        } else {
            accessLog = nil
        }
        workerListeners = Array(repeating: [], count: options.workers)
        for binding in bindings {
            guard let listener = table.listenerIndex(port: binding.gatewayPort) else {
                throw ProxyStartError(message: "no Gateway server has port \(binding.gatewayPort)")
            }
            var address = binding.address
            for worker in 0..<options.workers {
                let fd: Int32
                do {
                    fd = try Socket.listen(on: address, deferAccept: true)
                } catch {
                    closeListeners()
                    throw ProxyStartError(message: "cannot listen on \(address) for gateway port \(binding.gatewayPort): \(error)")
                }
                if worker == 0, let actual = try? Socket.localAddress(of: fd) {
                    address = actual
                    boundAddresses.append((binding.gatewayPort, actual))
                }
                workerListeners[worker].append(ListenerSocket(fd: fd, listener: listener, gatewayPort: binding.gatewayPort,
                                                              tls: binding.tls, localAddress: Array(address.description.utf8)))
            }
        }
    }

    private func closeListeners() {
        for listeners in workerListeners { for entry in listeners { Syscall.close(entry.fd) } }
        workerListeners = []
    }

    /// Starts the worker threads.
    public func start() throws(ProxyStartError) {
        var workers: [Worker] = []
        for index in 0..<options.workers {
            do {
                workers.append(try Worker(index: index, control: control, options: options,
                                          shard: registry.shard(forWorker: index), accessLog: accessLog,
                                          listeners: workerListeners[index]))
            } catch {
                throw ProxyStartError(message: "cannot start worker \(index): \(error)")
            }
        }
        for worker in workers {
            let box = UnsafeTransfer(worker)
            threads.append(PosixThread.spawn(name: "kanaria-w\(worker.index)") { box.value.run() })
        }
    }

    /// Replaces the routing configuration; requests already routed finish with the old one.
    /// - Parameters:
    ///   - generation: the new configuration's number (`kanaria_config_generation`).
    ///   - listenerTLS: by Gateway port, certificates to serve new connections with from now on.
    public func apply(_ table: RouteTable, generation: Int, listenerTLS: [Int: TLSServerContext] = [:]) {
        control.publish(ConfigSnapshot(table: table, generation: generation, registry: registry, listenerTLS: listenerTLS))
        registry.setConfigGeneration(generation)
    }

    /// Stops accepting, lets requests in flight finish (up to the drain timeout), then returns.
    public func drainAndStop() {
        control.beginDrain()
        for thread in threads { thread.join() }
        threads = []
    }

    /// Waits for the workers to stop.
    public func wait() {
        for thread in threads { thread.join() }
    }
}

/// Why the proxy could not start, in words for the user.
public struct ProxyStartError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}

/// Hands a worker, built on the main thread, to the thread that will own it from then on.
struct UnsafeTransfer<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
