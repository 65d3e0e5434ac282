import Testing
@testable import KanariaLoad

@Suite struct WindowTrackerTests {
    /// Index 0 is `other`; 1 is v1, 2 is v2; an exact 80/20 window holds 4 v1 and 1 v2.
    private func tracker() -> WindowTracker { WindowTracker(size: 5, expectedCounts: [0, 4, 1]) }

    /// Smooth weighted round-robin's v1 v1 v2 v1 v1, repeated, is exact in every window, aligned or not.
    @Test func smoothRoundRobinIsExactInEveryWindow() {
        var windows = tracker()
        for _ in 0..<200 { for version in [1, 1, 2, 1, 1] { windows.record(version) } }
        #expect(windows.maxDeviation == 0)
        #expect(windows.windows == 996)
    }

    /// Five v1 in a row miss a v2: deviation 1.
    @Test func missingVersionDeviatesByOne() {
        var windows = tracker()
        for version in [1, 1, 2, 1, 1, 1, 1, 1, 1, 1] { windows.record(version) }
        #expect(windows.maxDeviation == 1)
    }

    /// A split exact only in aligned blocks (v2 at the end of one block and the start of the next) still shows.
    @Test func unalignedWindowsAreChecked() {
        var windows = tracker()
        for version in [1, 1, 1, 1, 2, 2, 1, 1, 1, 1] { windows.record(version) }
        #expect(windows.maxDeviation == 1)
    }

    /// An answer of a version no window expects (a 503 without x-version) counts as a deviation.
    @Test func otherAnswersDeviate() {
        var windows = tracker()
        for version in [1, 1, 0, 1, 1] { windows.record(version) }
        #expect(windows.maxDeviation == 1)
    }

    /// Fewer answers than a window check nothing; size 0 disables the tracker.
    @Test func incompleteWindowsAreNotChecked() {
        var windows = tracker()
        for version in [2, 2, 2, 2] { windows.record(version) }
        #expect(windows.windows == 0 && windows.maxDeviation == 0)
        var off = WindowTracker(size: 0, expectedCounts: [])
        off.record(3)
        #expect(off.windows == 0)
    }

    /// Answers completed out of order are released in sending order; a failed one keeps its place.
    @Test func laneOrderReleasesInSendingOrder() {
        var order = LaneOrder()
        let sequences = (0..<4).map { _ in order.open() }
        var released: [Int] = []
        order.complete(sequences[1], version: 2) { released.append($0) }
        #expect(released.isEmpty)
        order.complete(sequences[2], version: nil) { released.append($0) }
        order.complete(sequences[0], version: 1) { released.append($0) }
        #expect(released == [1, 2])
        order.complete(sequences[3], version: 1) { released.append($0) }
        #expect(released == [1, 2, 1])
    }
}
