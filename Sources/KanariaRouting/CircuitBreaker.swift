/// One worker's circuit breaker for one cluster: Envoy's four thresholds (`ConnectionPoolSettings`) as counters.
/// Each `tryAcquire…` takes a slot and says whether it was free; the caller gives it back with `release…` when
/// the request, connection or retry ends.
///
/// What the caller does on `false`, as Envoy does:
/// - `tryAcquireRequest` (`http2MaxRequests`): answer 503 at once, response flag UO;
/// - `tryAcquireConnection` (`maxConnections`): open no connection; the request waits for one as a pending
///   request instead;
/// - `tryAcquirePending` (`http1MaxPendingRequests`): answer 503, flag UO;
/// - `tryAcquireRetry` (`maxRetries`): do not retry; the answer of the last try stands.
///
/// Istio's circuit-breaking task (maxConnections 1, http1MaxPendingRequests 1): the first request takes the only
/// connection, the second waits as the one pending request, the third is answered 503 UO until one ends.
public struct CircuitBreaker: Sendable {
    public let maxConnections: Int
    public let maxPendingRequests: Int
    public let maxRequests: Int
    public let maxRetries: Int

    public private(set) var connections = 0
    public private(set) var pendingRequests = 0
    public private(set) var activeRequests = 0
    public private(set) var activeRetries = 0
    /// Refusals so far, per threshold (Envoy's `upstream_cx_overflow`, `upstream_rq_pending_overflow`, …).
    public private(set) var connectionOverflows = 0
    public private(set) var pendingOverflows = 0
    public private(set) var requestOverflows = 0
    public private(set) var retryOverflows = 0

    public init(_ settings: ConnectionPoolSettings) {
        maxConnections = settings.maxConnections
        maxPendingRequests = settings.maxPendingRequests
        maxRequests = settings.maxRequests
        maxRetries = settings.maxRetries
    }

    public mutating func tryAcquireConnection() -> Bool {
        guard connections < maxConnections else { connectionOverflows += 1; return false }
        connections += 1
        return true
    }

    public mutating func releaseConnection() { connections = max(0, connections - 1) }

    public mutating func tryAcquirePending() -> Bool {
        guard pendingRequests < maxPendingRequests else { pendingOverflows += 1; return false }
        pendingRequests += 1
        return true
    }

    public mutating func releasePending() { pendingRequests = max(0, pendingRequests - 1) }

    public mutating func tryAcquireRequest() -> Bool {
        guard activeRequests < maxRequests else { requestOverflows += 1; return false }
        activeRequests += 1
        return true
    }

    public mutating func releaseRequest() { activeRequests = max(0, activeRequests - 1) }

    public mutating func tryAcquireRetry() -> Bool {
        guard activeRetries < maxRetries else { retryOverflows += 1; return false }
        activeRetries += 1
        return true
    }

    public mutating func releaseRetry() { activeRetries = max(0, activeRetries - 1) }
}
