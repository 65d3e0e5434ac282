/// Every counter of a registry at one moment, all workers merged: what the dashboard and the admin API read instead
/// of parsing the Prometheus text.
public struct TelemetrySnapshot: Sendable {
    /// What distinguishes one series of Istio's metrics from another (with the proxy's fixed source labels).
    public struct SeriesKey: Hashable, Sendable, Comparable {
        /// The destination id; `destinations[Int(destination)]` are its labels.
        public var destination: Int32
        public var requestProtocol: RequestProtocol
        public var responseCode: Int
        /// -1 when there was none (`grpc_response_status=""`).
        public var grpcStatus: Int
        public var flags: ResponseFlags

        public init(destination: Int32, requestProtocol: RequestProtocol, responseCode: Int, grpcStatus: Int,
                    flags: ResponseFlags) {
            self.destination = destination
            self.requestProtocol = requestProtocol
            self.responseCode = responseCode
            self.grpcStatus = grpcStatus
            self.flags = flags
        }

        public static func < (a: SeriesKey, b: SeriesKey) -> Bool {
            (a.destination, a.requestProtocol.rawValue, a.responseCode, a.grpcStatus, a.flags.rawValue)
                < (b.destination, b.requestProtocol.rawValue, b.responseCode, b.grpcStatus, b.flags.rawValue)
        }
    }

    /// A histogram over `HistogramBuckets.bounds`.
    public struct Histogram: Sendable, Equatable {
        /// Observations per bucket (not cumulative): `counts[i]` fell in (bounds[i-1], bounds[i]]; the last entry is
        /// the `+Inf` bucket. `HistogramBuckets.count` entries.
        public var counts: [UInt64]
        /// The sum of the observations, in the histogram's unit (milliseconds, bytes).
        public var sum: Double

        public init(counts: [UInt64] = Array(repeating: 0, count: HistogramBuckets.count), sum: Double = 0) {
            self.counts = counts
            self.sum = sum
        }

        /// The number of observations.
        public var count: UInt64 { counts.reduce(0, &+) }

        /// Adds another histogram's observations.
        public mutating func merge(_ other: Histogram) {
            for i in counts.indices { counts[i] &+= other.counts[i] }
            sum += other.sum
        }

        /// The `q`-quantile (0…1) as Prometheus's `histogram_quantile` estimates it: linear interpolation inside the
        /// bucket that holds the rank, 0 as the lower edge of the first bucket, the highest finite bound when the rank
        /// falls in `+Inf`. nil when there are no observations.
        ///
        /// With 10 observations of 3 ms and 10 of 40 ms, the median is 5 (the top of the (1, 5] bucket) and
        /// `quantile(0.99)` is 25 + (50 − 25)·(19.8 − 10)/10 = 49.5.
        public func quantile(_ q: Double) -> Double? {
            let total = count
            guard total > 0 else { return nil }
            let bounds = HistogramBuckets.bounds
            if q <= 0 { return 0 }
            if q >= 1 {
                // The upper bound of the highest non-empty bucket.
                guard let last = counts.lastIndex(where: { $0 > 0 }) else { return nil }
                return last < bounds.count ? bounds[last] : bounds[bounds.count - 1]
            }
            let rank = q * Double(total)
            var below: UInt64 = 0
            for (i, n) in counts.enumerated() {
                if Double(below + n) >= rank && n > 0 {
                    guard i < bounds.count else { return bounds[bounds.count - 1] }
                    let lower = i == 0 ? 0 : bounds[i - 1]
                    return lower + (bounds[i] - lower) * (rank - Double(below)) / Double(n)
                }
                below += n
            }
            return bounds[bounds.count - 1]
        }
    }

    /// One series: Istio's four HTTP metrics for one key.
    public struct Series: Sendable {
        public var key: SeriesKey
        public var destination: DestinationLabels
        /// `istio_requests_total`.
        public var requests: UInt64
        /// `istio_request_duration_milliseconds`.
        public var duration: Histogram
        /// `istio_request_bytes`.
        public var requestBytes: Histogram
        /// `istio_response_bytes`.
        public var responseBytes: Histogram
    }

    /// Upstream connections opened and reused for one destination.
    public struct UpstreamConnections: Sendable, Equatable {
        public var opened: UInt64
        public var reused: UInt64
    }

    /// Every series any worker has seen, sorted by key (a series a worker has just created may still show 0).
    public var series: [Series]
    /// Interned destination labels, indexed by id.
    public var destinations: [DestinationLabels]
    /// Per destination id (same indices as `destinations`).
    public var upstreamConnections: [UpstreamConnections]
    public var downstreamConnectionsAccepted: UInt64
    public var downstreamConnectionsActive: UInt64
    public var requestsInFlight: UInt64
    public var configReloadsSucceeded: UInt64
    public var configReloadsFailed: UInt64
    public var configGeneration: Int
    /// Requests that went to an overflow series (`kanaria_metric_series_dropped_total`).
    public var seriesDropped: UInt64

    /// Requests of the series for which `isIncluded` holds: `requests { $0.destination.version == "v1" }`.
    public func requests(where isIncluded: (Series) -> Bool) -> UInt64 {
        series.reduce(0) { isIncluded($1) ? $0 &+ $1.requests : $0 }
    }

    /// The duration histogram of those series merged, for p50/p99 over them.
    public func duration(where isIncluded: (Series) -> Bool) -> Histogram {
        var merged = Histogram()
        for entry in series where isIncluded(entry) { merged.merge(entry.duration) }
        return merged
    }
}
