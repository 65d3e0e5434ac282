/// Exactness per window on one lane (a connection slot: the keep-alive connection, or the run of fresh connections
/// that take turns in it): over every `size` consecutive answers, how far each version's count is from what an exact
/// split puts in a window, and the largest such distance so far.
///
/// For 80/20 (size 5, expected 4 v1 and 1 v2) the answers v1 v1 v2 v1 v1 v1 v2 … give 0 in every window;
/// v1 v1 v1 v1 v1 gives 1 (one v2 missing and one v1 too many). Windows start at every answer, not only at multiples
/// of `size`: a split that is exact only in aligned blocks still shows.
public struct WindowTracker: Sendable {
    public let size: Int
    private let expected: [Int]
    private var ring: [Int]
    private var next = 0
    private var filled = 0
    private var counts: [Int]
    /// One past the highest version index seen or expected: the counts worth checking.
    private var span: Int
    /// The largest |observed − expected| count of any version over any complete window so far.
    public private(set) var maxDeviation = 0
    /// Complete windows checked.
    public private(set) var windows = 0

    /// - Parameters:
    ///   - size: answers per window (the expected split's period); 0 disables the tracker.
    ///   - expectedCounts: per version index, the count an exact window holds (indices past the end expect 0).
    public init(size: Int, expectedCounts: [Int]) {
        self.size = size
        expected = expectedCounts
        ring = Array(repeating: 0, count: max(size, 1))
        counts = Array(repeating: 0, count: VersionTable.capacity)
        span = expectedCounts.count
    }

    /// One more answer on this lane, of version index `version`.
    public mutating func record(_ version: Int) {
        guard size > 0 else { return }
        if filled == size {
            counts[ring[next]] -= 1
        } else {
            filled += 1
        }
        ring[next] = version
        counts[version] += 1
        if version >= span { span = version + 1 }
        next = next + 1 == size ? 0 : next + 1
        guard filled == size else { return }
        windows += 1
        for i in 0..<span {
            let want = i < expected.count ? expected[i] : 0
            let deviation = abs(counts[i] - want)
            if deviation > maxDeviation { maxDeviation = deviation }
        }
    }
}
