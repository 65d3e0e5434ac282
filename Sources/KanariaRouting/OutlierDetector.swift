/// One worker's outlier detection for one cluster, as Envoy's consecutive-error detector works: a state machine
/// stepped by the outcome of each request (`record`) and by a sweep every `interval` (`sweep`), with the time
/// passed in (milliseconds of a monotonic clock).
///
/// - Each endpoint counts consecutive 5xx and consecutive gateway errors (502, 503, 504); any other status resets
///   both. Without `splitExternalLocalOriginErrors`, a failed connection or reset counts as 503 and a timeout as
///   504; with it, they count apart, as local-origin failures, and a successful connection resets that count.
/// - When a count reaches its threshold the endpoint is ejected, unless that would put more than
///   `maxEjectionPercent` of the cluster's endpoints out (Envoy counts the endpoint being ejected: with 3
///   endpoints, the default 10% allows no ejection at all, 50% one, 100% all three). The counts are reset.
/// - An ejected endpoint returns at the first sweep at least `baseEjectionTime × backoff` after its ejection
///   (never more than `max(baseEjectionTime, 300 s)`). `backoff` grows by one with each ejection and shrinks by one
///   at each sweep that finds the endpoint healthy at least `interval` after it returned.
///
/// Worked numbers, baseEjectionTime 30 s, interval 10 s, an endpoint that fails again as soon as it returns:
///
///     ejection:      1st    2nd    3rd    …   10th    11th and later
///     backoff:       1      2      3          10      11
///     ejected for:   30 s   60 s   90 s       300 s   300 s (the cap)
///
/// With the circuit-breaking task's baseEjectionTime 3m: 180 s, then 300 s, 300 s. While fewer than
/// `minHealthPercent` of the endpoints are healthy (Envoy's panic mode; Istio's default 0 never panics), picks
/// ignore ejections: `healthyEndpoints` returns all of them.
public struct OutlierDetector: Sendable {
    /// What one request to an endpoint came to.
    public enum Outcome: Sendable, Equatable {
        /// The upstream answered with this status.
        case status(Int)
        /// The connection could not be made, or was reset before an answer.
        case connectFailed
        /// The upstream did not answer in time.
        case timeout
        /// The connection was made (matters only with `splitExternalLocalOriginErrors`).
        case connected
    }

    /// Why an endpoint was ejected.
    public enum Reason: String, Sendable {
        case consecutive5xx
        case consecutiveGatewayFailure
        case consecutiveLocalOriginFailure
    }

    /// What a recorded outcome changed.
    public enum Decision: Sendable, Equatable {
        case none
        case ejected(position: Int, reason: Reason)
        /// A threshold was reached but `maxEjectionPercent` kept the endpoint in (Envoy's `ejections_overflow`).
        case ejectionRefused(position: Int, reason: Reason)
    }

    struct Monitor: Sendable {
        var consecutive5xx = 0
        var consecutiveGateway = 0
        var consecutiveLocalOrigin = 0
        var ejectedAt: Int64?
        var unejectedAt: Int64?
        var backoff = 0
        var ejections = 0
    }

    public let settings: OutlierDetectionSettings
    var monitors: [Monitor]
    var ejectedFlags: [Bool]
    public private(set) var ejectedCount = 0

    public init(settings: OutlierDetectionSettings, endpointCount: Int) {
        self.settings = settings
        monitors = Array(repeating: Monitor(), count: endpointCount)
        ejectedFlags = Array(repeating: false, count: endpointCount)
    }

    public var endpointCount: Int { monitors.count }

    public func isEjected(_ position: Int) -> Bool { ejectedFlags[position] }

    /// How many times the endpoint has been ejected since the detector started.
    public func ejections(of position: Int) -> Int { monitors[position].ejections }

    /// Whether fewer than `minHealthPercent` of the endpoints are healthy: then picks use all of them.
    public var inPanic: Bool {
        (endpointCount - ejectedCount) * 100 < settings.minHealthPercent * endpointCount
    }

    /// The endpoints a pick may choose now.
    public var healthyEndpoints: HealthyEndpoints {
        if ejectedCount == 0 || inPanic { return .all(endpointCount) }
        return HealthyEndpoints(ejected: ejectedFlags, count: endpointCount, healthyCount: endpointCount - ejectedCount)
    }

    /// How long the endpoint's current (or next) ejection lasts, in milliseconds.
    public func ejectionDuration(of position: Int) -> Int64 {
        let base = settings.baseEjectionTimeMilliseconds
        return min(base * Int64(monitors[position].backoff), max(base, settings.maxEjectionTimeMilliseconds))
    }

    /// Counts `outcome` of a request to the endpoint at `position`, ejecting it when a threshold is reached.
    public mutating func record(_ outcome: Outcome, at position: Int, now: Int64) -> Decision {
        switch (outcome, settings.splitExternalLocalOriginErrors) {
        case (.status(let status), _): return recordStatus(status, at: position, now: now)
        case (.connectFailed, false): return recordStatus(503, at: position, now: now)
        case (.timeout, false): return recordStatus(504, at: position, now: now)
        case (.connected, false): return .none
        case (.connected, true):
            monitors[position].consecutiveLocalOrigin = 0
            return .none
        case (.connectFailed, true), (.timeout, true):
            monitors[position].consecutiveLocalOrigin += 1
            guard let threshold = settings.consecutiveLocalOriginFailures,
                  monitors[position].consecutiveLocalOrigin == threshold else { return .none }
            return trigger(.consecutiveLocalOriginFailure, at: position, now: now)
        }
    }

    private mutating func recordStatus(_ status: Int, at position: Int, now: Int64) -> Decision {
        guard (500...599).contains(status) else {
            monitors[position].consecutive5xx = 0
            monitors[position].consecutiveGateway = 0
            return .none
        }
        var decision = Decision.none
        if (502...504).contains(status) {
            monitors[position].consecutiveGateway += 1
            if let threshold = settings.consecutiveGatewayErrors, monitors[position].consecutiveGateway == threshold {
                decision = trigger(.consecutiveGatewayFailure, at: position, now: now)
            }
        } else {
            monitors[position].consecutiveGateway = 0
        }
        monitors[position].consecutive5xx += 1
        if let threshold = settings.consecutive5xxErrors, monitors[position].consecutive5xx == threshold {
            let second = trigger(.consecutive5xx, at: position, now: now)
            if decision == .none { decision = second }
        }
        return decision
    }

    /// Envoy's `onConsecutiveErrorWorker` and `ejectHost`: an endpoint already ejected stays as it is; otherwise
    /// it is ejected if `maxEjectionPercent` allows, and the count that fired is reset either way.
    private mutating func trigger(_ reason: Reason, at position: Int, now: Int64) -> Decision {
        if ejectedFlags[position] { return .none }
        switch reason {
        case .consecutive5xx: monitors[position].consecutive5xx = 0
        case .consecutiveGatewayFailure: monitors[position].consecutiveGateway = 0
        case .consecutiveLocalOriginFailure: monitors[position].consecutiveLocalOrigin = 0
        }
        let percentAfter = Double(ejectedCount + 1) * 100 / Double(endpointCount)
        guard percentAfter <= Double(min(100, settings.maxEjectionPercent)) else {
            return .ejectionRefused(position: position, reason: reason)
        }
        ejectedFlags[position] = true
        ejectedCount += 1
        monitors[position].ejectedAt = now
        monitors[position].ejections += 1
        let base = settings.baseEjectionTimeMilliseconds
        if Int64(monitors[position].backoff) * base < settings.maxEjectionTimeMilliseconds + base {
            monitors[position].backoff += 1
        }
        return .ejected(position: position, reason: reason)
    }

    /// The sweep run every `interval`: returns the endpoints whose ejection time is over (their counts reset) and
    /// lowers the backoff of those healthy for at least an interval since they returned.
    public mutating func sweep(now: Int64) -> [Int] {
        var returned: [Int] = []
        for position in monitors.indices {
            guard let ejectedAt = monitors[position].ejectedAt, ejectedFlags[position] else {
                if let unejectedAt = monitors[position].unejectedAt, now - unejectedAt >= settings.intervalMilliseconds,
                   monitors[position].backoff > 0 {
                    monitors[position].backoff -= 1
                }
                continue
            }
            guard ejectionDuration(of: position) <= now - ejectedAt else { continue }
            ejectedFlags[position] = false
            ejectedCount -= 1
            monitors[position].consecutive5xx = 0
            monitors[position].consecutiveGateway = 0
            monitors[position].consecutiveLocalOrigin = 0
            monitors[position].unejectedAt = now
            returned.append(position)
        }
        return returned
    }
}
