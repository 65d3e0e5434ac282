/// Reading a registry: merging the shards into one value per series, for the snapshot and the Prometheus text.
extension TelemetryRegistry {
    /// The shards' series merged: `keys[i]` has its cells at `values[i * width ..< (i + 1) * width]`, in the
    /// order of a slot's cells after the key (requests, the three sums, then the three histograms' buckets).
    struct Merged {
        static let width = MetricShard.Cell.stride - MetricShard.Cell.requests
        var keys: [TelemetrySnapshot.SeriesKey] = []
        var values: [UInt64] = []
        var destinations: [DestinationLabels] = []
        var destinationText: [[UInt8]] = []

        func value(_ series: Int, _ cell: Int) -> UInt64 {
            values[series * Merged.width + cell - MetricShard.Cell.requests]
        }
    }

    func merge() -> Merged {
        // The shards first, then the destinations: an id a worker recorded was interned before it was handed out,
        // so the destinations read afterwards know it.
        var raw: [TelemetrySnapshot.SeriesKey: [UInt64]] = [:]
        for shard in allShards {
            shard.forEachSeries { key0, key1, cells in
                let key = TelemetrySnapshot.SeriesKey(
                    destination: Int32(bitPattern: UInt32(truncatingIfNeeded: key0 >> 32)),
                    requestProtocol: RequestProtocol(rawValue: UInt8(truncatingIfNeeded: key0 >> 30 & 3)) ?? .http,
                    responseCode: Int(Int32(bitPattern: UInt32(truncatingIfNeeded: key1 >> 32))),
                    grpcStatus: Int(Int32(bitPattern: UInt32(truncatingIfNeeded: key1))),
                    flags: ResponseFlags(rawValue: UInt32(truncatingIfNeeded: key0)))
                raw[key, default: Array(repeating: 0, count: Merged.width)].withUnsafeMutableBufferPointer { values in
                    for cell in 0..<Merged.width {
                        values[cell] &+= cells[MetricShard.Cell.requests + cell].load(ordering: .relaxed)
                    }
                }
            }
        }
        var merged = Merged()
        (merged.destinations, merged.destinationText) = destinationsWithText()
        // An id never handed out (only a caller's mistake makes one) counts as `unknown`.
        var normalized: [TelemetrySnapshot.SeriesKey: [UInt64]] = [:]
        for (key, values) in raw {
            var key = key
            if key.destination < 0 || Int(key.destination) >= merged.destinations.count { key.destination = 0 }
            if let existing = normalized[key] {
                normalized[key] = zip(existing, values).map { $0 &+ $1 }
            } else {
                normalized[key] = values
            }
        }
        // Sorted by key, so that the text and the snapshot come out in a stable order.
        merged.keys = normalized.keys.sorted()
        merged.values.reserveCapacity(merged.keys.count * Merged.width)
        for key in merged.keys { merged.values.append(contentsOf: normalized[key]!) }
        return merged
    }

    /// Kanaria's own counters, all workers summed.
    struct OwnCounters {
        var accepted: UInt64 = 0
        var active: UInt64 = 0
        var inFlight: UInt64 = 0
        var dropped: UInt64 = 0
        var upstream: [TelemetrySnapshot.UpstreamConnections] = []
    }

    func ownCounters(destinations: Int) -> OwnCounters {
        var own = OwnCounters()
        own.upstream = Array(repeating: .init(opened: 0, reused: 0), count: destinations)
        for shard in allShards {
            // The closing count first: it never passes the accepted count read after it.
            let closed = shard.counter(.downstreamClosed)
            let accepted = shard.counter(.downstreamAccepted)
            own.accepted &+= accepted
            own.active &+= accepted >= closed ? accepted - closed : 0
            let finished = shard.counter(.requestsFinished)
            let started = shard.counter(.requestsStarted)
            own.inFlight &+= started >= finished ? started - finished : 0
            own.dropped &+= shard.counter(.seriesDropped)
            for id in 0..<min(destinations, shard.destinationCapacity) {
                let (opened, reused) = shard.upstreamConnections(destination: id)
                own.upstream[id].opened &+= opened
                own.upstream[id].reused &+= reused
            }
        }
        return own
    }

    /// Every counter now, all workers merged. Safe to call from any thread while workers record.
    public func snapshot() -> TelemetrySnapshot {
        let merged = merge()
        let own = ownCounters(destinations: merged.destinations.count)
        let config = configCounters
        typealias Cell = MetricShard.Cell
        func histogram(_ series: Int, buckets: Int, sum: Int, divisor: Double) -> TelemetrySnapshot.Histogram {
            TelemetrySnapshot.Histogram(
                counts: (0..<HistogramBuckets.count).map { merged.value(series, buckets + $0) },
                sum: Double(merged.value(series, sum)) / divisor)
        }
        let series = merged.keys.indices.map { i in
            TelemetrySnapshot.Series(
                key: merged.keys[i], destination: merged.destinations[Int(merged.keys[i].destination)],
                requests: merged.value(i, Cell.requests),
                duration: histogram(i, buckets: Cell.durationBuckets, sum: Cell.durationSum, divisor: 1000),
                requestBytes: histogram(i, buckets: Cell.requestBytesBuckets, sum: Cell.requestBytesSum, divisor: 1),
                responseBytes: histogram(i, buckets: Cell.responseBytesBuckets, sum: Cell.responseBytesSum, divisor: 1))
        }
        return TelemetrySnapshot(
            series: series, destinations: merged.destinations, upstreamConnections: own.upstream,
            downstreamConnectionsAccepted: own.accepted, downstreamConnectionsActive: own.active,
            requestsInFlight: own.inFlight, configReloadsSucceeded: config.succeeded,
            configReloadsFailed: config.failed, configGeneration: config.generation, seriesDropped: own.dropped)
    }
}
