import KanariaPosix
import KanariaRouting

/// How the proxy runs: everything that is not the routing configuration.
public struct ProxyOptions: Sendable {
    /// Event-loop threads, each with its own listeners, connections, upstream pools and picker state.
    public var workers: Int
    public var split: SplitMode
    /// Close a keep-alive client connection after this long without a request.
    public var idleTimeoutMilliseconds: Int64 = 60_000
    /// Answer 408 when a request head takes longer than this to arrive.
    public var headerTimeoutMilliseconds: Int64 = 30_000
    /// Istio's default DestinationRule connectTimeout: 10 s.
    public var connectTimeoutMilliseconds: Int64 = 10_000
    /// Close an idle pooled upstream connection after this long.
    public var upstreamIdleTimeoutMilliseconds: Int64 = 60_000
    /// Most idle connections kept per worker and endpoint (nginx's `keepalive 64`).
    public var maxIdlePerEndpoint = 64
    /// How long SIGTERM waits for requests in flight before closing everything.
    public var drainTimeoutMilliseconds: Int64 = 10_000

    public init(workers: Int, split: SplitMode = .exact) {
        self.workers = max(1, workers)
        self.split = split
    }
}

/// Where a Gateway server port is served.
public struct ListenerBinding: Sendable {
    /// The Gateway server's port number (the key in `RouteTable.listeners`).
    public var gatewayPort: Int
    public var address: SocketAddress

    public init(gatewayPort: Int, address: SocketAddress) {
        self.gatewayPort = gatewayPort
        self.address = address
    }
}

/// One immutable routing configuration as the workers use it: the table and each endpoint's socket address.
/// Published whole; a request uses the snapshot it started with.
public final class ConfigSnapshot: Sendable {
    public let table: RouteTable
    /// `table.endpoints[i]`'s address; nil when it is not an IP literal (then it cannot be connected to).
    let endpointAddresses: [SocketAddress?]
    /// For each endpoint, `address:port` as bytes, used as the Host of an HTTP/1.0 request that had none.
    let endpointAuthorities: [[UInt8]]

    public init(table: RouteTable) {
        self.table = table
        self.endpointAddresses = table.endpoints.map { SocketAddress(host: $0.address, port: $0.port) }
        self.endpointAuthorities = table.endpoints.map { Array("\($0.address):\($0.port)".utf8) }
    }
}
