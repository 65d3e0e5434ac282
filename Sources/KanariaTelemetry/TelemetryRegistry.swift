import Synchronization

/// All of Kanaria's metrics: one `MetricShard` per worker, the interned destination label sets, and the
/// configuration-reload counters. Scrapes (`prometheusText()`, `snapshot()`) merge the shards while workers record.
///
/// Set-up: create it with the worker count, hand `shard(forWorker: i)` to worker `i`, and intern each destination's
/// labels with `destinationID(for:)` when a configuration is compiled (id 0 is `DestinationLabels.unknown`).
public final class TelemetryRegistry: Sendable {
    /// The proxy's own labels, on every series.
    public let source: SourceLabels
    private let shards: [MetricShard]
    private let destinationTable: Mutex<DestinationTable>
    /// Interned hosts (`ip:port` of endpoints), for per-host counters.
    private let hostTable = Mutex(NameTable())
    /// Interned cluster names (`outbound|8080|v1|nodejs.default.svc.cluster.local`), for Envoy's per-cluster stats.
    private let clusterTable = Mutex(NameTable())
    private let destinationCapacity: Int
    private let reloadsSucceeded = Atomic<UInt64>(0)
    private let reloadsFailed = Atomic<UInt64>(0)
    private let generation = Atomic<Int>(0)
    /// `reporter="source",source_workload="…",…,source_cluster="…",`: the same on every series.
    let sourceLabelText: [UInt8]

    /// A registry that reports as `source` does.
    ///
    /// - Parameters:
    ///   - seriesCapacity: series slots per worker (each ~530 bytes, touched only when used); beyond them requests
    ///     count in overflow series (see `MetricShard`).
    ///   - destinationCapacity: distinct destination label sets; further ones are reported as `unknown`.
    public init(workers: Int, source: SourceLabels, seriesCapacity: Int = 4096, destinationCapacity: Int = 1024) {
        precondition(workers >= 1, "a registry needs at least one worker")
        self.source = source
        self.destinationCapacity = max(1, destinationCapacity)
        shards = (0..<workers).map {
            MetricShard(index: $0, seriesCapacity: seriesCapacity, destinationCapacity: max(1, destinationCapacity))
        }
        destinationTable = Mutex(DestinationTable())
        var text: [UInt8] = []
        let pairs: [(StaticString, String)] = [
            ("reporter", source.reporter), ("source_workload", source.workload),
            ("source_canonical_service", source.canonicalService), ("source_canonical_revision", source.canonicalRevision),
            ("source_workload_namespace", source.workloadNamespace), ("source_principal", source.principal),
            ("source_app", source.app), ("source_version", source.version), ("source_cluster", source.cluster),
        ]
        for (name, value) in pairs { text.appendLabel(name, value) }
        sourceLabelText = text
    }

    /// A registry for an ingress gateway: by default Istio's own, `istio-ingressgateway` in `istio-system` (see
    /// `SourceLabels.ingressGateway`).
    public convenience init(workers: Int, sourceWorkload: String = "istio-ingressgateway",
                            sourceNamespace: String = "istio-system", seriesCapacity: Int = 4096,
                            destinationCapacity: Int = 1024) {
        self.init(workers: workers, source: .ingressGateway(workload: sourceWorkload, namespace: sourceNamespace),
                  seriesCapacity: seriesCapacity, destinationCapacity: destinationCapacity)
    }

    /// The number of workers (and shards).
    public var workerCount: Int { shards.count }

    /// Worker `index`'s shard, to be written by that worker's thread only.
    public func shard(forWorker index: Int) -> MetricShard { shards[index] }

    // MARK: Destinations

    /// Interns a destination label set: the same labels always give the same small id, across reloads. Thread-safe;
    /// takes a lock, so call it when a configuration is compiled, not per request. When `destinationCapacity` label
    /// sets exist already, a new one gets 0 (`unknown`).
    public func destinationID(for labels: DestinationLabels) -> Int32 {
        destinationTable.withLock { table in
            if let id = table.ids[labels] { return id }
            guard table.labels.count < destinationCapacity else { return 0 }
            return table.add(labels)
        }
    }

    /// The id of a label set already interned, without interning it: for readers such as the admin API.
    public func existingDestinationID(for labels: DestinationLabels) -> Int32? {
        destinationTable.withLock { $0.ids[labels] }
    }

    /// Interns an endpoint's `ip:port` for per-host counters; -1 once the shards' host capacity is used up.
    /// Thread-safe; call it when a configuration is compiled.
    public func hostID(for address: String) -> Int32 {
        let capacity = shards[0].hostCapacity
        return hostTable.withLock { $0.intern(address, capacity: capacity) }
    }

    /// Interns a cluster's name for its `ClusterStat` counters; -1 once the shards' cluster capacity is used up.
    /// Thread-safe; call it when a configuration is compiled.
    public func clusterID(for name: String) -> Int32 {
        let capacity = shards[0].clusterCapacity
        return clusterTable.withLock { $0.intern(name, capacity: capacity) }
    }

    /// Every interned cluster's stats, all workers merged, in the order they were interned.
    public func clusterStats() -> [(cluster: String, counts: [UInt64])] {
        let names = clusterTable.withLock { $0.names }
        return names.enumerated().map { id, name in
            (name, ClusterStat.allCases.map { stat in shards.reduce(0) { $0 &+ $1.clusterCounter(id, stat) } })
        }
    }

    /// The hosts (`ip:port`) some worker's outlier detection has ejected now.
    public func ejectedHosts() -> Set<String> {
        let names = hostTable.withLock { $0.names }
        var ejected = Set<String>()
        for (id, name) in names.enumerated() where shards.contains(where: { $0.hostEjected(id) }) { ejected.insert(name) }
        return ejected
    }

    /// Requests and 5xx answers per host, all workers merged: `address → (requests, errors)`.
    public func hostCounters() -> [String: (requests: UInt64, errors: UInt64)] {
        let names = hostTable.withLock { $0.names }
        var result: [String: (requests: UInt64, errors: UInt64)] = [:]
        for (id, name) in names.enumerated() {
            var requests: UInt64 = 0
            var errors: UInt64 = 0
            for shard in shards {
                let counts = shard.hostCounters(id)
                requests &+= counts.requests
                errors &+= counts.errors
            }
            result[name] = (requests, errors)
        }
        return result
    }

    /// The label set of `id` (`unknown` for an id never handed out).
    public func destinationLabels(_ id: Int32) -> DestinationLabels {
        destinationTable.withLock { table in
            id >= 0 && Int(id) < table.labels.count ? table.labels[Int(id)] : .unknown
        }
    }

    /// Every interned label set, indexed by id.
    public var destinations: [DestinationLabels] {
        destinationTable.withLock { $0.labels }
    }

    /// The label sets and their Prometheus label text, indexed by id.
    func destinationsWithText() -> (labels: [DestinationLabels], text: [[UInt8]]) {
        destinationTable.withLock { ($0.labels, $0.text) }
    }

    // MARK: Configuration

    /// The configuration in use now has `generation` (`kanaria_config_generation`); use it for the first load.
    public func setConfigGeneration(_ generation: Int) {
        self.generation.store(generation, ordering: .relaxed)
    }

    /// Counts a reload (`kanaria_config_reloads_total{result="success"|"failure"}`); a successful one also sets the
    /// generation now in use, when given. Thread-safe.
    public func recordConfigReload(succeeded: Bool, generation: Int? = nil) {
        if succeeded {
            reloadsSucceeded.wrappingAdd(1, ordering: .relaxed)
            if let generation { self.generation.store(generation, ordering: .relaxed) }
        } else {
            reloadsFailed.wrappingAdd(1, ordering: .relaxed)
        }
    }

    var configCounters: (succeeded: UInt64, failed: UInt64, generation: Int) {
        (reloadsSucceeded.load(ordering: .relaxed), reloadsFailed.load(ordering: .relaxed),
         generation.load(ordering: .relaxed))
    }

    var allShards: [MetricShard] { shards }
}

/// The interned destinations; guarded by the registry's mutex.
struct DestinationTable {
    var labels: [DestinationLabels] = []
    var ids: [DestinationLabels: Int32] = [:]
    /// `destination_workload="…",…,destination_cluster="…",` per id.
    var text: [[UInt8]] = []

    init() {
        _ = add(.unknown)
    }

    mutating func add(_ destination: DestinationLabels) -> Int32 {
        let id = Int32(labels.count)
        labels.append(destination)
        ids[destination] = id
        var line: [UInt8] = []
        let pairs: [(StaticString, String)] = [
            ("destination_workload", destination.workload),
            ("destination_workload_namespace", destination.workloadNamespace),
            ("destination_principal", destination.principal), ("destination_app", destination.app),
            ("destination_version", destination.version), ("destination_service", destination.service),
            ("destination_canonical_service", destination.canonicalService),
            ("destination_canonical_revision", destination.canonicalRevision),
            ("destination_service_name", destination.serviceName),
            ("destination_service_namespace", destination.serviceNamespace),
            ("destination_cluster", destination.cluster),
        ]
        for (name, value) in pairs { line.appendLabel(name, value) }
        text.append(line)
        return id
    }
}

/// Names interned to small ids, in the order they came: ids index the shards' per-host or per-cluster cells.
struct NameTable: Sendable {
    var names: [String] = []
    var ids: [String: Int32] = [:]

    /// The id of `name`, given it now if it has none; -1 once `capacity` names have ids.
    mutating func intern(_ name: String, capacity: Int) -> Int32 {
        if let id = ids[name] { return id }
        guard names.count < capacity else { return -1 }
        let id = Int32(names.count)
        names.append(name)
        ids[name] = id
        return id
    }
}
