@testable import KanariaHTTP2
import Testing

/// The RFC 9113 rules h2spec checks that nghttp2 applies only when the server keeps closed streams and processes
/// RFC 7540 priorities, plus the one the session checks itself (HEADERS on a skipped stream ID). Frames are made
/// by hand, as h2spec makes them.
@Suite struct ConformanceTests {
    static let streamClosed = HTTP2ErrorCode.streamClosed.rawValue
    static let protocolError = HTTP2ErrorCode.protocolError.rawValue

    /// A server probe past the handshake (the client's preface, SETTINGS and its ACK).
    static func started() -> ServerProbe {
        let probe = ServerProbe()
        probe.feed(Frames.clientStart + Frames.settingsAck)
        return probe
    }

    /// A GET on `stream` answered 204 and closed on both sides, and released as the proxy releases it.
    static func complete(_ stream: Int32, on probe: ServerProbe) throws {
        probe.feed(Frames.headersFrame(stream: stream, fields: Frames.requestFields()))
        #expect(probe.requests.last == stream)
        let block = HTTP2HeaderBlock()
        block.append(name: ":status", decimal: 204)
        try probe.session.submitResponse(stream: stream, headers: block, endStream: true)
        probe.flush()
        #expect(probe.events.contains(.streamClosed(stream: stream, error: .noError)))
        probe.session.release(stream: stream)
    }

    /// What the connection answered to the frames fed last: STREAM_CLOSED as a connection or stream error.
    static func answeredStreamClosed(_ probe: ServerProbe, stream: Int32) -> Bool {
        probe.goAway?.errorCode == streamClosed || probe.resets(of: stream).contains(streamClosed)
    }

    // MARK: Frames on closed streams (h2spec http2/5.1/8, 9, 11, 12)

    /// DATA after the client's own RST_STREAM is answered STREAM_CLOSED.
    @Test func dataAfterClientResetIsStreamClosed() {
        let probe = Self.started()
        probe.feed(Frames.headersFrame(stream: 1, fields: Frames.requestFields(method: "POST"), endStream: false)
            + Frames.rst(stream: 1) + Frames.dataFrame(stream: 1, Array("test".utf8), endStream: true))
        #expect(Self.answeredStreamClosed(probe, stream: 1))
    }

    /// HEADERS after the client's own RST_STREAM is answered STREAM_CLOSED.
    @Test func headersAfterClientResetIsStreamClosed() {
        let probe = Self.started()
        probe.feed(Frames.headersFrame(stream: 1, fields: Frames.requestFields(), endStream: false)
            + Frames.rst(stream: 1) + Frames.headersFrame(stream: 1, fields: Frames.requestFields()))
        #expect(Self.answeredStreamClosed(probe, stream: 1))
    }

    /// DATA on a stream whose exchange is complete is a connection error of type STREAM_CLOSED.
    @Test func dataAfterCompleteExchangeIsStreamClosed() throws {
        let probe = Self.started()
        try Self.complete(1, on: probe)
        probe.feed(Frames.dataFrame(stream: 1, Array("test".utf8), endStream: true))
        #expect(Self.answeredStreamClosed(probe, stream: 1))
    }

    /// HEADERS on a stream whose exchange is complete is a connection error of type STREAM_CLOSED (GOAWAY).
    @Test func headersAfterCompleteExchangeIsStreamClosed() throws {
        let probe = Self.started()
        try Self.complete(1, on: probe)
        probe.feed(Frames.headersFrame(stream: 1, fields: Frames.requestFields()))
        #expect(probe.goAway?.errorCode == Self.streamClosed)
        #expect(probe.requests == [1])
    }

    /// Frames a client sent before it saw the server's RST_STREAM (a body, trailers) are ignored, as RFC 9113 §5.1
    /// requires: the connection goes on and the next request is answered.
    @Test func framesAfterServerResetAreIgnored() {
        let probe = Self.started()
        probe.feed(Frames.headersFrame(stream: 1, fields: Frames.requestFields(method: "POST"), endStream: false))
        #expect(probe.requests == [1])
        probe.session.release(stream: 1)  // the proxy gives up on the request: RST_STREAM(CANCEL)
        probe.flush()
        #expect(probe.resets(of: 1) == [HTTP2ErrorCode.cancel.rawValue])
        probe.feed(Frames.dataFrame(stream: 1, Array("late body".utf8), endStream: false)
            + Frames.headersFrame(stream: 1, fields: [("x-trailer", "1")], endStream: true)
            + Frames.headersFrame(stream: 3, fields: Frames.requestFields()))
        #expect(probe.goAway == nil)
        #expect(probe.requests == [1, 3])
    }

    /// nghttp2 keeps at most SETTINGS_MAX_CONCURRENT_STREAMS (100) streams, open and closed together: after 150
    /// sequential exchanges the oldest 50 are forgotten (a frame on one is ignored) and the newest are still known.
    @Test func closedStreamsKeptAreBoundedByTheStreamLimit() throws {
        let probe = Self.started()
        for i in 0..<150 { try Self.complete(Int32(2 * i + 1), on: probe) }
        probe.feed(Frames.dataFrame(stream: 1, Array("x".utf8), endStream: true))
        #expect(probe.goAway == nil && probe.resets(of: 1).isEmpty)
        probe.feed(Frames.dataFrame(stream: 299, Array("x".utf8), endStream: true))
        #expect(Self.answeredStreamClosed(probe, stream: 299))
        #expect(probe.session.activeStreams == 0)
    }

    // MARK: Stream identifiers (h2spec http2/5.1.1/2)

    /// HEADERS on 5 and then on 3: stream 3 was skipped (implicitly closed), so this is a connection error of type
    /// PROTOCOL_ERROR, and stream 3 never becomes a request.
    @Test func headersOnSkippedStreamIDIsProtocolError() {
        let probe = Self.started()
        probe.feed(Frames.headersFrame(stream: 5, fields: Frames.requestFields())
            + Frames.headersFrame(stream: 3, fields: Frames.requestFields()))
        #expect(probe.goAway?.errorCode == Self.protocolError)
        #expect(probe.goAway?.lastStreamID == 5)
        #expect(probe.requests == [5])
    }

    /// After an h2c upgrade (stream 1), HEADERS on 3 is the next stream, not a skipped one.
    @Test func upgradedStreamCountsAsUsed() throws {
        let request = try ParsedRequest(UpgradeTests.curlUpgrade)
        let session = try request.withMessage { message in
            let settings = HTTP2Session.h2cUpgradeSettings(of: request.head, message: message)!
            return try HTTP2Session.upgraded(from: request.head, message: message, settings: settings)
        }
        let probe = ServerProbe(session: session)
        probe.feed(Frames.clientStart + Frames.settingsAck + Frames.headersFrame(stream: 3, fields: Frames.requestFields()))
        #expect(probe.goAway == nil)
        #expect(probe.requests == [1, 3])
    }

    // MARK: PRIORITY (h2spec http2/5.3.1/2, http2/6.3/1)

    /// A PRIORITY frame making a stream depend on itself is answered PROTOCOL_ERROR.
    @Test func priorityOnItselfIsProtocolError() {
        let probe = Self.started()
        probe.feed(Frames.headersFrame(stream: 1, fields: Frames.requestFields(), endStream: false)
            + Frames.priorityFrame(stream: 1, dependsOn: 1))
        #expect(probe.goAway?.errorCode == Self.protocolError || probe.resets(of: 1).contains(Self.protocolError))
    }

    /// PRIORITY on stream 0 is a connection error of type PROTOCOL_ERROR, also from a client that turned RFC 7540
    /// priorities off (SETTINGS_NO_RFC7540_PRIORITIES = 1), whose PRIORITY frames nghttp2 does not read.
    @Test(arguments: [false, true])
    func priorityOnStreamZeroIsProtocolError(clientTurnedPrioritiesOff: Bool) {
        let probe = ServerProbe()
        let settings = clientTurnedPrioritiesOff ? Frames.settingsFrame([(0x9, 1)]) : Frames.settingsFrame([])
        probe.feed(Frames.preface + settings + Frames.settingsAck + Frames.priorityFrame(stream: 0, dependsOn: 1))
        #expect(probe.goAway?.errorCode == Self.protocolError)
    }

    /// PRIORITY frames on idle, open and closed streams are fine (RFC 9113 §5.1): the connection goes on.
    @Test func priorityOnAnyNonZeroStreamIsAccepted() throws {
        let probe = Self.started()
        try Self.complete(1, on: probe)
        probe.feed(Frames.priorityFrame(stream: 1, dependsOn: 0) + Frames.priorityFrame(stream: 9, dependsOn: 0)
            + Frames.headersFrame(stream: 3, fields: Frames.requestFields()))
        #expect(probe.goAway == nil)
        #expect(probe.requests == [1, 3])
    }
}

extension ClientStreamIDs {
    /// `use` for each ID in turn.
    mutating func use(_ streams: [Int32]) -> [Bool] { streams.map { use($0) } }
}

/// The session's record of the stream IDs a client used and skipped.
@Suite struct ClientStreamIDsTests {
    /// Consecutive IDs skip nothing; an earlier one (trailers on an open stream) is not a skipped one.
    @Test func consecutiveIDsSkipNothing() {
        var ids = ClientStreamIDs()
        #expect(ids.use([1, 3, 5, 3, 1]) == [true, true, true, true, true])
    }

    /// 1 then 7 skips 3 and 5; HEADERS on either is refused, HEADERS on 1 or 9 is not.
    @Test func jumpSkipsTheIDsBetween() {
        var ids = ClientStreamIDs()
        #expect(ids.use([1, 7, 3, 5, 1, 9]) == [true, true, false, false, true, true])
    }

    /// A first stream of 5 skips 1 and 3.
    @Test func firstStreamAboveOneSkipsTheLowerIDs() {
        var ids = ClientStreamIDs()
        #expect(ids.use([5, 1, 3]) == [true, false, false])
    }

    /// Only the 8 most recent runs of skipped IDs are kept: the first run is forgotten after nine.
    @Test func onlyRecentSkippedRunsAreRemembered() {
        var ids = ClientStreamIDs()
        let jumps = (1...9).map { Int32(4 * $0 + 1) }  // 5, 9, …, 37: skips 1, 7, 11, …, 35
        _ = ids.use(jumps)
        #expect(ids.use([1, 7, 35]) == [true, false, false])
    }

    /// The highest stream ID (2^31 − 1) does not overflow the record.
    @Test func highestStreamIDIsRecorded() {
        var ids = ClientStreamIDs()
        #expect(ids.use([1, Int32.max, 3]) == [true, true, false])
    }
}
