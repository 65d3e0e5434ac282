/// A DestinationRule's `trafficPolicy.outlierDetection`, resolved as Istio configures Envoy's outlier detector.
///
/// Defaults (Envoy's, which Istio leaves in place): 5 consecutive 5xx, a sweep every 10 s, ejection for 30 s × the
/// number of times ejected (at most 300 s, Envoy's `max_ejection_time`), at most 10% of the endpoints ejected.
/// Consecutive gateway errors (502, 503, 504) eject only when `consecutiveGatewayErrors` is set. Istio always sets
/// the panic threshold, to `minHealthPercent` (0 unless given), so a cluster whose endpoints are all ejected answers
/// "no healthy upstream" instead of using them anyway.
public struct OutlierDetectionSettings: Sendable, Equatable {
    /// `consecutive5xxErrors`: nil when set to 0 (ejection on 5xx disabled).
    public var consecutive5xxErrors: Int? = 5
    /// `consecutiveGatewayErrors`: nil when unset or 0 (disabled).
    public var consecutiveGatewayErrors: Int?
    /// `splitExternalLocalOriginErrors`: connection failures, resets and timeouts are counted apart from the
    /// upstream's answers, against `consecutiveLocalOriginFailures`. Without it they count as 503 (connect failure)
    /// or 504 (timeout).
    public var splitExternalLocalOriginErrors = false
    /// `consecutiveLocalOriginFailures`: nil when unset, 0, or without `splitExternalLocalOriginErrors`.
    public var consecutiveLocalOriginFailures: Int?
    /// `interval`, in milliseconds: time between sweeps, which return ejected endpoints.
    public var intervalMilliseconds: Int64 = 10_000
    /// `baseEjectionTime`, in milliseconds.
    public var baseEjectionTimeMilliseconds: Int64 = 30_000
    /// Envoy's `max_ejection_time` (Istio has no field for it), in milliseconds.
    public var maxEjectionTimeMilliseconds: Int64 = 300_000
    /// `maxEjectionPercent`.
    public var maxEjectionPercent = 10
    /// `minHealthPercent`: Envoy's panic threshold. Below this share of healthy endpoints, ejections are ignored.
    public var minHealthPercent = 0

    public init() {}
}
