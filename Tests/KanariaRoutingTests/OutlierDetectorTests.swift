import KanariaRouting
import Testing

/// Envoy's consecutive-error outlier detection, stepped with a manual clock (milliseconds).
@Suite struct OutlierDetectorTests {
    func settings(_ change: (inout OutlierDetectionSettings) -> Void) -> OutlierDetectionSettings {
        var settings = OutlierDetectionSettings()
        change(&settings)
        return settings
    }

    /// The default: the 5th consecutive 5xx ejects (with 100% allowed); a 200 in between starts the count over.
    @Test func fifthConsecutive5xxEjects() {
        var detector = OutlierDetector(settings: settings { $0.maxEjectionPercent = 100 }, endpointCount: 2)
        for _ in 0..<4 { #expect(detector.record(.status(500), at: 0, now: 0) == .none) }
        #expect(detector.record(.status(200), at: 0, now: 0) == .none)
        for _ in 0..<4 { #expect(detector.record(.status(500), at: 0, now: 0) == .none) }
        #expect(detector.record(.status(502), at: 0, now: 0) == .ejected(position: 0, reason: .consecutive5xx))
        #expect(detector.isEjected(0) && !detector.isEjected(1))
    }

    /// Gateway errors eject only when consecutiveGatewayErrors is set; a 500 in between resets their count.
    @Test func gatewayErrors() {
        var detector = OutlierDetector(settings: settings {
            $0.consecutiveGatewayErrors = 2
            $0.consecutive5xxErrors = nil
            $0.maxEjectionPercent = 100
        }, endpointCount: 1)
        #expect(detector.record(.status(503), at: 0, now: 0) == .none)
        #expect(detector.record(.status(500), at: 0, now: 0) == .none)
        #expect(detector.record(.status(504), at: 0, now: 0) == .none)
        #expect(detector.record(.connectFailed, at: 0, now: 0) == .ejected(position: 0, reason: .consecutiveGatewayFailure))
    }

    /// With splitExternalLocalOriginErrors, connection failures count apart and a connection made resets them.
    @Test func localOriginFailuresSplit() {
        var detector = OutlierDetector(settings: settings {
            $0.splitExternalLocalOriginErrors = true
            $0.consecutiveLocalOriginFailures = 2
            $0.consecutive5xxErrors = 1
            $0.maxEjectionPercent = 100
        }, endpointCount: 1)
        #expect(detector.record(.connectFailed, at: 0, now: 0) == .none)  // not a 5xx here
        #expect(detector.record(.connected, at: 0, now: 0) == .none)
        #expect(detector.record(.timeout, at: 0, now: 0) == .none)
        #expect(detector.record(.connectFailed, at: 0, now: 0) == .ejected(position: 0, reason: .consecutiveLocalOriginFailure))
    }

    /// Envoy counts the endpoint about to go: of 3 endpoints, 10% ejects none, 50% one, 100% all three.
    @Test(arguments: [(10, 0), (50, 1), (100, 3)])
    func maxEjectionPercent(percent: Int, ejected: Int) {
        var detector = OutlierDetector(settings: settings {
            $0.consecutive5xxErrors = 1
            $0.maxEjectionPercent = percent
        }, endpointCount: 3)
        for position in 0..<3 { _ = detector.record(.status(500), at: position, now: 0) }
        #expect(detector.ejectedCount == ejected)
        if ejected < 3 {
            #expect(detector.record(.status(500), at: 2, now: 0) == .ejectionRefused(position: 2, reason: .consecutive5xx))
        }
    }

    /// baseEjectionTime 30 s, interval 10 s: ejected for 30 s, then 60 s, then 90 s when it fails again at once;
    /// it returns at the first sweep at least that long after.
    @Test func ejectionTimeGrowsWithEachEjection() {
        var detector = OutlierDetector(settings: settings { $0.consecutive5xxErrors = 1; $0.maxEjectionPercent = 100 },
                                       endpointCount: 1)
        var now: Int64 = 0
        var durations: [Int64] = []
        for _ in 0..<3 {
            _ = detector.record(.status(500), at: 0, now: now)
            let ejectedAt = now
            durations.append(detector.ejectionDuration(of: 0))
            repeat {
                now += 10_000
            } while detector.sweep(now: now).isEmpty
            #expect(now - ejectedAt == durations.last!)
        }
        #expect(durations == [30_000, 60_000, 90_000])
    }

    /// The circuit-breaking task's baseEjectionTime 3m: 180 s, then the 300 s cap (Envoy's max_ejection_time).
    @Test func ejectionTimeIsCapped() {
        var detector = OutlierDetector(settings: settings {
            $0.consecutive5xxErrors = 1
            $0.maxEjectionPercent = 100
            $0.intervalMilliseconds = 1000
            $0.baseEjectionTimeMilliseconds = 180_000
        }, endpointCount: 1)
        var now: Int64 = 0
        var durations: [Int64] = []
        for _ in 0..<3 {
            _ = detector.record(.status(500), at: 0, now: now)
            durations.append(detector.ejectionDuration(of: 0))
            repeat { now += 1000 } while detector.sweep(now: now).isEmpty
        }
        #expect(durations == [180_000, 300_000, 300_000])
    }

    /// Healthy sweeps at least an interval after its return lower the backoff again, one step per sweep.
    @Test func backoffShrinksWhileHealthy() {
        var detector = OutlierDetector(settings: settings { $0.consecutive5xxErrors = 1; $0.maxEjectionPercent = 100 },
                                       endpointCount: 1)
        _ = detector.record(.status(500), at: 0, now: 0)
        #expect(detector.sweep(now: 30_000) == [0])
        _ = detector.record(.status(500), at: 0, now: 30_000)
        #expect(detector.ejectionDuration(of: 0) == 60_000)
        #expect(detector.sweep(now: 90_000) == [0])
        _ = detector.sweep(now: 100_000)  // one interval healthy: backoff 2 → 1
        _ = detector.sweep(now: 110_000)  // 1 → 0
        _ = detector.record(.status(500), at: 0, now: 110_000)
        #expect(detector.ejectionDuration(of: 0) == 30_000)
        #expect(detector.ejections(of: 0) == 3)
    }

    /// A sweep before the time is up returns nothing; the counts start over after the return.
    @Test func sweepReturnsOnlyWhenDue() {
        var detector = OutlierDetector(settings: settings { $0.consecutive5xxErrors = 2; $0.maxEjectionPercent = 100 },
                                       endpointCount: 1)
        _ = detector.record(.status(500), at: 0, now: 0)
        _ = detector.record(.status(500), at: 0, now: 0)
        #expect(detector.sweep(now: 29_999).isEmpty)
        #expect(detector.sweep(now: 30_000) == [0])
        #expect(detector.record(.status(500), at: 0, now: 30_001) == .none)
    }

    /// Below minHealthPercent healthy, every endpoint is eligible again (Envoy's panic mode); Istio's 0 never panics.
    @Test func panicModeIgnoresEjections() {
        var panicking = OutlierDetector(settings: settings {
            $0.consecutive5xxErrors = 1
            $0.maxEjectionPercent = 100
            $0.minHealthPercent = 50
        }, endpointCount: 2)
        _ = panicking.record(.status(500), at: 0, now: 0)
        #expect(panicking.healthyEndpoints.healthyCount == 1)  // 50% healthy is not below 50%
        _ = panicking.record(.status(500), at: 1, now: 0)
        #expect(panicking.inPanic)
        #expect(panicking.healthyEndpoints.healthyCount == 2)

        var istio = OutlierDetector(settings: everyErrorEjects, endpointCount: 2)
        _ = istio.record(.status(500), at: 0, now: 0)
        _ = istio.record(.status(500), at: 1, now: 0)
        #expect(!istio.inPanic)
        #expect(istio.healthyEndpoints.healthyCount == 0)
    }
}
