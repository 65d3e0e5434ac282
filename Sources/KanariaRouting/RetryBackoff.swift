/// Envoy's fully jittered exponential back-off between tries, as its router documents it: given base B and retry
/// number N (1 for the first retry), the delay is a draw in `[0, (2^N − 1)·B)`, capped at the maximum interval
/// (10 × B). As Envoy's `JitteredBackOffStrategy` computes it, N stops growing once `(2^N − 1)·B` exceeds the
/// maximum, and a draw at or above the maximum waits the maximum. The draw is passed in (`draw % ceiling`).
///
/// With Envoy's default base of 25 ms (maximum 250 ms):
///
///     retry:     1        2        3         4 and later
///     ceiling:   25 ms    75 ms    175 ms    375 ms
///     delay:     0…24     0…74     0…174     0…250  (ms; a draw of 250…374 waits 250)
///
/// A draw of 1,000,003 before retry 2 waits 1,000,003 % 75 = 28 ms.
public struct RetryBackoff: Sendable, Equatable {
    /// The base interval in milliseconds (Envoy works in whole milliseconds).
    public let baseMilliseconds: Int
    /// The cap, 10 × base.
    public var maxMilliseconds: Int { baseMilliseconds * 10 }

    public init(base: Duration = .milliseconds(25)) {
        baseMilliseconds = max(1, base.wholeMilliseconds)
    }

    /// The exclusive bound of the draw before retry `retry` (1 for the first retry), in milliseconds.
    public func ceilingMilliseconds(beforeRetry retry: Int) -> Int {
        var n = 1
        var ceiling = baseMilliseconds
        while n < retry && ceiling <= maxMilliseconds {
            n += 1
            ceiling = ((1 << n) - 1) * baseMilliseconds
        }
        return ceiling
    }

    /// The delay before retry `retry` for the random `draw`: `min(draw % ceiling, max)` milliseconds.
    public func delay(beforeRetry retry: Int, draw: UInt64) -> Duration {
        let ceiling = UInt64(ceilingMilliseconds(beforeRetry: retry))
        return .milliseconds(min(Int(draw % ceiling), maxMilliseconds))
    }
}

extension RetryPolicy {
    /// The policy's back-off (base `backoffBase`, max 10 × base).
    public var backoff: RetryBackoff { RetryBackoff(base: backoffBase) }
}
