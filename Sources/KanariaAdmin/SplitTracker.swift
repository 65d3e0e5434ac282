import KanariaPosix
import KanariaRouting
import KanariaTelemetry
import Synchronization

/// The live split, for the dashboard: per destination version, the request rate over the last few seconds, its share
/// next to the configured weight, the response codes, p50/p99 latency. Rates come from differences between metric
/// snapshots taken when the page asks (every second while it is open), so nothing runs when nobody watches. Shares are
/// over the same window while it holds requests, else over everything counted since the start (`sharesOver`).
final class SplitTracker: Sendable {
    /// Rates and latencies are measured over about this long.
    static let windowNanoseconds: UInt64 = 5_000_000_000

    private struct Sample {
        var time: UInt64
        var snapshot: TelemetrySnapshot
    }

    private let registry: TelemetryRegistry
    private let samples = Mutex<[Sample]>([])
    private let history = Mutex(SplitHistory())

    init(registry: TelemetryRegistry) {
        self.registry = registry
    }

    /// The dashboard's data: `{generation, windowSeconds, totals, routes[], versions[], history}` (see the page's
    /// script; `history` is `SplitHistory`'s).
    func json(_ state: AdminConfigurationState) -> String {
        let now = monotonicNanoseconds()
        let current = registry.snapshot()
        let history = self.history.withLock { history in
            history.record(current, at: now)
            return history
        }
        let base: Sample? = samples.withLock { samples in
            samples.append(Sample(time: now, snapshot: current))
            // Keep one sample older than the window (the base) and everything newer.
            while samples.count > 2 && now - samples[1].time >= Self.windowNanoseconds { samples.removeFirst() }
            return samples.count > 1 ? samples[0] : nil
        }
        let window = base.map { Double(now - $0.time) / 1e9 } ?? 0
        let delta = WindowDelta(current: current, base: base?.snapshot)
        // Shares over the window while requests arrive; once traffic stops, over everything counted, so the page
        // still shows the split the last requests had instead of nothing.
        let windowed = delta.requests { _ in true } > 0
        let shares = windowed ? delta : WindowDelta(current: current, base: nil)

        var json = JSONWriter()
        json.object { json in
            json.member("generation", state.generation)
            json.member("windowSeconds", window)
            json.member("liveChangesLastUntil", "the next reload of the files")
            json.member("sharesOver", windowed ? "window" : "start")
            json.member("totals", object: { json in
                json.member("requests", Int(current.series.reduce(0) { $0 &+ $1.requests }))
                json.member("rate", window > 0 ? Double(delta.requests { _ in true }) / window : 0)
            })
            json.member("routes", array: { json in
                for (index, route) in state.table.routes.enumerated() {
                    routeJSON(index, route, state.table, delta: delta, shares: shares, window: window, &json)
                }
            })
            json.member("versions", array: { json in
                versionsJSON(current: current, delta: delta, shares: shares, window: window, &json)
            })
            json.key("history")
            history.json(now: now, &json)
        }
        return json.text
    }

    private func routeJSON(_ index: Int, _ route: HTTPRoute, _ table: RouteTable, delta: WindowDelta,
                           shares: WindowDelta, window: Double, _ json: inout JSONWriter) {
        // The destinations a route's clusters count under: the labels of their endpoints, interned as the proxy does.
        let destinationSets: [Set<Int32>] = route.destinations.map { destination in
            let cluster = table.clusters[destination.cluster]
            return Set(cluster.endpoints.compactMap { index in
                let endpoint = table.endpoints[index]
                return registry.existingDestinationID(for: DestinationLabels(
                    serviceHost: cluster.serviceHost, serviceName: cluster.serviceName, serviceNamespace: cluster.namespace,
                    workload: endpoint.workload, workloadNamespace: endpoint.namespace, labels: endpoint.labels))
            })
        }
        let windowCounts = destinationSets.map { ids in delta.requests { ids.contains($0.key.destination) } }
        let shareCounts = destinationSets.map { ids in shares.requests { ids.contains($0.key.destination) } }
        let shareTotal = shareCounts.reduce(0, +)
        let ejected = registry.ejectedHosts()
        json.object { json in
            json.member("index", index)
            json.member("name", route.name)
            json.member("virtualService", route.virtualService)
            json.member("destinations", array: { json in
                for (i, destination) in route.destinations.enumerated() {
                    let cluster = table.clusters[destination.cluster]
                    json.object { json in
                        json.member("cluster", cluster.name)
                        json.member("subset", cluster.subset)
                        json.member("versions", array: { json in
                            for version in Set(cluster.endpoints.map { table.endpoints[$0].version }).sorted() { json.value(version) }
                        })
                        json.member("endpoints", cluster.endpoints.count)
                        json.member("ejected", array: { json in
                            for index in cluster.endpoints {
                                let address = "\(table.endpoints[index].address):\(table.endpoints[index].port)"
                                if ejected.contains(address) { json.value(address) }
                            }
                        })
                        json.member("weight", destination.weight)
                        json.member("configuredShare", Double(destination.weight) / Double(max(route.totalWeight, 1)))
                        json.member("rate", window > 0 ? Double(windowCounts[i]) / window : 0)
                        if shareTotal > 0 {
                            json.member("observedShare", Double(shareCounts[i]) / Double(shareTotal))
                        } else {
                            json.key("observedShare")
                            json.null()
                        }
                    }
                }
            })
        }
    }

    private func versionsJSON(current: TelemetrySnapshot, delta: WindowDelta, shares: WindowDelta, window: Double,
                              _ json: inout JSONWriter) {
        var keys = Set<VersionKey>()
        for series in current.series { keys.insert(VersionKey(service: series.destination.service, version: series.destination.version)) }
        let shareTotal = shares.requests { _ in true }
        for key in keys.sorted() {
            let matches: (TelemetrySnapshot.Series) -> Bool = {
                $0.destination.service == key.service && $0.destination.version == key.version
            }
            let inWindow = delta.requests(where: matches)
            var codes: [Int: UInt64] = [:]
            var workloads = Set<String>()
            var flags = Set<String>()
            for series in current.series where matches(series) {
                codes[series.key.responseCode, default: 0] &+= series.requests
                workloads.insert(series.destination.workload)
                if !series.key.flags.isEmpty { flags.insert(series.key.flags.text) }
            }
            let latency = inWindow > 0 ? delta.duration(where: matches) : current.duration(where: matches)
            json.object { json in
                json.member("service", key.service)
                json.member("version", key.version)
                json.member("workloads", array: { json in for workload in workloads.sorted() { json.value(workload) } })
                json.member("requests", Int(current.requests(where: matches)))
                json.member("rate", window > 0 ? Double(inWindow) / window : 0)
                if shareTotal > 0 {
                    json.member("share", Double(shares.requests(where: matches)) / Double(shareTotal))
                } else {
                    json.key("share")
                    json.null()
                }
                json.member("codes", object: { json in
                    for (code, count) in codes.sorted(by: { $0.key < $1.key }) { json.member(String(code), Int(count)) }
                })
                json.member("flags", array: { json in for flag in flags.sorted() { json.value(flag) } })
                if let p50 = latency.quantile(0.5) { json.member("p50", p50) } else { json.key("p50"); json.null() }
                if let p99 = latency.quantile(0.99) { json.member("p99", p99) } else { json.key("p99"); json.null() }
            }
        }
    }
}

/// What changed between two snapshots (everything since the start when there is no base).
private struct WindowDelta {
    let current: TelemetrySnapshot
    let base: [TelemetrySnapshot.SeriesKey: TelemetrySnapshot.Series]

    init(current: TelemetrySnapshot, base: TelemetrySnapshot?) {
        self.current = current
        var byKey: [TelemetrySnapshot.SeriesKey: TelemetrySnapshot.Series] = [:]
        for series in base?.series ?? [] { byKey[series.key] = series }
        self.base = byKey
    }

    func requests(where isIncluded: (TelemetrySnapshot.Series) -> Bool) -> UInt64 {
        var total: UInt64 = 0
        for series in current.series where isIncluded(series) {
            total &+= series.requests &- (base[series.key]?.requests ?? 0)
        }
        return total
    }

    func duration(where isIncluded: (TelemetrySnapshot.Series) -> Bool) -> TelemetrySnapshot.Histogram {
        var merged = TelemetrySnapshot.Histogram()
        for series in current.series where isIncluded(series) {
            var histogram = series.duration
            if let old = base[series.key]?.duration {
                for i in histogram.counts.indices { histogram.counts[i] &-= old.counts[i] }
                histogram.sum -= old.sum
            }
            merged.merge(histogram)
        }
        return merged
    }
}
