/// The stream IDs a client has used, as far as RFC 9113 §5.1.1 needs them on a server: the highest one, and the
/// runs of IDs it skipped. "The first use of a new stream identifier implicitly closes all streams in the idle
/// state that might have been initiated by that peer with a lower-valued stream identifier", so a HEADERS frame on
/// a skipped ID opens nothing: it is a connection error of type PROTOCOL_ERROR. nghttp2 ignores such a frame (it
/// cannot tell a skipped ID from a closed stream it has forgotten), so the session tells them apart here.
///
/// Worked example: HEADERS on 1, then on 7: 3 and 5 are skipped. HEADERS on 5 is then a violation; HEADERS on 1
/// (trailers, or a frame on a closed stream) is not decided here but by nghttp2, which remembers closed streams.
///
/// Memory is bounded: the `remembered` most recent runs are kept, older ones are forgotten (a HEADERS frame on
/// a forgotten skipped ID is then ignored, as nghttp2 alone would). Clients that number their streams
/// consecutively, as clients do, never allocate anything here.
struct ClientStreamIDs {
    /// The lowest stream ID the client has not used yet: 1 at first, then the highest used + 2.
    private(set) var next = 1
    /// Runs of skipped IDs (odd IDs only, bounds included), oldest first.
    private var skipped: [ClosedRange<Int>] = []
    /// How many runs of skipped IDs are kept.
    static let remembered = 8

    /// Records a HEADERS frame (or an h2c upgrade) on `stream`, an odd client stream ID.
    /// - Returns: false when `stream` is an ID the client skipped earlier, which it can never open.
    mutating func use(_ stream: Int32) -> Bool {
        let id = Int(stream)
        guard id >= next else { return !wasSkipped(stream) }
        if id > next {
            if skipped.count == Self.remembered { skipped.removeFirst() }
            skipped.append(next...(id - 2))
        }
        next = id + 2
        return true
    }

    /// Whether `stream` lies in a remembered run of skipped IDs.
    func wasSkipped(_ stream: Int32) -> Bool {
        let id = Int(stream)
        for run in skipped where run.contains(id) { return true }
        return false
    }
}
