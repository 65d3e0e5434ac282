import KanariaRouting
import Testing

/// Istio's MergeSubsetTrafficPolicy: top level, port level, subset, subset port level.
@Suite struct TrafficPolicyMergeTests {
    typealias Parts = TrafficPolicyLayer.Parts

    var outlier: OutlierDetectionSettings {
        var settings = OutlierDetectionSettings()
        settings.consecutive5xxErrors = 1
        return settings
    }

    /// No policy anywhere: least request, Istio's unlimited pool, no outlier detection, plain text.
    @Test func defaults() {
        let policy = TrafficPolicyLayer.resolve(top: nil, subset: nil, port: 80)
        #expect(policy == .istioDefault)
        #expect(policy.loadBalancer == .leastRequest)
        #expect(policy.connectionPool.connectTimeoutMilliseconds == 10_000)
        #expect(policy.connectionPool.idleTimeoutMilliseconds == 3_600_000)
        #expect(policy.outlierDetection == nil)
    }

    /// The subset overrides the parts it sets, whole; the others come from the top.
    @Test func subsetOverridesPartByPart() {
        let top = TrafficPolicyLayer(parts: Parts(loadBalancer: .random, outlierDetection: outlier))
        let subset = TrafficPolicyLayer(parts: Parts(loadBalancer: .roundRobin))
        let v1 = TrafficPolicyLayer.resolve(top: top, subset: subset, port: 80)
        #expect(v1.loadBalancer == .roundRobin)
        #expect(v1.outlierDetection == outlier)
        let v2 = TrafficPolicyLayer.resolve(top: top, subset: nil, port: 80)
        #expect(v2.loadBalancer == .random)
    }

    /// Top-level port settings replace all four parts for their port: a part they leave out is the default.
    @Test func portLevelDoesNotInherit() {
        let top = TrafficPolicyLayer(parts: Parts(loadBalancer: .random, outlierDetection: outlier),
                                     portLevel: [8080: Parts(loadBalancer: .roundRobin)])
        let onPort = TrafficPolicyLayer.resolve(top: top, subset: nil, port: 8080)
        #expect(onPort.loadBalancer == .roundRobin)
        #expect(onPort.outlierDetection == nil)
        let otherPort = TrafficPolicyLayer.resolve(top: top, subset: nil, port: 9090)
        #expect(otherPort.loadBalancer == .random && otherPort.outlierDetection == outlier)
    }

    /// A subset's own port settings replace everything for that port, the top's parts included.
    @Test func subsetPortLevelReplacesAll() {
        let top = TrafficPolicyLayer(parts: Parts(loadBalancer: .random, outlierDetection: outlier))
        var tls = SimpleUpstreamTLS()
        tls.sni = "shark.example"
        let subset = TrafficPolicyLayer(parts: Parts(loadBalancer: .roundRobin), portLevel: [8080: Parts(tls: .simple(tls))])
        let policy = TrafficPolicyLayer.resolve(top: top, subset: subset, port: 8080)
        #expect(policy == TrafficPolicy(tls: .simple(tls)))
    }

    /// The subset merges over the top's port-level settings for the port.
    @Test func subsetOverTopPortLevel() {
        let top = TrafficPolicyLayer(parts: Parts(loadBalancer: .random), portLevel: [8080: Parts(outlierDetection: outlier)])
        let subset = TrafficPolicyLayer(parts: Parts(loadBalancer: .roundRobin))
        let policy = TrafficPolicyLayer.resolve(top: top, subset: subset, port: 8080)
        #expect(policy.loadBalancer == .roundRobin && policy.outlierDetection == outlier)
    }
}
