import KanariaRouting
import Testing

/// Envoy's circuit-breaker thresholds as per-worker counters.
@Suite struct CircuitBreakerTests {
    /// Istio's circuit-breaking task: maxConnections 1, http1MaxPendingRequests 1. One connection, one waiting
    /// request, and the next one overflows (503 UO) until a slot is given back.
    @Test func circuitBreakingTask() {
        var pool = ConnectionPoolSettings()
        pool.maxConnections = 1
        pool.maxPendingRequests = 1
        var breaker = CircuitBreaker(pool)
        let connections = [breaker.tryAcquireConnection(), breaker.tryAcquireConnection()]
        #expect(connections == [true, false])  // the second request cannot open one: it waits
        let pending = [breaker.tryAcquirePending(), breaker.tryAcquirePending()]
        #expect(pending == [true, false])  // the third overflows
        #expect(breaker.pendingOverflows == 1 && breaker.connectionOverflows == 1)
        breaker.releasePending()
        let again = breaker.tryAcquirePending()
        #expect(again)
    }

    /// Istio's defaults never refuse: every limit is 2³²−1.
    @Test func istioDefaultsAreUnlimited() {
        var breaker = CircuitBreaker(.istioDefault)
        var refused = 0
        for _ in 0..<10_000 {
            if !breaker.tryAcquireRequest() { refused += 1 }
            if !breaker.tryAcquireRetry() { refused += 1 }
            if !breaker.tryAcquireConnection() { refused += 1 }
        }
        #expect(refused == 0)
        #expect(breaker.maxRequests == 4_294_967_295)
        #expect(breaker.activeRequests == 10_000)
    }

    /// maxRetries 1: a second retry in flight is refused; releasing one admits the next.
    @Test func retriesInFlight() {
        var pool = ConnectionPoolSettings()
        pool.maxRetries = 1
        pool.maxRequests = 2
        var breaker = CircuitBreaker(pool)
        var retries = [breaker.tryAcquireRetry(), breaker.tryAcquireRetry()]
        breaker.releaseRetry()
        retries.append(breaker.tryAcquireRetry())
        #expect(retries == [true, false, true])
        let requests = [breaker.tryAcquireRequest(), breaker.tryAcquireRequest(), breaker.tryAcquireRequest()]
        #expect(requests == [true, true, false])
        #expect(breaker.requestOverflows == 1 && breaker.retryOverflows == 1)
    }
}
