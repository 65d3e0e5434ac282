import Testing
@testable import KanariaLoad

@Suite struct RequestScheduleTests {
    /// At 20,000/s request i is due at start + 50 µs × i, whenever it is taken: a late taker gets the intended time.
    @Test func openLoopDueTimesFollowTheRate() {
        var schedule = RequestSchedule(budget: .requests(10), rate: 20_000)
        schedule.begin(at: 1_000_000)
        #expect(schedule.take(now: 1_000_000) == 1_000_000)
        #expect(schedule.take(now: 1_000_000) == nil)
        #expect(schedule.nextDue == 1_050_000)
        #expect(schedule.take(now: 1_200_000) == 1_050_000)
        #expect(schedule.take(now: 1_200_000) == 1_100_000)
        #expect(schedule.take(now: 1_200_000) == 1_150_000)
        #expect(schedule.take(now: 1_200_000) == 1_200_000)
        #expect(schedule.take(now: 1_200_000) == nil)
    }

    /// A duration budget stops handing out requests due at or after the end: 1 s at 1,000/s is exactly 1,000.
    @Test func openLoopDurationIssuesRateTimesSeconds() {
        var schedule = RequestSchedule(budget: .duration(1_000_000_000), rate: 1000)
        schedule.begin(at: 0)
        var count = 0
        while schedule.take(now: 5_000_000_000) != nil { count += 1 }
        #expect(count == 1000)
        #expect(schedule.nextDue == nil)
        #expect(schedule.isSpent(now: 5_000_000_000))
    }

    /// Closed loop: every free connection gets a request at once until the count is spent.
    @Test func closedLoopHandsOutTheCount() {
        var schedule = RequestSchedule(budget: .requests(3), rate: nil)
        schedule.begin(at: 10)
        #expect(schedule.take(now: 10) == 10)
        #expect(schedule.take(now: 11) == 11)
        #expect(!schedule.isSpent(now: 11))
        #expect(schedule.take(now: 12) == 12)
        #expect(schedule.take(now: 13) == nil)
        #expect(schedule.isSpent(now: 13))
    }

    /// Closed loop with a duration: requests until the deadline, none after.
    @Test func closedLoopStopsAtTheDeadline() {
        var schedule = RequestSchedule(budget: .duration(100), rate: nil)
        schedule.begin(at: 1000)
        #expect(schedule.take(now: 1099) == 1099)
        #expect(schedule.take(now: 1100) == nil)
        #expect(schedule.isSpent(now: 1100))
    }

    /// Threads share requests as evenly as they can: 10 over 3 is 4, 3, 3.
    @Test func requestsAreSharedBetweenThreads() {
        #expect((0..<3).map { LoadPlan.share(of: 10, thread: $0, threads: 3) } == [4, 3, 3])
    }
}
