import Synchronization

/// One worker's counters: Istio's request series and Kanaria's own per-worker counts.
///
/// Written only by its worker's thread; read at any time by scrapes on other threads. Writing is plain arithmetic
/// on memory allocated up front: a relaxed load and a relaxed store per counter (one writer needs no read-modify-write),
/// no lock, no allocation once a series exists, no strings.
///
/// A series is one combination of (destination, request protocol, response code, gRPC status, response flags). Its
/// slot holds the request count, the three histograms' bucket counts and sums. Slots are handed out in order from a
/// fixed-capacity array; a worker-private open-addressing table maps a key to its slot. A new slot is filled in, then
/// published to readers by a release store of the slot count; readers load the count with acquire and may then read
/// every slot below it.
///
/// When the regular slots run out, a request is counted in an overflow series instead: its response code kept,
/// the destination `unknown`, protocol `http`, no gRPC status, no flags (a few slots are kept for these), and
/// `kanaria_metric_series_dropped_total` counts it. Totals by response code stay right; the lost labels are visible.
///
/// Cost, measured with callgrind on a release build recording a mix of six series: about 85 instructions per
/// `recordRequest` once its series exists, no call out of the function (no retain, release or allocation).
public final class MetricShard: @unchecked Sendable {
    typealias Cells = UnsafeMutablePointer<Atomic<UInt64>>

    /// The layout of one series slot, in cells of 8 bytes.
    enum Cell {
        static let key0 = 0
        static let key1 = 1
        static let requests = 2
        static let durationSum = 3
        static let requestBytesSum = 4
        static let responseBytesSum = 5
        static let durationBuckets = 6
        static let requestBytesBuckets = durationBuckets + HistogramBuckets.count
        static let responseBytesBuckets = requestBytesBuckets + HistogramBuckets.count
        static let stride = responseBytesBuckets + HistogramBuckets.count
    }

    /// Kanaria's own per-worker counters, one cell each.
    enum Counter: Int, CaseIterable {
        case downstreamAccepted
        case downstreamClosed
        case requestsStarted
        case requestsFinished
        case seriesDropped
    }

    /// Which worker this is.
    public let index: Int
    /// Series slots this shard can hold, the overflow reserve included.
    public let seriesCapacity: Int
    /// Destination ids below this have their own upstream connection counters; others count under id 0.
    let destinationCapacity: Int

    /// `seriesCapacity` slots of `Cell.stride` cells; a slot is initialised when it is first used.
    private let slots: Cells
    /// Slots readers may read.
    private let published = Atomic<Int>(0)
    private let counters: Cells
    /// Per destination id: upstream connections opened, then reused.
    private let upstream: Cells
    /// Per host id (an endpoint's `ip:port`): requests, then those answered 5xx (Envoy's per-host rq_total and
    /// rq_error, for `/clusters`).
    private let hosts: Cells
    let hostCapacity: Int
    /// Per host, 1 while this worker's outlier detection has the host ejected.
    private let ejected: Cells
    /// Per interned cluster, one cell per `ClusterStat`.
    private let clusters: Cells
    let clusterCapacity: Int
    private let durationLookup = BucketLookup(scale: 1000)
    private let bytesLookup = BucketLookup(scale: 1)

    // Worker-private: the index from key to slot.
    private var used = 0
    private let regularLimit: Int
    private let table: UnsafeMutablePointer<Int32>
    private let tableMask: Int
    private let tableShift: UInt64

    init(index: Int, seriesCapacity: Int, destinationCapacity: Int, hostCapacity: Int = 1024, clusterCapacity: Int = 1024) {
        precondition(seriesCapacity >= 2 && seriesCapacity <= Int(Int32.max) / 4)
        self.index = index
        self.seriesCapacity = seriesCapacity
        self.destinationCapacity = max(1, destinationCapacity)
        self.regularLimit = seriesCapacity - min(128, seriesCapacity / 4)
        slots = .allocate(capacity: seriesCapacity * Cell.stride)
        counters = .allocate(capacity: Counter.allCases.count)
        for i in 0..<Counter.allCases.count { (counters + i).initialize(to: Atomic(0)) }
        upstream = .allocate(capacity: 2 * self.destinationCapacity)
        for i in 0..<2 * self.destinationCapacity { (upstream + i).initialize(to: Atomic(0)) }
        self.hostCapacity = max(1, hostCapacity)
        hosts = .allocate(capacity: 2 * self.hostCapacity)
        for i in 0..<2 * self.hostCapacity { (hosts + i).initialize(to: Atomic(0)) }
        ejected = .allocate(capacity: self.hostCapacity)
        for i in 0..<self.hostCapacity { (ejected + i).initialize(to: Atomic(0)) }
        self.clusterCapacity = max(1, clusterCapacity)
        clusters = .allocate(capacity: self.clusterCapacity * ClusterStat.allCases.count)
        for i in 0..<self.clusterCapacity * ClusterStat.allCases.count { (clusters + i).initialize(to: Atomic(0)) }
        var size = 16
        while size < 2 * seriesCapacity { size <<= 1 }
        table = .allocate(capacity: size)
        table.initialize(repeating: -1, count: size)
        tableMask = size - 1
        tableShift = UInt64(64 - size.trailingZeroBitCount)
    }

    deinit {
        slots.deinitialize(count: published.load(ordering: .acquiring) * Cell.stride)
        slots.deallocate()
        counters.deinitialize(count: Counter.allCases.count)
        counters.deallocate()
        upstream.deinitialize(count: 2 * destinationCapacity)
        upstream.deallocate()
        hosts.deinitialize(count: 2 * hostCapacity)
        hosts.deallocate()
        ejected.deinitialize(count: hostCapacity)
        ejected.deallocate()
        clusters.deinitialize(count: clusterCapacity * ClusterStat.allCases.count)
        clusters.deallocate()
        table.deallocate()
        durationLookup.deallocate()
        bytesLookup.deallocate()
    }

    // MARK: Recording (the worker's thread only)

    /// Counts one finished request, as Istio's stats filter does when the stream ends.
    ///
    /// - Parameters:
    ///   - destination: an id from `TelemetryRegistry.destinationID(for:)`; 0 is `DestinationLabels.unknown`.
    ///   - responseCode: the status sent to the client; 0 when none was (the client went away first).
    ///   - grpcStatus: the `grpc-status` of a gRPC response, -1 for none (HTTP requests, or gRPC without one).
    ///   - durationMicroseconds: from the first byte of the request to the last byte of the response.
    ///   - requestBytes, responseBytes: bytes received from and sent to the client for this request, headers
    ///     included (Istio counts the downstream connection's wire bytes).
    public func recordRequest(destination: Int32, protocol requestProtocol: RequestProtocol, responseCode: Int,
                              grpcStatus: Int, flags: ResponseFlags, durationMicroseconds: UInt64,
                              requestBytes: UInt64, responseBytes: UInt64) {
        let key0 = UInt64(UInt32(bitPattern: destination)) << 32 | UInt64(requestProtocol.rawValue) << 30
            | UInt64(flags.rawValue)
        let key1 = UInt64(UInt32(truncatingIfNeeded: responseCode)) << 32 | UInt64(UInt32(truncatingIfNeeded: grpcStatus))
        guard let series = series(key0, key1) else { return }
        Self.add(series + Cell.requests, 1)
        Self.add(series + Cell.durationBuckets + durationLookup.index(of: durationMicroseconds), 1)
        Self.add(series + Cell.durationSum, durationMicroseconds)
        Self.add(series + Cell.requestBytesBuckets + bytesLookup.index(of: requestBytes), 1)
        Self.add(series + Cell.requestBytesSum, requestBytes)
        Self.add(series + Cell.responseBytesBuckets + bytesLookup.index(of: responseBytes), 1)
        Self.add(series + Cell.responseBytesSum, responseBytes)
    }

    /// A client connection was accepted (`kanaria_downstream_connections_accepted_total`, and one more active).
    public func downstreamConnectionAccepted() { Self.add(counters + Counter.downstreamAccepted.rawValue, 1) }

    /// A client connection closed (one fewer in `kanaria_downstream_connections_active`).
    public func downstreamConnectionClosed() { Self.add(counters + Counter.downstreamClosed.rawValue, 1) }

    /// A request head was parsed and the request is being handled (`kanaria_requests_in_flight` goes up).
    public func requestStarted() { Self.add(counters + Counter.requestsStarted.rawValue, 1) }

    /// A started request ended, however it ended (`kanaria_requests_in_flight` goes down).
    public func requestFinished() { Self.add(counters + Counter.requestsFinished.rawValue, 1) }

    /// A request answered with `responseCode` was sent to host `host` (an id from `TelemetryRegistry.hostID`).
    public func recordHost(_ host: Int32, responseCode: Int) {
        let index = Int(host)
        guard index >= 0 && index < hostCapacity else { return }
        Self.add(hosts + 2 * index, 1)
        if responseCode >= 500 { Self.add(hosts + 2 * index + 1, 1) }
    }

    /// Counts one `stat` event of cluster `cluster` (an id from `TelemetryRegistry.clusterID(for:)`; -1 counts nothing).
    @inline(__always)
    public func count(_ stat: ClusterStat, cluster: Int32) {
        guard cluster >= 0 && Int(cluster) < clusterCapacity else { return }
        Self.add(clusters + Int(cluster) * ClusterStat.allCases.count + stat.rawValue, 1)
    }

    /// A new upstream connection was opened to an endpoint of `destination`.
    public func upstreamConnectionOpened(destination: Int32) {
        Self.add(upstream + 2 * upstreamIndex(destination), 1)
    }

    /// An idle pooled connection to an endpoint of `destination` was reused.
    public func upstreamConnectionReused(destination: Int32) {
        Self.add(upstream + 2 * upstreamIndex(destination) + 1, 1)
    }

    @inline(__always)
    private func upstreamIndex(_ destination: Int32) -> Int {
        let index = Int(destination)
        return index >= 0 && index < destinationCapacity ? index : 0
    }

    /// One writer: a relaxed load and a relaxed store, which readers on other threads see whole.
    @inline(__always)
    static func add(_ cell: Cells, _ amount: UInt64) {
        cell.pointee.store(cell.pointee.load(ordering: .relaxed) &+ amount, ordering: .relaxed)
    }

    // MARK: The series index (the worker's thread only)

    @inline(__always)
    private func slot(_ index: Int32) -> Cells { slots + Int(index) &* Cell.stride }

    @inline(__always)
    private func tableIndex(_ key0: UInt64, _ key1: UInt64) -> Int {
        // Multiplicative hashing keeps the top bits, which every input bit reaches.
        let hash = (key0 ^ (key1 &* 0xC2B2_AE3D_27D4_EB4F)) &* 0x9E37_79B9_7F4A_7C15
        return Int(truncatingIfNeeded: hash >> tableShift)
    }

    /// The slot of a key, created on first use; nil when even the overflow slots are full.
    @inline(__always)
    private func series(_ key0: UInt64, _ key1: UInt64) -> Cells? {
        var i = tableIndex(key0, key1)
        while true {
            let index = table[i]
            if index < 0 { return newSeries(key0, key1, at: i) }
            let cells = slot(index)
            if cells[Cell.key0].load(ordering: .relaxed) == key0 && cells[Cell.key1].load(ordering: .relaxed) == key1 {
                return cells
            }
            i = (i &+ 1) & tableMask
        }
    }

    /// The first occurrence of a key: a new slot while regular ones last, else the overflow series of its code.
    @inline(never)
    private func newSeries(_ key0: UInt64, _ key1: UInt64, at tableSlot: Int) -> Cells? {
        if used < regularLimit { return publishSlot(key0, key1, at: tableSlot) }
        Self.add(counters + Counter.seriesDropped.rawValue, 1)
        let overflow0 = UInt64(RequestProtocol.http.rawValue) << 30
        let overflow1 = key1 & 0xFFFF_FFFF_0000_0000 | UInt64(UInt32(bitPattern: -1))
        var i = tableIndex(overflow0, overflow1)
        while true {
            let index = table[i]
            if index < 0 { return used < seriesCapacity ? publishSlot(overflow0, overflow1, at: i) : nil }
            let cells = slot(index)
            if cells[Cell.key0].load(ordering: .relaxed) == overflow0
                && cells[Cell.key1].load(ordering: .relaxed) == overflow1 {
                return cells
            }
            i = (i &+ 1) & tableMask
        }
    }

    private func publishSlot(_ key0: UInt64, _ key1: UInt64, at tableSlot: Int) -> Cells {
        let index = used
        let cells = slot(Int32(index))
        cells.initialize(to: Atomic(key0))
        (cells + 1).initialize(to: Atomic(key1))
        for i in 2..<Cell.stride { (cells + i).initialize(to: Atomic(0)) }
        table[tableSlot] = Int32(index)
        used = index + 1
        published.store(used, ordering: .releasing)
        return cells
    }

    // MARK: Reading (any thread)

    /// Calls `body` with the key and cells of every published series.
    func forEachSeries(_ body: (_ key0: UInt64, _ key1: UInt64, _ cells: Cells) -> Void) {
        let count = published.load(ordering: .acquiring)
        for index in 0..<count {
            let cells = slots + index * Cell.stride
            body(cells[Cell.key0].load(ordering: .relaxed), cells[Cell.key1].load(ordering: .relaxed), cells)
        }
    }

    func counter(_ counter: Counter) -> UInt64 {
        counters[counter.rawValue].load(ordering: .relaxed)
    }

    /// Upstream connections (opened, reused) for destination id `destination`.
    func upstreamConnections(destination: Int) -> (opened: UInt64, reused: UInt64) {
        (upstream[2 * destination].load(ordering: .relaxed), upstream[2 * destination + 1].load(ordering: .relaxed))
    }

    /// Requests and 5xx answers of host id `host`.
    /// This worker's outlier detection ejected `host` (or let it back): shown by `/clusters`.
    public func setHostEjected(_ host: Int32, _ isEjected: Bool) {
        let index = Int(host)
        guard index >= 0 && index < hostCapacity else { return }
        ejected[index].store(isEjected ? 1 : 0, ordering: .relaxed)
    }

    func hostEjected(_ host: Int) -> Bool { ejected[host].load(ordering: .relaxed) != 0 }

    func hostCounters(_ host: Int) -> (requests: UInt64, errors: UInt64) {
        (hosts[2 * host].load(ordering: .relaxed), hosts[2 * host + 1].load(ordering: .relaxed))
    }

    func clusterCounter(_ cluster: Int, _ stat: ClusterStat) -> UInt64 {
        clusters[cluster * ClusterStat.allCases.count + stat.rawValue].load(ordering: .relaxed)
    }

    /// Series published so far.
    var seriesCount: Int { published.load(ordering: .acquiring) }
}
