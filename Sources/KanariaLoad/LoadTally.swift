import Histogram

/// How a request failed without an answer.
public enum TransportErrorKind: Int, CaseIterable, Sendable {
    /// The connection could not be opened (refused, unreachable).
    case connect
    /// The connection was reset or closed before the whole answer arrived.
    case reset
    /// No whole answer within the request timeout.
    case timeout
    /// The answer was not valid HTTP (or the HTTP/2 session failed).
    case `protocol`

    public var name: String {
        switch self {
        case .connect: "connect"
        case .reset: "reset"
        case .timeout: "timeout"
        case .protocol: "protocol"
        }
    }
}

/// Latency histograms are recorded in microseconds, up to an hour.
public typealias LatencyHistogram = Histogram<UInt64>

func makeLatencyHistogram() -> LatencyHistogram {
    var histogram = LatencyHistogram(lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: .three)
    histogram.autoResize = true
    return histogram
}

/// What one version's answers amounted to.
public struct VersionTally: Sendable {
    public var count = 0
    /// Answers by status code (index = status, 100…599).
    public var statuses = [Int](repeating: 0, count: 600)
    public var latency = makeLatencyHistogram()

    public init() {}

    /// The status codes seen, with their counts, in ascending order.
    public var statusCounts: [(status: Int, count: Int)] {
        statuses.indices.compactMap { statuses[$0] > 0 ? ($0, statuses[$0]) : nil }
    }
}

/// Everything one load thread counted: answers per version (with statuses and latencies), transport errors by kind,
/// and exactness per window on each of its lanes. Threads' tallies are merged at the end by version name.
public struct LoadTally: Sendable {
    public private(set) var versions: VersionTable
    public private(set) var perVersion: [VersionTally]
    /// Transport errors, indexed by `TransportErrorKind.rawValue`.
    public private(set) var errors = [Int](repeating: 0, count: TransportErrorKind.allCases.count)
    /// Answers with a status of 400 or more.
    public private(set) var errorAnswers = 0
    public private(set) var lanes: [WindowTracker]

    /// - Parameters:
    ///   - expected: the split to check windows against (nil: no window check).
    ///   - lanes: connection slots of this thread.
    public init(expected: ExpectedSplit?, lanes: Int) {
        versions = VersionTable(expected: expected?.entries.map(\.version) ?? [])
        perVersion = Array(repeating: VersionTally(), count: versions.count)
        let counts = [0] + (expected?.countsPerWindow ?? [])
        self.lanes = Array(repeating: WindowTracker(size: expected?.windowSize ?? 0, expectedCounts: counts), count: lanes)
    }

    /// The index of a version named by an answer's bytes (adding it when new).
    public mutating func version(of bytes: UnsafeRawBufferPointer) -> Int {
        let index = versions.index(of: bytes)
        while perVersion.count < versions.count { perVersion.append(VersionTally()) }
        return index
    }

    /// An answer of version index `version` with `status`, `latencyMicroseconds` after its intended send time; it
    /// joins `lane`'s windows too unless `lane` is nil (the caller feeds them with `recordWindow` in its own order).
    public mutating func recordAnswer(version: Int, status: Int, latencyMicroseconds: UInt64, lane: Int?) {
        perVersion[version].count += 1
        if status >= 100 && status < 600 { perVersion[version].statuses[status] += 1 }
        if status >= 400 { errorAnswers += 1 }
        _ = perVersion[version].latency.record(max(latencyMicroseconds, 1))
        if let lane { lanes[lane].record(version) }
    }

    /// The next answer of `lane`'s windows.
    public mutating func recordWindow(lane: Int, version: Int) {
        lanes[lane].record(version)
    }

    /// A request that got no answer.
    public mutating func recordError(_ kind: TransportErrorKind) {
        errors[kind.rawValue] += 1
    }

    public var answers: Int { perVersion.reduce(0) { $0 + $1.count } }
    public var transportErrors: Int { errors.reduce(0, +) }

    /// The tally of both threads: versions matched by name, lanes side by side.
    public mutating func merge(_ other: LoadTally) {
        for (index, name) in other.versions.names.enumerated() {
            let mine = index == VersionTable.other ? VersionTable.other : version(of: Array(name.utf8))
            perVersion[mine].count += other.perVersion[index].count
            for status in other.perVersion[index].statuses.indices {
                perVersion[mine].statuses[status] += other.perVersion[index].statuses[status]
            }
            perVersion[mine].latency.add(other.perVersion[index].latency)
        }
        for kind in errors.indices { errors[kind] += other.errors[kind] }
        errorAnswers += other.errorAnswers
        lanes += other.lanes
    }

    private mutating func version(of bytes: [UInt8]) -> Int {
        bytes.withUnsafeBytes { version(of: $0) }
    }
}
