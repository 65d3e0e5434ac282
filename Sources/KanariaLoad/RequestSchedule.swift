/// When each request is due, in one thread. Closed loop: a request is due whenever a connection is free, until the
/// budget (a count, or a deadline) runs out. Open loop: request i is due at `start + i / rate`, a fixed schedule
/// whatever the answers do, and its latency is measured from that intended time, so a proxy that queues cannot hide
/// the queue (the correction wrk2 and vegeta make).
///
/// At 20,000 per second the interval is 50,000 ns: request 0 at start, request 3 at start + 150 µs.
public struct RequestSchedule: Sendable {
    public enum Budget: Sendable, Equatable {
        case requests(Int)
        /// Nanoseconds from the start.
        case duration(UInt64)
    }

    public let budget: Budget
    /// Nanoseconds between requests in open loop; nil in closed loop.
    public let interval: Double?
    public private(set) var start: UInt64 = 0
    /// Requests handed out so far.
    public private(set) var issued = 0

    /// - Parameter rate: requests per second for this thread (open loop); nil for closed loop.
    public init(budget: Budget, rate: Double?) {
        self.budget = budget
        interval = rate.map { 1_000_000_000 / $0 }
    }

    public mutating func begin(at now: UInt64) { start = now }

    /// The intended send time of the next request if it is due at `now`, counting it as issued; nil if none is due
    /// now (`nextDue` says when one will be) or the budget is spent.
    public mutating func take(now: UInt64) -> UInt64? {
        let due: UInt64
        if let interval {
            due = start + UInt64((Double(issued) * interval).rounded())
            guard due <= now else { return nil }
        } else {
            due = now
        }
        guard within(due) else { return nil }
        issued += 1
        return due
    }

    /// Open loop: when the next request is due (nil when the budget is spent, and in closed loop).
    public var nextDue: UInt64? {
        guard let interval else { return nil }
        let due = start + UInt64((Double(issued) * interval).rounded())
        return within(due) ? due : nil
    }

    /// No more requests will be handed out.
    public func isSpent(now: UInt64) -> Bool {
        switch budget {
        case .requests(let count): issued >= count
        case .duration(let length): (nextDue ?? now) >= start + length
        }
    }

    private func within(_ due: UInt64) -> Bool {
        switch budget {
        case .requests(let count): issued < count
        case .duration(let length): due < start + length
        }
    }
}
