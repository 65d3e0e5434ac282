import KanariaPosix
import KanariaRouting
import KanariaTelemetry
import KanariaTLS

/// One immutable routing configuration as the workers use it: the table and each endpoint's socket address.
/// Published whole; a request uses the snapshot it started with.
public final class ConfigSnapshot: Sendable {
    public let table: RouteTable
    /// Increases with every configuration published.
    public let generation: Int
    /// `table.endpoints[i]`'s address; nil when it is not an IP literal (then it cannot be connected to).
    let endpointAddresses: [SocketAddress?]
    /// For each endpoint, `address:port` as bytes, used as the Host of an HTTP/1.0 request that had none.
    let endpointAuthorities: [[UInt8]]
    /// Per cluster, the metrics destination of a request that reached none of its endpoints (service labels only).
    let clusterDestinations: [Int32]
    /// Per cluster, where its endpoints' metrics destinations start in `endpointDestinations`; the destination of
    /// the endpoint at position p of cluster c is `endpointDestinations[clusterEndpointStart[c] + p]`.
    let clusterEndpointStart: [Int]
    let endpointDestinations: [Int32]
    /// Per endpoint, its host id for per-host counters (`/clusters`).
    let endpointHosts: [Int32]
    /// Per route-table listener: answer every request with a redirect to https (Gateway `tls.httpsRedirect`).
    let httpsRedirect: [Bool]
    /// Per route: its timeouts and retry policy.
    let routePolicies: [ExchangePolicy]
    /// Per route: what the request path reads on every request (timeouts, which policies apply).
    let routeRuntimes: [RouteRuntime]
    /// Per cluster, its id for Envoy's per-cluster stats.
    let clusterStatIDs: [Int32]
    /// Per cluster, whether it balances by a consistent hash of the request.
    let clusterHashes: [Bool]
    /// Per cluster, its connection pool's `connectTimeout` in milliseconds (Istio's default 10 s).
    let clusterConnectTimeouts: [Int64]
    /// Per endpoint, how long an idle pooled connection to it is kept: the smallest `idleTimeout` of the clusters
    /// it is in (Istio's default 1 h).
    let endpointIdleTimeouts: [Int64]
    /// Per endpoint, the most idle connections its pool keeps: the smallest `maxConnections` of the clusters it is
    /// in (Istio's default, 2³²−1, keeps every connection that finishes cleanly until its `idleTimeout`).
    let endpointMaxIdle: [Int]
    /// Per endpoint, TLS to it when an HTTP/1.1 cluster it is in says `tls.mode: SIMPLE` (the first such cluster's
    /// settings); nil for plain TCP.
    let endpointTLS: [UpstreamTLSTarget?]
    /// By Gateway port, certificates read again by a reload: new connections to that port are served with them
    /// (connections already open keep theirs). A port not in it keeps the certificates it has.
    let listenerTLS: [Int: TLSServerContext]

    /// Interns the destination labels of every cluster and endpoint in `registry` (off the request path).
    public convenience init(table: RouteTable, generation: Int, registry: TelemetryRegistry,
                            listenerTLS: [Int: TLSServerContext] = [:]) {
        self.init(table: table, generation: generation, registry: registry,
                  routePolicies: table.routes.map(ExchangePolicy.init(route:)), listenerTLS: listenerTLS)
    }

    /// The same, with each route's policy given (tests).
    init(table: RouteTable, generation: Int, registry: TelemetryRegistry, routePolicies: [ExchangePolicy],
         listenerTLS: [Int: TLSServerContext] = [:]) {
        precondition(routePolicies.count == table.routes.count, "one policy per route")
        self.listenerTLS = listenerTLS
        self.routePolicies = routePolicies
        self.routeRuntimes = routePolicies.map(RouteRuntime.init)
        self.clusterStatIDs = table.clusters.map { registry.clusterID(for: $0.name) }
        self.clusterConnectTimeouts = table.clusters.map { $0.trafficPolicy.connectionPool.connectTimeoutMilliseconds }
        var idle = Array(repeating: Int64(3_600_000), count: table.endpoints.count)
        for cluster in table.clusters {
            for endpoint in cluster.endpoints {
                idle[endpoint] = min(idle[endpoint], cluster.trafficPolicy.connectionPool.idleTimeoutMilliseconds)
            }
        }
        self.endpointIdleTimeouts = idle
        var maxIdle = Array(repeating: Int.max, count: table.endpoints.count)
        for cluster in table.clusters {
            for endpoint in cluster.endpoints {
                maxIdle[endpoint] = min(maxIdle[endpoint], cluster.trafficPolicy.connectionPool.maxConnections)
            }
        }
        self.endpointMaxIdle = maxIdle
        self.endpointTLS = Self.upstreamTLS(of: table)
        self.clusterHashes = table.clusters.map {
            if case .consistentHash = $0.trafficPolicy.loadBalancer { return true }
            return false
        }
        self.table = table
        self.generation = generation
        self.endpointAddresses = table.endpoints.map { SocketAddress(host: $0.address, port: $0.port) }
        self.endpointAuthorities = table.endpoints.map { Array("\($0.address):\($0.port)".utf8) }
        self.httpsRedirect = table.listeners.map(\.httpsRedirect)
        self.endpointHosts = table.endpoints.map { registry.hostID(for: "\($0.address):\($0.port)") }
        var clusterDestinations: [Int32] = []
        var starts: [Int] = []
        var endpointDestinations: [Int32] = []
        for cluster in table.clusters {
            clusterDestinations.append(registry.destinationID(for: DestinationLabels(
                serviceHost: cluster.serviceHost, serviceName: cluster.serviceName, serviceNamespace: cluster.namespace)))
            starts.append(endpointDestinations.count)
            for index in cluster.endpoints {
                let endpoint = table.endpoints[index]
                endpointDestinations.append(registry.destinationID(for: DestinationLabels(
                    serviceHost: cluster.serviceHost, serviceName: cluster.serviceName, serviceNamespace: cluster.namespace,
                    workload: endpoint.workload, workloadNamespace: endpoint.namespace, labels: endpoint.labels)))
            }
        }
        self.clusterDestinations = clusterDestinations
        self.clusterEndpointStart = starts
        self.endpointDestinations = endpointDestinations
    }
}

extension ConfigSnapshot {
    /// Each endpoint's upstream TLS: a client context per distinct setting (its CA file, or the system's store, or
    /// none checked for `insecureSkipVerify`; ALPN http/1.1), the name checked being `sni`, else the service host.
    static func upstreamTLS(of table: RouteTable) -> [UpstreamTLSTarget?] {
        var targets = [UpstreamTLSTarget?](repeating: nil, count: table.endpoints.count)
        var contexts: [String: TLSClientContext] = [:]
        for cluster in table.clusters where cluster.upstreamProtocol == .http1 {
            guard case .simple(let settings) = cluster.trafficPolicy.tls else { continue }
            let verification: TLSClientContext.Verification = settings.insecureSkipVerify
                ? .insecure : settings.caCertificatesFile.map { .caFile($0) } ?? .systemDefault
            let key = "\(verification)"
            guard let context = contexts[key] ?? (try? TLSClientContext(verification: verification, applicationProtocols: [.http1_1]))
            else { continue }
            contexts[key] = context
            let target = UpstreamTLSTarget(context: context, serverName: settings.sni ?? cluster.serviceHost)
            for endpoint in cluster.endpoints where targets[endpoint] == nil { targets[endpoint] = target }
        }
        return targets
    }
}
