/// One worker's traffic-policy state for every cluster of one `RouteTable`: a load balancer, an outlier detector
/// (for clusters whose policy has outlier detection) and a circuit breaker per cluster. Never shared between
/// workers; rebuilt with `RoutingState` when the table changes (ejections and counts start over, as Envoy's do
/// when a cluster is replaced).
public struct ClusterTrafficState: Sendable {
    public private(set) var balancers: [EndpointBalancer]
    public private(set) var detectors: [OutlierDetector?]
    public var breakers: [CircuitBreaker]
    /// Each cluster's kind of balancer, read per pick without copying its policy.
    let kinds: [BalancerKind]
    /// Whether a cluster's connection pool sets any limit (else its breaker is never consulted).
    public let limited: [Bool]
    /// Each cluster's `maxRequestsPerConnection`; 0 for none.
    public let maxRequestsPerConnection: [Int]
    /// When each cluster's detector last swept; nil until the first call to `sweep`, which starts the clocks.
    private var lastSweeps: [Int64?]

    public init(table: RouteTable) {
        balancers = table.clusters.map { EndpointBalancer(endpointCount: $0.endpoints.count) }
        detectors = table.clusters.map { cluster in
            cluster.trafficPolicy.outlierDetection.map { OutlierDetector(settings: $0, endpointCount: cluster.endpoints.count) }
        }
        breakers = table.clusters.map { CircuitBreaker($0.trafficPolicy.connectionPool) }
        kinds = table.clusters.map { BalancerKind($0.trafficPolicy.loadBalancer) }
        limited = table.clusters.map { cluster in
            let pool = cluster.trafficPolicy.connectionPool
            let unlimited = ConnectionPoolSettings.unlimited
            return pool.maxConnections < unlimited || pool.maxPendingRequests < unlimited
                || pool.maxRequests < unlimited || pool.maxRetries < unlimited
        }
        maxRequestsPerConnection = table.clusters.map { $0.trafficPolicy.connectionPool.maxRequestsPerConnection ?? 0 }
        lastSweeps = Array(repeating: nil, count: table.clusters.count)
    }

    /// The position in `table.clusters[cluster].endpoints` a try goes to (see `EndpointPicker.pick`), among the
    /// endpoints the cluster's outlier detector has not ejected; nil for "no healthy upstream".
    public mutating func pickEndpoint<Draws: RandomNumberGenerator>(
        cluster: Int, in table: RouteTable, hashKey: UInt64?, previous: PreviousEndpoints = PreviousEndpoints(),
        draws: inout Draws
    ) -> Int? {
        let healthy = detectors[cluster]?.healthyEndpoints ?? .all(balancers[cluster].activeRequests.count)
        let kind = kinds[cluster]
        return EndpointPicker.pick(kind: kind, hashTable: kind == .consistentHash ? table.clusters[cluster].hashTable : nil,
                                   balancer: &balancers[cluster], healthy: healthy, hashKey: hashKey, previous: previous,
                                   draws: &draws)
    }

    /// A request to endpoint `position` of `cluster` started: counted for least request.
    public mutating func requestStarted(cluster: Int, position: Int) {
        balancers[cluster].requestStarted(at: position)
    }

    /// The request to endpoint `position` ended without an outcome worth judging the endpoint by (the client left,
    /// a stale pooled connection): counted for least request only.
    public mutating func requestAbandoned(cluster: Int, position: Int) {
        balancers[cluster].requestFinished(at: position)
    }

    /// The request ended with `outcome`: counted for least request and by the outlier detector, if any.
    public mutating func requestFinished(cluster: Int, position: Int, outcome: OutlierDetector.Outcome,
                                         now: Int64) -> OutlierDetector.Decision {
        balancers[cluster].requestFinished(at: position)
        return detectors[cluster]?.record(outcome, at: position, now: now) ?? .none
    }

    /// Runs the sweep of every cluster whose detector is due (`interval` since its last sweep; the first call
    /// starts the clocks) and returns the endpoints that came back. Call it at least as often as the shortest
    /// interval (every second will do): an ejection ends at the first sweep after its time is up, as in Envoy.
    ///
    /// Intervals of 1 s and 10 s, calls every second from t = 0: the first cluster sweeps at 1 s, 2 s, …, the
    /// second at 10 s, 20 s, ….
    public mutating func sweep(now: Int64) -> [(cluster: Int, position: Int)] {
        var returned: [(cluster: Int, position: Int)] = []
        for cluster in detectors.indices {
            guard let interval = detectors[cluster]?.settings.intervalMilliseconds else { continue }
            guard let last = lastSweeps[cluster] else {
                lastSweeps[cluster] = now
                continue
            }
            guard now - last >= interval else { continue }
            lastSweeps[cluster] = now
            for position in detectors[cluster]!.sweep(now: now) { returned.append((cluster, position)) }
        }
        return returned
    }
}
