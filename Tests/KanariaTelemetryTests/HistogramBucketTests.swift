@testable import KanariaTelemetry
import Testing

/// Where observations land: Istio's (Envoy's default) buckets with Prometheus `le` semantics (value ≤ bound).
@Suite("Histogram buckets")
struct HistogramBucketTests {
    /// The bucket index each recorded duration lands in, read back through a snapshot.
    private func durationBucket(_ micros: UInt64) -> Int? {
        let registry = TelemetryRegistry(workers: 1)
        registry.shard(forWorker: 0).record(0, micros: micros)
        return registry.snapshot().series.first?.duration.counts.firstIndex(of: 1)
    }

    private func byteBucket(_ bytes: UInt64) -> (request: Int?, response: Int?) {
        let registry = TelemetryRegistry(workers: 1)
        registry.shard(forWorker: 0).record(0, requestBytes: bytes, responseBytes: bytes)
        let series = registry.snapshot().series.first
        return (series?.requestBytes.counts.firstIndex(of: 1), series?.responseBytes.counts.firstIndex(of: 1))
    }

    /// The bounds are Envoy's defaults, which Istio keeps for all three histograms.
    @Test func boundsAreEnvoysDefaults() {
        #expect(HistogramBuckets.bounds == [0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000,
                                            60000, 300000, 600000, 1800000, 3600000])
        #expect(HistogramBuckets.labels.last == "+Inf" && HistogramBuckets.labels.count == HistogramBuckets.count)
    }

    /// A duration equal to a bound belongs to that bound's bucket; a microsecond more goes to the next.
    @Test func durationsAtBoundaries() {
        #expect(durationBucket(0) == 0)
        #expect(durationBucket(500) == 0)  // 0.5 ms ≤ 0.5
        #expect(durationBucket(501) == 1)
        #expect(durationBucket(1000) == 1)
        #expect(durationBucket(1001) == 2)
        #expect(durationBucket(5_000) == 2)
        #expect(durationBucket(5_001) == 3)
        #expect(durationBucket(3_600_000_000) == 18)  // one hour: the last finite bucket
        #expect(durationBucket(3_600_000_001) == 19)  // +Inf
        #expect(durationBucket(.max) == 19)
    }

    /// Whole bytes: only 0 is ≤ 0.5; 1 is ≤ 1; 2 to 5 are ≤ 5.
    @Test func bytesAtBoundaries() {
        #expect(byteBucket(0) == (0, 0))
        #expect(byteBucket(1) == (1, 1))
        #expect(byteBucket(2) == (2, 2))
        #expect(byteBucket(5) == (2, 2))
        #expect(byteBucket(6) == (3, 3))
        #expect(byteBucket(3_600_000) == (18, 18))
        #expect(byteBucket(3_600_001) == (19, 19))
    }

    /// The table lookup agrees with a plain scan of the bounds everywhere near a bound and across bit lengths.
    @Test func lookupAgreesWithAScan() {
        for scale: UInt64 in [1, 1000] {
            let lookup = BucketLookup(scale: scale)
            defer { lookup.deallocate() }
            func scan(_ value: UInt64) -> Int {
                HistogramBuckets.bounds.firstIndex { Double(value) <= $0 * Double(scale) } ?? HistogramBuckets.count - 1
            }
            var values: [UInt64] = Array(0...2_000)
            for bound in HistogramBuckets.bounds {
                let scaled = UInt64(bound * Double(scale))
                values += [scaled &- 1, scaled, scaled + 1, scaled + 2]
            }
            for shift: UInt64 in 0..<64 { values += [1 << shift, (1 << shift) &- 1, (1 << shift) + 1] }
            values.append(.max)
            for value in values { #expect(lookup.index(of: value) == scan(value), "value \(value), scale \(scale)") }
        }
    }

    /// Quantiles are estimated as Prometheus's `histogram_quantile` does.
    @Test func quantilesInterpolateLikePrometheus() {
        let registry = TelemetryRegistry(workers: 1)
        let shard = registry.shard(forWorker: 0)
        for _ in 0..<10 { shard.record(0, micros: 3_000) }
        for _ in 0..<10 { shard.record(0, micros: 40_000) }
        let duration = registry.snapshot().duration { _ in true }
        #expect(duration.count == 20)
        #expect(duration.sum == 430)
        #expect(duration.quantile(0.5) == 5)
        #expect(abs(duration.quantile(0.99)! - 49.5) < 1e-9)
        #expect(duration.quantile(1) == 50)
        #expect(TelemetrySnapshot.Histogram().quantile(0.5) == nil)
    }
}
