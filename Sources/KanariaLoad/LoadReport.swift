/// The outcome of a run, ready to print as text or JSON: per version its count, share, expected share, deviation,
/// 99% Wilson interval, latency percentiles and status codes; overall the chi-square p-value, exactness per window,
/// errors by kind and the gates' verdict. Built from the merged tally by `init(tally:…)`, a pure function.
public struct LoadReport: Sendable {
    public struct Latency: Sendable, Equatable {
        /// Milliseconds.
        public var p50, p90, p99, p999, max: Double
    }

    public struct VersionLine: Sendable {
        public var name: String
        public var count: Int
        /// Observed share of all answers, 0…1.
        public var share: Double
        /// Expected share, 0…1; nil when no split was expected.
        public var expected: Double?
        /// (share − expected) × 100.
        public var deviationPoints: Double?
        public var ci99: (low: Double, high: Double)
        public var latency: Latency
        public var statuses: [(status: Int, count: Int)]
    }

    public struct Windows: Sendable, Equatable {
        /// Answers per window (the expected split's period).
        public var size: Int
        /// The largest |observed − expected| count of a version over any window of any lane: 0 for an exact split.
        public var maxDeviation: Int
        /// Windows checked over all lanes.
        public var checked: Int
    }

    public var requests: Int
    /// Requests without a 2xx/3xx answer: transport errors plus 4xx/5xx answers.
    public var errors: Int
    public var errorsByKind: [(kind: TransportErrorKind, count: Int)]
    public var errorAnswers: Int
    public var durationSeconds: Double
    /// Requests per second asked for (open loop); nil in closed loop.
    public var targetRate: Double?
    public var achievedRate: Double
    public var versions: [VersionLine]
    public var windows: Windows?
    /// Chi-square goodness of fit against the expected split; nil without one.
    public var pValue: Double?
    public var gatePassed: Bool
    public var gateFailures: [String]

    /// - Parameters:
    ///   - tally: every thread's tally, merged.
    ///   - durationSeconds: from the first request to the last answer.
    public init(tally: LoadTally, expected: ExpectedSplit?, limits: GateLimits, durationSeconds: Double, targetRate: Double?) {
        let answers = tally.answers
        requests = answers + tally.transportErrors
        errorAnswers = tally.errorAnswers
        errors = tally.transportErrors + tally.errorAnswers
        errorsByKind = TransportErrorKind.allCases.map { ($0, tally.errors[$0.rawValue]) }
        self.durationSeconds = durationSeconds
        self.targetRate = targetRate
        achievedRate = durationSeconds > 0 ? Double(requests) / durationSeconds : 0
        versions = Self.versionLines(tally, expected: expected, answers: answers)
        if let expected {
            let observed = versions.map(\.count)
            let shares = versions.map { $0.expected ?? 0 }
            let categories = versions.filter { ($0.expected ?? 0) > 0 }.count
            pValue = answers > 0
                ? SplitStatistics.pValue(chiSquare: SplitStatistics.chiSquare(observed: observed, expectedShares: shares),
                                         degreesOfFreedom: categories - 1)
                : nil
            let lanes = tally.lanes.filter { $0.windows > 0 }
            windows = Windows(size: expected.windowSize, maxDeviation: lanes.map(\.maxDeviation).max() ?? 0,
                              checked: lanes.reduce(0) { $0 + $1.windows })
        } else {
            pValue = nil
            windows = nil
        }
        gateFailures = Self.failures(versions: versions, errors: errors, requests: requests, limits: limits)
        gatePassed = gateFailures.isEmpty
    }

    /// The expected versions first, in the order given, then the others by count; `other` only when it has answers.
    private static func versionLines(_ tally: LoadTally, expected: ExpectedSplit?, answers: Int) -> [VersionLine] {
        var lines: [VersionLine] = []
        for (index, name) in tally.versions.names.enumerated() {
            let version = tally.perVersion[index]
            let isExpected = expected?.entries.contains { $0.version == name } ?? false
            guard version.count > 0 || isExpected else { continue }
            let share = answers > 0 ? Double(version.count) / Double(answers) : 0
            let want = expected.map { $0.share(of: name) }
            lines.append(VersionLine(
                name: name, count: version.count, share: share, expected: want,
                deviationPoints: want.map { (share - $0) * 100 },
                ci99: SplitStatistics.wilsonInterval(successes: version.count, trials: answers),
                latency: latency(of: version.latency), statuses: version.statusCounts))
        }
        let rank: (VersionLine) -> Int = { line in
            expected?.entries.firstIndex { $0.version == line.name } ?? Int.max
        }
        return lines.sorted { (rank($0), -$0.count, $0.name) < (rank($1), -$1.count, $1.name) }
    }

    static func latency(of histogram: LatencyHistogram) -> Latency {
        guard histogram.totalCount > 0 else { return Latency(p50: 0, p90: 0, p99: 0, p999: 0, max: 0) }
        let ms: (UInt64) -> Double = { Double($0) / 1000 }
        return Latency(p50: ms(histogram.valueAtPercentile(50)), p90: ms(histogram.valueAtPercentile(90)),
                       p99: ms(histogram.valueAtPercentile(99)), p999: ms(histogram.valueAtPercentile(99.9)),
                       max: ms(histogram.max))
    }

    /// One line per failed gate, naming the version or the rate.
    static func failures(versions: [VersionLine], errors: Int, requests: Int, limits: GateLimits) -> [String] {
        var failures: [String] = []
        if let limit = limits.maxDeviationPoints {
            for line in versions {
                let deviation = line.deviationPoints ?? 0
                guard abs(deviation) > limit else { continue }
                failures.append("\(line.name): observed \(Fixed.percent(line.share)), expected \(Fixed.percent(line.expected ?? 0)), "
                                + "deviation \(Fixed.signed(deviation, digits: 2)) pp exceeds --max-deviation \(Fixed.trimmed(limit)) pp")
            }
        }
        if let limit = limits.maxErrorRatePercent {
            let rate = requests > 0 ? Double(errors) * 100 / Double(requests) : 0
            if rate > limit {
                failures.append("error rate \(Fixed.string(rate, digits: 2))% (\(errors) of \(requests)) exceeds --max-error-rate \(Fixed.trimmed(limit))%")
            }
        }
        return failures
    }
}

extension LoadTally {
    /// Every answer's latency in one histogram (for `--histogram`).
    public var allLatencies: LatencyHistogram {
        var all = makeLatencyHistogram()
        for version in perVersion { all.add(version.latency) }
        return all
    }
}
