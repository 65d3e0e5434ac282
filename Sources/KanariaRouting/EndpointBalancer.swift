/// One worker's load-balancing state for one cluster: the round-robin cursor and the requests in flight to each
/// endpoint (which the caller counts with `requestStarted` / `requestFinished`). Never shared between workers.
///
/// Each pick chooses among the `HealthyEndpoints` it is given, with draws from the caller's generator, and
/// allocates nothing:
/// - round robin: the next eligible position after the last one chosen. Three endpoints, none ejected:
///   0 1 2 0 1 2 …; with 1 ejected: 0 2 0 2 …
/// - least request (Envoy's power of two choices): two positions drawn at random (`draw % healthyCount`, each
///   among the eligible), and the one with fewer requests in flight wins; a tie keeps the first. With active
///   counts [3, 0, 1] and draws 0 then 2: endpoint 2 (1 < 3).
/// - random: `draw % healthyCount`.
public struct EndpointBalancer: Sendable {
    var cursor = 0
    /// Requests in flight per endpoint position.
    public private(set) var activeRequests: [Int]

    public init(endpointCount: Int) {
        activeRequests = Array(repeating: 0, count: endpointCount)
    }

    public mutating func requestStarted(at position: Int) {
        activeRequests[position] += 1
    }

    public mutating func requestFinished(at position: Int) {
        activeRequests[position] = max(0, activeRequests[position] - 1)
    }

    /// The next eligible endpoint in round-robin order; nil when none is eligible.
    public mutating func nextRoundRobin(_ healthy: HealthyEndpoints) -> Int? {
        let count = healthy.count
        guard healthy.healthyCount > 0 else { return nil }
        for _ in 0..<count {
            let position = cursor < count ? cursor : 0
            cursor = position + 1 >= count ? 0 : position + 1
            if healthy.isHealthy(position) { return position }
        }
        return nil
    }

    /// Envoy's least request with two choices; nil when none is eligible.
    public func leastRequest<Draws: RandomNumberGenerator>(_ healthy: HealthyEndpoints, draws: inout Draws) -> Int? {
        guard healthy.healthyCount > 0 else { return nil }
        let first = healthy.position(ofHealthy: Int(draws.next() % UInt64(healthy.healthyCount)))
        let second = healthy.position(ofHealthy: Int(draws.next() % UInt64(healthy.healthyCount)))
        return activeRequests[second] < activeRequests[first] ? second : first
    }

    /// One eligible endpoint drawn at random; nil when none is eligible.
    public func random<Draws: RandomNumberGenerator>(_ healthy: HealthyEndpoints, draws: inout Draws) -> Int? {
        guard healthy.healthyCount > 0 else { return nil }
        return healthy.position(ofHealthy: Int(draws.next() % UInt64(healthy.healthyCount)))
    }
}
