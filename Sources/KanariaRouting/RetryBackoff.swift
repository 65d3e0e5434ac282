/// Envoy's fully jittered exponential back-off between tries (`JitteredExponentialBackOffStrategy`): before
/// retry n (1-based) the interval is `min(base · 2^(n-1), max)` with `max = 10 · base`, and the delay is a draw
/// in `0 ..< interval` (the draw is `random % interval`, passed in).
///
/// With Envoy's default base of 25 ms (max 250 ms):
///
///     retry:     1        2        3         4         5 and later
///     interval:  25 ms    50 ms    100 ms    200 ms    250 ms
///     delay:     0..<25   0..<50   0..<100   0..<200   0..<250   (ms)
///
/// A draw of 1,000,003 before retry 2 waits 1,000,003 % 50 = 3 ms.
public struct RetryBackoff: Sendable, Equatable {
    /// The base interval in milliseconds (Envoy works in whole milliseconds).
    public let baseMilliseconds: Int
    /// The cap, 10 × base.
    public var maxMilliseconds: Int { baseMilliseconds * 10 }

    public init(base: Duration = .milliseconds(25)) {
        baseMilliseconds = max(1, base.wholeMilliseconds)
    }

    /// The interval the delay before retry `retry` (1 for the first retry) is drawn from, in milliseconds.
    public func intervalMilliseconds(beforeRetry retry: Int) -> Int {
        var interval = baseMilliseconds
        var n = 1
        while n < retry && interval < maxMilliseconds {
            interval = interval > maxMilliseconds / 2 ? maxMilliseconds : interval * 2
            n += 1
        }
        return min(interval, maxMilliseconds)
    }

    /// The delay before retry `retry` for the random `draw`: `draw % interval` milliseconds.
    public func delay(beforeRetry retry: Int, draw: UInt64) -> Duration {
        .milliseconds(Int(draw % UInt64(intervalMilliseconds(beforeRetry: retry))))
    }
}

extension RetryPolicy {
    /// The policy's back-off (base `backoffBase`, max 10 × base).
    public var backoff: RetryBackoff { RetryBackoff(base: backoffBase) }
}
