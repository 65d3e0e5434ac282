import KanariaHTTP
import KanariaRouting
import Testing

/// One worker's per-cluster balancers, detectors and breakers, stepped as the proxy will step them.
@Suite struct ClusterTrafficStateTests {
    /// Two clusters over three endpoints: the first round robin with outlier detection (1 5xx ejects, 1 s
    /// interval, 3 s base, up to 100%), the second Istio's defaults.
    func table() -> RouteTable {
        var outlier = OutlierDetectionSettings()
        outlier.consecutive5xxErrors = 1
        outlier.intervalMilliseconds = 1000
        outlier.baseEjectionTimeMilliseconds = 3000
        outlier.maxEjectionPercent = 100
        var pool = ConnectionPoolSettings()
        pool.maxRequests = 1
        let guarded = Cluster(serviceHost: "shark.default.svc.cluster.local", serviceName: "shark", namespace: "default",
                              subset: "v1", port: 8080, endpoints: [0, 1, 2],
                              trafficPolicy: TrafficPolicy(loadBalancer: .roundRobin, connectionPool: pool, outlierDetection: outlier))
        let plain = Cluster(serviceHost: "shark.default.svc.cluster.local", serviceName: "shark", namespace: "default",
                            subset: "v2", port: 8080, endpoints: [0, 1, 2])
        let endpoints = (1...3).map { Endpoint(address: "10.0.0.\($0)", port: 8080, labels: [:], workload: "w", namespace: "default") }
        return RouteTable(clusters: [guarded, plain], endpoints: endpoints)
    }

    /// A 503 from endpoint 1 ejects it; it gets no request for 3 s and returns at the first sweep after.
    @Test func ejectedEndpointGetsNoTrafficUntilItsTimeIsUp() {
        let table = table()
        var state = ClusterTrafficState(table: table)
        var draws = ScriptedDraws([0])
        #expect(state.sweep(now: 0).isEmpty)  // starts the clocks
        state.requestStarted(cluster: 0, position: 1)
        #expect(state.requestFinished(cluster: 0, position: 1, outcome: .status(503), now: 0)
            == .ejected(position: 1, reason: .consecutive5xx))
        var picks: [Int] = []
        for second in 1...3 {
            for _ in 0..<4 { picks.append(state.pickEndpoint(cluster: 0, in: table, hashKey: nil, draws: &draws)!) }
            let returned = state.sweep(now: Int64(second) * 1000)
            #expect(returned.map(\.position) == (second == 3 ? [1] : []))
        }
        #expect(!picks.contains(1))
        let after = (0..<3).map { _ in state.pickEndpoint(cluster: 0, in: table, hashKey: nil, draws: &draws)! }
        #expect(after.sorted() == [0, 1, 2])
    }

    /// A cluster without outlier detection never ejects; each cluster has its own circuit breaker.
    @Test func clustersAreIndependent() {
        let table = table()
        var state = ClusterTrafficState(table: table)
        #expect(state.detectors[1] == nil)
        #expect(state.requestFinished(cluster: 1, position: 0, outcome: .status(503), now: 0) == .none)
        let first = [state.breakers[0].tryAcquireRequest(), state.breakers[0].tryAcquireRequest()]
        #expect(first == [true, false])
        let other = state.breakers[1].tryAcquireRequest()
        #expect(other)
    }

    /// A sticky-cookie request without the cookie gets the generated value, and is hashed as it will be when the
    /// client sends the cookie back; with the cookie, nothing is generated.
    @Test func cookieIsGeneratedWhenAbsent() throws {
        let policy = ConsistentHashPolicy(key: .cookie(name: "user", path: "/", ttlSeconds: 3600))
        let addresses = Array("10.0.0.7:51234".utf8) + Array("10.0.0.1:80".utf8)
        let without = try TestRequest()
        let fresh = addresses.withUnsafeBytes { connection in
            without.withView { policy.requestHash(of: $0, clientIP: connection, connectionAddresses: connection) }
        }
        #expect(fresh == RequestHash(hash: XXHash64.hash("975c03acbb2c6ce3"), generatedCookie: 0x975C_03AC_BB2C_6CE3))
        let with = try TestRequest(headers: [("Cookie", #"user="975c03acbb2c6ce3""#)])
        let back = addresses.withUnsafeBytes { connection in
            with.withView { policy.requestHash(of: $0, clientIP: connection, connectionAddresses: connection) }
        }
        #expect(back == RequestHash(hash: fresh.hash))
        let sessionless = ConsistentHashPolicy(key: .cookie(name: "user", path: nil, ttlSeconds: nil))
        let none = addresses.withUnsafeBytes { connection in
            without.withView { sessionless.requestHash(of: $0, clientIP: connection, connectionAddresses: connection) }
        }
        #expect(none == RequestHash(hash: nil))
    }
}
