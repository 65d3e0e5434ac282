import KanariaRouting
import Testing

/// The per-try endpoint choice: each policy, ejections, and the previous-hosts reselection.
@Suite struct EndpointPickerTests {
    func cluster(_ loadBalancer: LoadBalancerPolicy, endpoints: Int) -> Cluster {
        var cluster = Cluster(serviceHost: "shark.default.svc.cluster.local", serviceName: "shark", namespace: "default",
                              subset: "v1", port: 8080, endpoints: Array(0..<endpoints),
                              trafficPolicy: TrafficPolicy(loadBalancer: loadBalancer))
        if case .consistentHash(let policy) = loadBalancer {
            cluster.hashTable = ConsistentHashTable(policy.table, hostKeys: hostKeys(endpoints))
        }
        return cluster
    }

    /// Round robin, a retry after position 1 was tried, the cursor on 1: 1 is redone, 2 is chosen.
    @Test func retryAvoidsThePreviousEndpoint() {
        let roundRobin = cluster(.roundRobin, endpoints: 3)
        var balancer = EndpointBalancer(endpointCount: 3)
        var draws = ScriptedDraws([0])
        #expect(EndpointPicker.pick(in: roundRobin, balancer: &balancer, healthy: .all(3), hashKey: nil, draws: &draws) == 0)
        var previous = PreviousEndpoints()
        previous.insert(1)
        #expect(EndpointPicker.pick(in: roundRobin, balancer: &balancer, healthy: .all(3), hashKey: nil, previous: previous,
                                    draws: &draws) == 2)
    }

    /// With one endpoint, the retry goes back to it after 5 reselections (Envoy takes the last candidate).
    @Test func retryWithNoAlternativeReusesTheEndpoint() {
        let random = cluster(.random, endpoints: 1)
        var balancer = EndpointBalancer(endpointCount: 1)
        var draws = ScriptedDraws([0])
        var previous = PreviousEndpoints()
        previous.insert(0)
        #expect(EndpointPicker.pick(in: random, balancer: &balancer, healthy: .all(1), hashKey: nil, previous: previous,
                                    draws: &draws) == 0)
        #expect(draws.index == 1 + EndpointPicker.hostReselections)
    }

    /// A consistent-hash cluster sends the same key to the same endpoint every time, and on a retry elsewhere.
    @Test(arguments: [ConsistentHashPolicy.Table.ringHash(minimumRingSize: 1024), .maglev(tableSize: 65537)])
    func consistentHashIsSticky(table: ConsistentHashPolicy.Table) {
        let hashed = cluster(.consistentHash(ConsistentHashPolicy(key: .header("x-user"), table: table)), endpoints: 4)
        var balancer = EndpointBalancer(endpointCount: 4)
        var draws = SplitMix64(seed: 1)
        let key = XXHash64.hash("alice")
        let first = EndpointPicker.pick(in: hashed, balancer: &balancer, healthy: .all(4), hashKey: key, draws: &draws)
        for _ in 0..<50 {
            #expect(EndpointPicker.pick(in: hashed, balancer: &balancer, healthy: .all(4), hashKey: key, draws: &draws) == first)
        }
        var previous = PreviousEndpoints()
        previous.insert(first!)
        let retry = EndpointPicker.pick(in: hashed, balancer: &balancer, healthy: .all(4), hashKey: key, previous: previous,
                                        draws: &draws)
        #expect(retry != nil && retry != first)
    }

    /// Without a key (the header is absent), the draw stands in for the hash: different draws spread requests.
    @Test func consistentHashWithoutKeyUsesTheDraw() {
        let hashed = cluster(.consistentHash(ConsistentHashPolicy(key: .header("x-user"))), endpoints: 4)
        var balancer = EndpointBalancer(endpointCount: 4)
        var draws = SplitMix64(seed: 3)
        var seen = Set<Int>()
        for _ in 0..<100 {
            seen.insert(EndpointPicker.pick(in: hashed, balancer: &balancer, healthy: .all(4), hashKey: nil, draws: &draws)!)
        }
        #expect(seen.count == 4)
    }

    /// Least request by default; nothing eligible gives nil ("no healthy upstream").
    @Test func noHealthyUpstream() {
        let plain = cluster(.istioDefault, endpoints: 2)
        var balancer = EndpointBalancer(endpointCount: 2)
        var detector = OutlierDetector(settings: everyErrorEjects, endpointCount: 2)
        _ = detector.record(.status(500), at: 0, now: 0)
        var draws = ScriptedDraws([0, 0])
        #expect(EndpointPicker.pick(in: plain, balancer: &balancer, healthy: detector.healthyEndpoints, hashKey: nil,
                                    draws: &draws) == 1)
        _ = detector.record(.status(500), at: 1, now: 0)
        #expect(EndpointPicker.pick(in: plain, balancer: &balancer, healthy: detector.healthyEndpoints, hashKey: nil,
                                    draws: &draws) == nil)
        let empty = cluster(.roundRobin, endpoints: 0)
        #expect(EndpointPicker.pick(in: empty, balancer: &balancer, healthy: .all(0), hashKey: nil, draws: &draws) == nil)
    }
}
