/// The split a run is checked against: each version's weight, as `--expect v1=80,v2=20` names it or as the route of
/// a configuration gives it (`--expect-from`).
///
/// Shares are weights over their sum; the window size is the weights' period, the sum divided by the weights' gcd:
/// 80/20 gives 5 (4 v1 and 1 v2 in every window of an exact split), 70/30 gives 10, 50/50 gives 2.
public struct ExpectedSplit: Sendable, Equatable {
    public struct Entry: Sendable, Equatable {
        public var version: String
        public var weight: Int

        public init(version: String, weight: Int) {
            self.version = version
            self.weight = weight
        }
    }

    /// In the order given.
    public let entries: [Entry]
    public let totalWeight: Int

    /// - Precondition: at least one entry, weights ≥ 0 with a positive sum, no version twice.
    public init(_ entries: [Entry]) {
        precondition(!entries.isEmpty && entries.allSatisfy { $0.weight >= 0 })
        self.entries = entries
        totalWeight = entries.reduce(0) { $0 + $1.weight }
        precondition(totalWeight > 0)
    }

    /// Parses `v1=80,v2=20`; throws a message for the user otherwise.
    public init(parsing text: String) throws(UsageError) {
        var entries: [Entry] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let pair = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard pair.count == 2, !pair[0].isEmpty, let weight = Int(pair[1]), weight >= 0 else {
                throw UsageError("--expect \(text): expected VERSION=WEIGHT[,VERSION=WEIGHT…], e.g. v1=80,v2=20")
            }
            let version = String(pair[0])
            guard !entries.contains(where: { $0.version == version }) else {
                throw UsageError("--expect \(text): version \(version) is named twice")
            }
            entries.append(Entry(version: version, weight: weight))
        }
        guard entries.reduce(0, { $0 + $1.weight }) > 0 else {
            throw UsageError("--expect \(text): the weights add up to 0")
        }
        self.init(entries)
    }

    /// The expected share of `version` (0…1); 0 for a version not named.
    public func share(of version: String) -> Double {
        guard let entry = entries.first(where: { $0.version == version }) else { return 0 }
        return Double(entry.weight) / Double(totalWeight)
    }

    /// Answers in one window: the weights' period (5 for 80/20).
    public var windowSize: Int {
        totalWeight / entries.reduce(0) { greatestCommonDivisor($0, $1.weight) }
    }

    /// How many answers of each entry an exact window holds (4 and 1 for 80/20), in `entries` order.
    public var countsPerWindow: [Int] {
        let size = windowSize
        return entries.map { $0.weight * size / totalWeight }
    }
}

/// A command-line mistake: `kanaria loadtest` exits 2 with this message.
public struct UsageError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

func greatestCommonDivisor(_ a: Int, _ b: Int) -> Int {
    var (a, b) = (abs(a), abs(b))
    while b != 0 { (a, b) = (b, a % b) }
    return a
}
