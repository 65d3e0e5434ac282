/// Puts the answers of a lane back in the order their requests were sent, for the window check: with several
/// HTTP/2 streams in flight the answers may come back in any order, while the proxy drew their versions in the
/// order it received the requests. Sequence numbers are handed out by `open()`; `complete` releases every answer
/// whose predecessors are all in, in order. A failed request (nil) keeps its place and is skipped.
///
/// Opened 0, 1, 2; completed 1 (v2), then 0 (v1), then 2 (v1): released v1, v2 (when 0 completes), then v1.
struct LaneOrder {
    private var nextToOpen = 0
    private var nextToRelease = 0
    /// Completed answers not yet released, by sequence.
    private var held: [Int: Int?] = [:]

    mutating func open() -> Int {
        defer { nextToOpen += 1 }
        return nextToOpen
    }

    mutating func complete(_ sequence: Int, version: Int?, release: (Int) -> Void) {
        guard sequence == nextToRelease else {
            held[sequence] = version
            return
        }
        if let version { release(version) }
        nextToRelease += 1
        while let waiting = held.removeValue(forKey: nextToRelease) {
            if let waiting { release(waiting) }
            nextToRelease += 1
        }
    }
}
