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
    /// gives 1 (tried), the redo gives 2.
    public static func pick<Draws: RandomNumberGenerator>(
        in cluster: Cluster, balancer: inout EndpointBalancer, healthy: HealthyEndpoints, hashKey: UInt64?,
        previous: PreviousEndpoints = PreviousEndpoints(), draws: inout Draws
    ) -> Int? {
        let attempts = previous.isEmpty ? 1 : 1 + hostReselections
        var candidate: Int?
        for attempt in 0..<attempts {
            candidate = pickOnce(in: cluster, balancer: &balancer, healthy: healthy, hashKey: hashKey, attempt: attempt,
                                 draws: &draws)
            guard let chosen = candidate else { return nil }
            if !previous.contains(chosen) { return chosen }
        }
        return candidate
    }

    static func pickOnce<Draws: RandomNumberGenerator>(
        in cluster: Cluster, balancer: inout EndpointBalancer, healthy: HealthyEndpoints, hashKey: UInt64?,
        attempt: Int, draws: inout Draws
    ) -> Int? {
        switch cluster.trafficPolicy.loadBalancer {
        case .roundRobin:
            return balancer.nextRoundRobin(healthy)
        case .leastRequest:
            return balancer.leastRequest(healthy, draws: &draws)
        case .random:
            return balancer.random(healthy, draws: &draws)
        case .consistentHash:
            guard let table = cluster.hashTable else { return balancer.random(healthy, draws: &draws) }
            return table.position(for: hashKey ?? draws.next(), attempt: attempt, healthy: healthy)
        }
    }
}
