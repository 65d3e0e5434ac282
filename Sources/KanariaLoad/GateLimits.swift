/// The limits a run must stay within for `kanaria loadtest` to exit 0.
public struct GateLimits: Sendable, Equatable {
    /// `--max-deviation PP`: no version's observed share may be further than this many percentage points from its
    /// expected share.
    public var maxDeviationPoints: Double?
    /// `--max-error-rate PCT`: at most this percentage of requests may fail (no answer, or a 4xx/5xx answer).
    public var maxErrorRatePercent: Double?

    public init(maxDeviationPoints: Double? = nil, maxErrorRatePercent: Double? = nil) {
        self.maxDeviationPoints = maxDeviationPoints
        self.maxErrorRatePercent = maxErrorRatePercent
    }
}
