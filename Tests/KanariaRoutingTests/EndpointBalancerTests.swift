import KanariaRouting
import Testing

/// Round robin, least request and random over the eligible endpoints, for given draws.
@Suite struct EndpointBalancerTests {
    /// Three endpoints in turn; with the middle one ejected, the other two in turn.
    @Test func roundRobinSkipsEjected() {
        var balancer = EndpointBalancer(endpointCount: 3)
        #expect((0..<4).map { _ in balancer.nextRoundRobin(.all(3)) } == [0, 1, 2, 0])
        var detector = OutlierDetector(settings: everyErrorEjects, endpointCount: 3)
        _ = detector.record(.status(503), at: 1, now: 0)
        #expect((0..<4).map { _ in balancer.nextRoundRobin(detector.healthyEndpoints) } == [2, 0, 2, 0])
    }

    /// Active counts [3, 0, 1], draws 0 then 2: endpoint 2 wins (1 < 3); draws 1 then 0: endpoint 1.
    @Test func leastRequestTakesTheLessBusyOfTwo() {
        var balancer = EndpointBalancer(endpointCount: 3)
        for _ in 0..<3 { balancer.requestStarted(at: 0) }
        balancer.requestStarted(at: 2)
        var draws = ScriptedDraws([0, 2, 1, 0])
        #expect(balancer.leastRequest(.all(3), draws: &draws) == 2)
        #expect(balancer.leastRequest(.all(3), draws: &draws) == 1)
    }

    /// Equal counts: the first draw wins.
    @Test func leastRequestTieKeepsTheFirst() {
        let balancer = EndpointBalancer(endpointCount: 3)
        var draws = ScriptedDraws([2, 0])
        #expect(balancer.leastRequest(.all(3), draws: &draws) == 2)
    }

    /// Over many draws, a busy endpoint gets only the picks where both draws land on it (1 in 9 of 3 endpoints).
    @Test func leastRequestAvoidsABusyEndpoint() {
        var balancer = EndpointBalancer(endpointCount: 3)
        balancer.requestStarted(at: 0)
        var draws = SplitMix64(seed: 7)
        var picks = [0, 0, 0]
        for _ in 0..<9000 { picks[balancer.leastRequest(.all(3), draws: &draws)!] += 1 }
        #expect((800...1200).contains(picks[0]))
        #expect(picks[1] > 3500 && picks[2] > 3500)
        balancer.requestFinished(at: 0)
        #expect(balancer.activeRequests == [0, 0, 0])
    }

    /// A random pick is `draw % healthy count`, counted among the eligible endpoints only.
    @Test func randomCountsOnlyEligible() {
        let balancer = EndpointBalancer(endpointCount: 4)
        var detector = OutlierDetector(settings: everyErrorEjects, endpointCount: 4)
        _ = detector.record(.status(500), at: 0, now: 0)
        var draws = ScriptedDraws([0, 1, 2, 3])
        #expect((0..<4).map { _ in balancer.random(detector.healthyEndpoints, draws: &draws) } == [1, 2, 3, 1])
    }

    /// With every endpoint ejected, nothing is picked.
    @Test func noneEligible() {
        var balancer = EndpointBalancer(endpointCount: 1)
        var detector = OutlierDetector(settings: everyErrorEjects, endpointCount: 1)
        _ = detector.record(.status(500), at: 0, now: 0)
        var draws = ScriptedDraws([0])
        #expect(balancer.nextRoundRobin(detector.healthyEndpoints) == nil)
        #expect(balancer.leastRequest(detector.healthyEndpoints, draws: &draws) == nil)
        #expect(balancer.random(detector.healthyEndpoints, draws: &draws) == nil)
    }
}
