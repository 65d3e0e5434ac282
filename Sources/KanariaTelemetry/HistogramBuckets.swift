/// The bucket boundaries of Istio's histograms.
///
/// Istio sets no `histogram_bucket_settings` unless a pod asks for them (`sidecar.istio.io/statsHistogramBuckets`), so
/// all three of its HTTP histograms (`istio_request_duration_milliseconds`, `istio_request_bytes`,
/// `istio_response_bytes`) use Envoy's default buckets (`HistogramSettingsImpl::defaultBuckets()`):
///
///     0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000
///
/// in the histogram's unit (milliseconds, bytes), plus `+Inf`. (The 1, 10, …, 10⁹ byte buckets of older write-ups were
/// Mixer's, before Istio 1.5.)
public enum HistogramBuckets {
    /// The finite upper bounds (`le`), ascending.
    public static let bounds: [Double] = [
        0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000,
    ]

    /// The `le` label values as Envoy prints them (`%.32g`), then `+Inf`.
    public static let labels: [String] = [
        "0.5", "1", "5", "10", "25", "50", "100", "250", "500", "1000", "2500", "5000", "10000", "30000", "60000",
        "300000", "600000", "1800000", "3600000", "+Inf",
    ]

    /// Buckets per histogram, the `+Inf` one included.
    public static let count = 20
}

/// Finds a value's bucket in a few instructions: the bucket of value `v` is the first whose bound is ≥ `v`
/// (Prometheus `le`), or the last (`+Inf`).
///
/// Bounds are integers in the recording unit: microseconds for durations (`500, 1000, 5000, …`), bytes for sizes
/// (`0, 1, 5, …`, since a whole number of bytes is ≤ 0.5 only when it is 0). A table indexed by the bit length of `v`
/// gives the first bucket whose bound could hold it; consecutive bounds are at least 2× apart, so at most one more
/// comparison follows.
struct BucketLookup {
    /// `HistogramBuckets.count` bounds, the last `UInt64.max`.
    private let bounds: UnsafeMutablePointer<UInt64>
    /// For each bit length 0…64, the first bucket whose bound is ≥ the smallest value of that length.
    private let start: UnsafeMutablePointer<UInt8>

    /// - Parameter scale: recording units per histogram unit: 1000 for microseconds into milliseconds, 1 for bytes.
    init(scale: UInt64) {
        bounds = .allocate(capacity: HistogramBuckets.count)
        for (i, bound) in HistogramBuckets.bounds.enumerated() {
            // Whole units ≤ bound·scale; for bytes, 0.5 → 0.
            bounds[i] = UInt64((bound * Double(scale)).rounded(.down))
        }
        bounds[HistogramBuckets.count - 1] = .max
        start = .allocate(capacity: 65)
        for length in 0...64 {
            let smallest: UInt64 = length == 0 ? 0 : 1 << UInt64(length - 1)
            var i = 0
            while bounds[i] < smallest { i += 1 }
            start[length] = UInt8(i)
        }
    }

    func deallocate() {
        bounds.deallocate()
        start.deallocate()
    }

    /// The bucket index of `value`, 0…`HistogramBuckets.count - 1`.
    @inline(__always)
    func index(of value: UInt64) -> Int {
        var i = Int(start[64 &- value.leadingZeroBitCount])
        while value > bounds[i] { i &+= 1 }
        return i
    }
}
