import Synchronization

/// Where load threads publish their counts ten times a second, for the progress line and the chart: a lock taken
/// by each thread once per 100 ms, never per request.
public final class ProgressBoard: Sendable {
    public struct Snapshot: Sendable {
        /// Answers per version name, over all threads.
        public var answers: [String: Int] = [:]
        public var errors = 0
        public var total: Int { answers.values.reduce(0, +) + errors }
    }

    private let threads: Mutex<[Snapshot]>

    public init(threads: Int) {
        self.threads = Mutex(Array(repeating: Snapshot(), count: threads))
    }

    func publish(thread: Int, tally: LoadTally) {
        var snapshot = Snapshot()
        for (index, name) in tally.versions.names.enumerated() where tally.perVersion[index].count > 0 {
            snapshot.answers[name] = tally.perVersion[index].count
        }
        snapshot.errors = tally.transportErrors
        threads.withLock { $0[thread] = snapshot }
    }

    /// The sum of the latest counts of every thread.
    public func read() -> Snapshot {
        threads.withLock { all in
            var sum = Snapshot()
            for snapshot in all {
                for (name, count) in snapshot.answers { sum.answers[name, default: 0] += count }
                sum.errors += snapshot.errors
            }
            return sum
        }
    }
}
