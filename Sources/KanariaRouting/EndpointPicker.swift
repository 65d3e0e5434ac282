/// The endpoints a request has tried already (Envoy's previous-hosts retry predicate): exact for the first 64
/// positions of a cluster's list, and the latest one beyond. A value, allocation-free.
public struct PreviousEndpoints: Sendable, Equatable {
    var mask: UInt64 = 0
    /// The position tried last, if any.
    public private(set) var last: Int?

    public init() {}

    public mutating func insert(_ position: Int) {
        if position < 64 { mask |= 1 << UInt64(position) }
        last = position
    }

    public func contains(_ position: Int) -> Bool {
        position < 64 ? mask & (1 << UInt64(position)) != 0 : position == last
    }

    public var isEmpty: Bool { last == nil }
}

/// The one call the proxy makes per try to choose an endpoint of a cluster, whatever its load-balancing policy.
public enum EndpointPicker {
    /// Istio's `host_selection_retry_max_attempts` with the previous-hosts predicate: a retry reselects up to 5
    /// more times to find an endpoint not tried yet, then takes the last one chosen.
    public static let hostReselections = 5

    /// The position in `cluster.endpoints` the request goes to; nil when no endpoint is eligible (the proxy
    /// answers 503 "no healthy upstream", flag UH).
    ///
    /// - `healthy`: the outlier detector's `healthyEndpoints` (or `.all(count)` without outlier detection);
    /// - `hashKey`: the request's key hashed with xxHash64, for a consistent-hash cluster (nil when the request
    ///   has none: then a draw stands in for it, as in Envoy);
    /// - `previous`: the endpoints earlier tries of this request went to; each pick that lands on one of them is
    ///   redone, up to `hostReselections` times (a ring moves on one entry per redo, Maglev rehashes).
    ///
    /// Round robin over three healthy endpoints, a retry after position 1 failed, the cursor at 1: the first pick
    /// gives 1 (tried), the redo gives 2. When all the redraws land on tried endpoints, the first healthy untried one
    /// is taken (a departure from Envoy, which would try a failed endpoint again): with least request, an endpoint
    /// that refuses connections has no request in flight and would win most draws.
    public static func pick<Draws: RandomNumberGenerator>(
        in cluster: Cluster, balancer: inout EndpointBalancer, healthy: HealthyEndpoints, hashKey: UInt64?,
        previous: PreviousEndpoints = PreviousEndpoints(), draws: inout Draws
    ) -> Int? {
        pick(kind: BalancerKind(cluster.trafficPolicy.loadBalancer), hashTable: cluster.hashTable, balancer: &balancer,
             healthy: healthy, hashKey: hashKey, previous: previous, draws: &draws)
    }

    /// The same from what the pick needs of the cluster: its kind of balancer and, for a consistent hash, its table
    /// (so that the request path copies no `Cluster`).
    public static func pick<Draws: RandomNumberGenerator>(
        kind: BalancerKind, hashTable: ConsistentHashTable?, balancer: inout EndpointBalancer, healthy: HealthyEndpoints,
        hashKey: UInt64?, previous: PreviousEndpoints = PreviousEndpoints(), draws: inout Draws
    ) -> Int? {
        let attempts = previous.isEmpty ? 1 : 1 + hostReselections
        var candidate: Int?
        for attempt in 0..<attempts {
            candidate = pickOnce(kind: kind, hashTable: hashTable, balancer: &balancer, healthy: healthy, hashKey: hashKey,
                                 attempt: attempt, draws: &draws)
            guard let chosen = candidate else { return nil }
            if !previous.contains(chosen) { return chosen }
        }
        // Every redraw landed on a tried endpoint (least request favours one that fails fast, having no request in
        // flight): take the first healthy one not tried yet, if any, rather than trying a failed one again.
        for n in 0..<healthy.healthyCount where !previous.contains(healthy.position(ofHealthy: n)) {
            return healthy.position(ofHealthy: n)
        }
        return candidate
    }

    static func pickOnce<Draws: RandomNumberGenerator>(
        kind: BalancerKind, hashTable: ConsistentHashTable?, balancer: inout EndpointBalancer, healthy: HealthyEndpoints,
        hashKey: UInt64?, attempt: Int, draws: inout Draws
    ) -> Int? {
        switch kind {
        case .roundRobin:
            return balancer.nextRoundRobin(healthy)
        case .leastRequest:
            return balancer.leastRequest(healthy, draws: &draws)
        case .random:
            return balancer.random(healthy, draws: &draws)
        case .consistentHash:
            guard let hashTable else { return balancer.random(healthy, draws: &draws) }
            return hashTable.position(for: hashKey ?? draws.next(), attempt: attempt, healthy: healthy)
        }
    }
}

/// A cluster's load-balancing policy without its parameters: what a pick switches on, copied without cost.
public enum BalancerKind: Sendable {
    case roundRobin, leastRequest, random, consistentHash

    public init(_ policy: LoadBalancerPolicy) {
        switch policy {
        case .roundRobin: self = .roundRobin
        case .leastRequest: self = .leastRequest
        case .random: self = .random
        case .consistentHash: self = .consistentHash
        }
    }
}
