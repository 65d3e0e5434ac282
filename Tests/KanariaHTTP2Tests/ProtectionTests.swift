import KanariaHTTP
import KanariaHTTP2
import Testing

/// Hand-made hostile or malformed input to a server session: what it answers, and that nothing malformed ever
/// becomes a `.request` event (which is what would reach an upstream).
@Suite struct ProtectionTests {
    // MARK: Floods

    /// HEADERS + RST_STREAM pairs in one read: no request is announced, and the connection ends with GOAWAY.
    @Test func rapidResetFloodEndsTheConnection() {
        let probe = ServerProbe()
        var bytes = Frames.clientStart
        for i in 0..<1_000 {
            let stream = Int32(2 * i + 1)
            bytes += Frames.headersFrame(stream: stream, fields: Frames.requestFields(), endStream: false)
            bytes += Frames.rst(stream: stream)
        }
        probe.feed(bytes)
        #expect(probe.events == [.goAwaySent(lastStreamID: 199, error: .enhanceYourCalm)])  // no request at all
        let goAway = probe.goAway
        #expect(goAway?.errorCode == HTTP2ErrorCode.enhanceYourCalm.rawValue)
        #expect(probe.session.counters.prematureResets == 100)
        #expect(probe.session.activeStreams == 0)
        #expect(!probe.session.wantsRead)
    }

    /// The same flood one read at a time: requests are announced and closed, then the connection ends after
    /// `prematureResetLimit` (100) resets, long before nghttp2's token bucket (burst 200) would.
    @Test func rapidResetAcrossReadsEndsTheConnection() {
        let probe = ServerProbe()
        probe.feed(Frames.clientStart)
        var fed = 0
        for i in 0..<300 where probe.goAway == nil {
            let stream = Int32(2 * i + 1)
            probe.feed(Frames.headersFrame(stream: stream, fields: Frames.requestFields(), endStream: false))
            probe.feed(Frames.rst(stream: stream))
            for event in probe.events { if case .streamClosed(let s, _) = event { probe.session.release(stream: s) } }
            fed += 1
        }
        #expect(fed == 100)
        #expect(probe.goAway?.errorCode == HTTP2ErrorCode.enhanceYourCalm.rawValue)
        #expect(probe.requests.count == 100)
        #expect(probe.session.activeStreams == 0)
    }

    /// nghttp2's own RST_STREAM token bucket, set to burst 200: the 201st reset ends the connection.
    @Test func streamResetRateLimitEndsTheConnection() {
        var configuration = HTTP2Configuration()
        configuration.prematureResetLimit = .max
        let probe = ServerProbe(configuration: configuration)
        var bytes = Frames.clientStart
        for i in 0..<300 {
            let stream = Int32(2 * i + 1)
            bytes += Frames.headersFrame(stream: stream, fields: Frames.requestFields(), endStream: false)
            bytes += Frames.rst(stream: stream)
        }
        probe.feed(bytes)
        #expect(probe.requests.isEmpty)
        let goAway = probe.goAway
        #expect(goAway?.errorCode == HTTP2ErrorCode.internalError.rawValue)
        // The stream the 201st RST_STREAM was for is the last one nghttp2 processed.
        #expect(goAway?.lastStreamID == 401)
    }

    /// Endless CONTINUATION frames are a fatal error at the fifth; the request is never announced.
    @Test func continuationFloodEndsTheConnection() {
        let probe = ServerProbe()
        var bytes = Frames.clientStart
        let block = Frames.block(Frames.requestFields())
        bytes += Frames.frame(Frames.headers, flags: Frames.endStream, stream: 1, payload: block)
        for i in 0..<20 {
            bytes += Frames.frame(Frames.continuation, flags: 0, stream: 1, payload: Frames.block([("x-pad-\(i)", "y")]))
        }
        let error = probe.feed(bytes)
        // nghttp2 gives up on the session at once (no GOAWAY): the caller closes the connection.
        #expect(error?.isFatal == true)
        #expect(error?.description.contains("CONTINUATION") == true)
        #expect(probe.requests.isEmpty)
        #expect(probe.session.activeStreams <= 1)
    }

    /// Four CONTINUATION frames are allowed and the request is announced whole; a fifth is fatal.
    @Test func fourContinuationsAreAcceptedNotFive() {
        let probe = ServerProbe()
        var bytes = Frames.clientStart
        bytes += Frames.frame(Frames.headers, flags: Frames.endStream, stream: 1, payload: Frames.block(Frames.requestFields()))
        for i in 0..<4 {
            let last = i == 3
            bytes += Frames.frame(Frames.continuation, flags: last ? Frames.endHeaders : 0, stream: 1, payload: Frames.block([("x-part-\(i)", "v")]))
        }
        probe.feed(bytes)
        #expect(probe.requests == [1])
        #expect(probe.goAway == nil)

        let fifth = ServerProbe()
        bytes = Frames.clientStart
        bytes += Frames.frame(Frames.headers, flags: Frames.endStream, stream: 1, payload: Frames.block(Frames.requestFields()))
        for i in 0..<5 {
            bytes += Frames.frame(Frames.continuation, flags: i == 4 ? Frames.endHeaders : 0, stream: 1, payload: Frames.block([("x-part-\(i)", "v")]))
        }
        #expect(fifth.feed(bytes)?.isFatal == true)
        #expect(fifth.requests.isEmpty)
    }

    /// A header block left waiting for its CONTINUATION shows as an incomplete head (for the header timeout)
    /// and becomes a request only when it ends.
    @Test func trickledHeaderBlockIsVisibleAsIncomplete() {
        let probe = ServerProbe()
        let block = Frames.block(Frames.requestFields())
        probe.feed(Frames.clientStart + Frames.frame(Frames.headers, flags: Frames.endStream, stream: 1, payload: Array(block.prefix(10))))
        #expect(probe.session.incompleteHeads == 1)
        #expect(probe.requests.isEmpty)
        probe.feed(Frames.frame(Frames.continuation, flags: Frames.endHeaders, stream: 1, payload: Array(block.dropFirst(10))))
        #expect(probe.session.incompleteHeads == 0)
        #expect(probe.requests == [1])
    }

    // MARK: Concurrency

    /// Before our SETTINGS are acknowledged, a 101st open stream is refused with REFUSED_STREAM.
    @Test func streamOverTheLimitIsRefusedBeforeSettingsAck() {
        let probe = ServerProbe()
        var bytes = Frames.clientStart
        for i in 0..<101 {
            bytes += Frames.headersFrame(stream: Int32(2 * i + 1), fields: Frames.requestFields(), endStream: false)
        }
        probe.feed(bytes)
        #expect(probe.requests.count == 100)
        #expect(!probe.requests.contains(201))
        #expect(probe.resets(of: 201) == [HTTP2ErrorCode.refusedStream.rawValue])
        #expect(probe.goAway == nil)
    }

    /// Once the client has acknowledged MAX_CONCURRENT_STREAMS 100, a 101st stream is a connection error.
    @Test func streamOverTheLimitAfterSettingsAckEndsTheConnection() {
        let probe = ServerProbe()
        probe.feed(Frames.clientStart + Frames.settingsAck)
        var bytes: [UInt8] = []
        for i in 0..<101 {
            bytes += Frames.headersFrame(stream: Int32(2 * i + 1), fields: Frames.requestFields(), endStream: false)
        }
        probe.feed(bytes)
        #expect(probe.requests.count == 100)
        #expect(probe.goAway?.errorCode == HTTP2ErrorCode.protocolError.rawValue)
    }

    /// The advertised SETTINGS: 100 streams, a 65,535-byte window, a 60 KiB header list, and no
    /// SETTINGS_NO_RFC7540_PRIORITIES (with it, nghttp2 would forget closed streams at once).
    @Test func serverAdvertisesItsLimits() {
        let probe = ServerProbe()
        probe.feed(Frames.clientStart)
        let settings = probe.frames.first { $0.type == Frames.settings && $0.flags == 0 }
        var values: [UInt16: UInt32] = [:]
        if let payload = settings?.payload {
            for i in stride(from: 0, to: payload.count, by: 6) {
                let id = UInt16(payload[i]) << 8 | UInt16(payload[i + 1])
                values[id] = UInt32(payload[i + 2]) << 24 | UInt32(payload[i + 3]) << 16 | UInt32(payload[i + 4]) << 8 | UInt32(payload[i + 5])
            }
        }
        #expect(values == [0x3: 100, 0x4: 65_535, 0x6: 61_440])
        let window = probe.frames.first { $0.type == Frames.windowUpdate && $0.stream == 0 }
        #expect(window?.payload == Frames.be32(UInt32((1 << 20) - 65_535)))
    }

    // MARK: Header lists

    /// A header list over 60 KiB (here 60 fields of 1 KB, HPACK-indexed into a small block) is answered 431
    /// by the session; the request is never announced.
    @Test func oversizedHeaderListIsAnswered431() throws {
        let wire = Wire()
        let block = ExchangeTests.getBlock("/")
        let big = String(repeating: "v", count: 1_000)
        for _ in 0..<60 { var value = big; value.withUTF8 { block.append(name: "x-big", value: UnsafeRawBufferPointer($0)) } }
        let stream = try wire.client.submitRequest(headers: block, method: .get, endStream: true)
        var serverEvents: [HTTP2Event] = []
        wire.onServerEvent = { serverEvents.append($0) }
        var clientEvents: [HTTP2Event] = []
        wire.onClientEvent = { clientEvents.append($0) }
        try wire.pump()
        #expect(serverEvents.isEmpty)
        #expect(wire.client.response(stream: stream)?.head.status == 431)
        #expect(clientEvents.last == .streamClosed(stream: stream, error: .noError))
        #expect(wire.server.counters.oversizedHeaderLists == 1)
        #expect(wire.server.activeStreams == 0)
    }

    /// More than 100 fields, however small, is answered 431 too.
    @Test func tooManyFieldsIsAnswered431() throws {
        let probe = ServerProbe()
        var fields = Frames.requestFields()
        for i in 0..<101 { fields.append(("x-\(i)", "1")) }
        probe.feed(Frames.clientStart + Frames.headersFrame(stream: 1, fields: fields))
        #expect(probe.requests.isEmpty)
        #expect(probe.headers(on: 1).count == 1)
        #expect(probe.session.counters.oversizedHeaderLists == 1)
    }

    /// Oversized trailers reset the stream (the head already went out).
    @Test func oversizedTrailersResetTheStream() {
        let probe = ServerProbe()
        probe.feed(Frames.clientStart + Frames.headersFrame(stream: 1, fields: Frames.requestFields(method: "POST"), endStream: false))
        var trailers: [(String, String)] = []
        for i in 0..<70 { trailers.append(("x-t\(i)", String(repeating: "t", count: 1_000))) }
        var block = Frames.block(trailers)
        var bytes: [UInt8] = []
        bytes += Frames.frame(Frames.headers, flags: Frames.endStream, stream: 1, payload: Array(block.prefix(16_000)))
        block.removeFirst(16_000)
        while !block.isEmpty {
            let part = Array(block.prefix(16_000))
            block.removeFirst(part.count)
            bytes += Frames.frame(Frames.continuation, flags: block.isEmpty ? Frames.endHeaders : 0, stream: 1, payload: part)
        }
        probe.feed(bytes)
        #expect(probe.requests == [1])
        #expect(!probe.events.contains(.trailers(stream: 1)))
        #expect(probe.resets(of: 1) == [HTTP2ErrorCode.protocolError.rawValue])
    }

    // MARK: Malformed requests

    /// Who refuses a malformed request: nghttp2's HTTP messaging rules, nghttp2's field validation through the
    /// session's on_invalid_header callback (without it nghttp2 would drop the field and pass the request), or
    /// the session's own checks.
    enum Catcher: Sendable { case nghttp2, invalidField, session }

    /// Each malformed request is reset with PROTOCOL_ERROR and never announced; the connection goes on.
    @Test(arguments: [
        ("uppercase field name", Frames.requestFields(extra: [("X-Upper", "1")]), .nghttp2),
        ("connection", Frames.requestFields(extra: [("connection", "keep-alive")]), .nghttp2),
        ("keep-alive", Frames.requestFields(extra: [("keep-alive", "5")]), .nghttp2),
        ("proxy-connection", Frames.requestFields(extra: [("proxy-connection", "close")]), .nghttp2),
        ("transfer-encoding", Frames.requestFields(extra: [("transfer-encoding", "chunked")]), .nghttp2),
        ("upgrade", Frames.requestFields(extra: [("upgrade", "websocket")]), .nghttp2),
        ("te other than trailers", Frames.requestFields(extra: [("te", "gzip")]), .nghttp2),
        ("missing :path", [(":method", "GET"), (":scheme", "http"), (":authority", "a")], .nghttp2),
        ("missing :method", [(":scheme", "http"), (":authority", "a"), (":path", "/")], .nghttp2),
        ("missing :scheme", [(":method", "GET"), (":authority", "a"), (":path", "/")], .nghttp2),
        ("empty :path", Frames.requestFields(path: ""), .nghttp2),
        ("duplicate :path", Frames.requestFields(extra: []) + [(":path", "/again")], .nghttp2),
        ("pseudo-header after a field", [(":method", "GET"), (":scheme", "http"), ("accept", "*/*"), (":path", "/")], .nghttp2),
        ("unknown pseudo-header", Frames.requestFields(extra: []) + [(":shark", "1")], .nghttp2),
        (":status in a request", Frames.requestFields(extra: []) + [(":status", "200")], .nghttp2),
        ("path without a leading slash", Frames.requestFields(path: "shark"), .nghttp2),
        ("absolute path", Frames.requestFields(path: "http://evil/"), .nghttp2),
        ("asterisk with GET", Frames.requestFields(path: "*"), .nghttp2),
        ("space in path", Frames.requestFields(path: "/a b"), .nghttp2),
        ("non-ASCII in path", Frames.requestFields(path: "/caf\u{e9}"), .session),
        ("host other than :authority", Frames.requestFields(extra: [("host", "other.example")]), .session),
        ("two host fields", [(":method", "GET"), (":scheme", "http"), (":path", "/"), ("host", "a"), ("host", "a")], .nghttp2),
        ("control character in value", Frames.requestFields(extra: [("x-a", "1\u{1}2")]), .invalidField),
        ("newline in value", Frames.requestFields(extra: [("x-a", "1\r\nx-b: 2")]), .invalidField),
        ("trailing space in value", Frames.requestFields(extra: [("x-a", "1 ")]), .invalidField),
        ("space in field name", Frames.requestFields(extra: [("x a", "1")]), .invalidField),
        ("empty field name", Frames.requestFields(extra: [("", "1")]), .invalidField),
        ("invalid content-length", Frames.requestFields(method: "POST", extra: [("content-length", "abc")]), .nghttp2),
        ("two content-lengths", Frames.requestFields(method: "POST", extra: [("content-length", "1"), ("content-length", "2")]), .nghttp2),
        ("neither :authority nor host", [(":method", "GET"), (":scheme", "https"), (":path", "/")], .nghttp2),
        ("CONNECT with a path", [(":method", "CONNECT"), (":authority", "a:443"), (":path", "/")], .nghttp2),
    ] as [(String, [(String, String)], Catcher)])
    func malformedRequestIsReset(_ name: String, _ fields: [(String, String)], _ catcher: Catcher) {
        let probe = ServerProbe()
        probe.feed(Frames.clientStart + Frames.headersFrame(stream: 1, fields: fields))
        let counters = probe.session.counters
        #expect(counters.malformedRequests == (catcher == .session ? 1 : 0), "\(name)")
        #expect(counters.invalidHeaderFields == (catcher == .invalidField ? 1 : 0), "\(name)")
        #expect(probe.requests.isEmpty, "\(name)")
        #expect(probe.events.isEmpty, "\(name)")
        #expect(probe.resets(of: 1) == [HTTP2ErrorCode.protocolError.rawValue], "\(name)")
        #expect(probe.headers(on: 1).isEmpty, "\(name)")
        #expect(probe.goAway == nil, "\(name)")
        #expect(probe.session.activeStreams == 0, "\(name)")
        // The connection still serves the next request.
        probe.feed(Frames.headersFrame(stream: 3, fields: Frames.requestFields()))
        #expect(probe.requests == [3], "\(name)")
    }

    /// What RFC 9113 allows is accepted: te: trailers, a matching Host, OPTIONS *, no :authority.
    @Test(arguments: [
        ("te: trailers", Frames.requestFields(extra: [("te", "trailers")])),
        ("host equal to :authority", Frames.requestFields(extra: [("host", "EXAMPLE.com")])),
        ("OPTIONS *", Frames.requestFields(path: "*", method: "OPTIONS")),
        ("host without :authority", [(":method", "GET"), (":scheme", "http"), (":path", "/"), ("host", "h.example")]),
    ] as [(String, [(String, String)])])
    func wellFormedRequestIsAnnounced(_ name: String, _ fields: [(String, String)]) {
        let probe = ServerProbe()
        probe.feed(Frames.clientStart + Frames.headersFrame(stream: 1, fields: fields))
        #expect(probe.requests == [1], "\(name)")
        #expect(probe.resets(of: 1).isEmpty, "\(name)")
    }

    // MARK: Content-length against DATA

    /// DATA beyond content-length: the excess is never delivered and the stream is reset.
    @Test func bodyLongerThanContentLengthIsReset() {
        let probe = ServerProbe()
        var bytes = Frames.clientStart
        bytes += Frames.headersFrame(stream: 1, fields: Frames.requestFields(method: "POST", extra: [("content-length", "5")]), endStream: false)
        bytes += Frames.dataFrame(stream: 1, Array("0123456789".utf8), endStream: true)
        probe.feed(bytes)
        #expect(probe.session.receivedBodyCount(stream: 1) == 0)
        #expect(probe.events == [.request(stream: 1), .streamClosed(stream: 1, error: .protocolError)])
        #expect(probe.resets(of: 1) == [HTTP2ErrorCode.protocolError.rawValue])
    }

    /// Fewer DATA bytes than content-length before END_STREAM: the end is never announced; the stream is reset.
    @Test func bodyShorterThanContentLengthIsReset() {
        let probe = ServerProbe()
        probe.feed(Frames.clientStart + Frames.headersFrame(stream: 1, fields: Frames.requestFields(method: "POST", extra: [("content-length", "10")]), endStream: false))
        #expect(probe.requests == [1])
        #expect(probe.session.request(stream: 1)?.head.framing == .contentLength(10))
        probe.feed(Frames.dataFrame(stream: 1, Array("01234".utf8), endStream: true))
        #expect(!probe.events.contains(.endOfStream(stream: 1)))
        #expect(probe.events.last == .streamClosed(stream: 1, error: .protocolError))
        #expect(probe.resets(of: 1) == [HTTP2ErrorCode.protocolError.rawValue])
    }

    /// A head that ends the stream while promising a body is never announced.
    @Test func endStreamWithContentLengthIsReset() {
        let probe = ServerProbe()
        probe.feed(Frames.clientStart + Frames.headersFrame(stream: 1, fields: Frames.requestFields(method: "POST", extra: [("content-length", "3")]), endStream: true))
        #expect(probe.events.isEmpty)
        #expect(probe.resets(of: 1) == [HTTP2ErrorCode.protocolError.rawValue])
    }

    /// Streams made to fail by the client (here, content-length lies) count as premature resets: after 100 of
    /// them, mostly failures, the connection ends with ENHANCE_YOUR_CALM.
    @Test func provokedResetsEndTheConnection() {
        let probe = ServerProbe()
        var bytes = Frames.clientStart
        for i in 0..<150 {
            bytes += Frames.headersFrame(stream: Int32(2 * i + 1), fields: Frames.requestFields(method: "POST", extra: [("content-length", "3")]), endStream: true)
        }
        probe.feed(bytes)
        #expect(probe.requests.isEmpty)
        #expect(probe.goAway?.errorCode == HTTP2ErrorCode.enhanceYourCalm.rawValue)
        #expect(probe.session.counters.prematureResets == 100)
    }

    /// PINGs sent faster than their ACKs are written: past nghttp2's 1,000 queued ACKs the session is flooded.
    @Test func pingFloodIsAnError() {
        let probe = ServerProbe()
        var bytes = Frames.clientStart
        for i in 0..<2_000 { bytes += Frames.frame(Frames.ping, flags: 0, stream: 0, payload: Frames.be32(UInt32(i)) + Frames.be32(0)) }
        let error = probe.feed(bytes)
        #expect(error?.isFatal == true)
        #expect(error?.code == -904)  // NGHTTP2_ERR_FLOODED
        #expect(probe.requests.isEmpty)
    }

    /// Client role: an upstream response head over the limit is reset, never announced as a response.
    @Test func oversizedResponseHeadIsReset() throws {
        let wire = Wire()
        let stream = try wire.client.submitRequest(headers: ExchangeTests.getBlock("/"), method: .get, endStream: true)
        wire.onServerEvent = { event in
            if case .request(let s) = event {
                let block = HTTP2HeaderBlock()
                block.append(name: ":status", decimal: 200)
                let big = String(repeating: "v", count: 1_000)
                for _ in 0..<60 { var value = big; value.withUTF8 { block.append(name: "x-big", value: UnsafeRawBufferPointer($0)) } }
                try wire.server.submitResponse(stream: s, headers: block, endStream: true)
            }
            if case .streamClosed(let s, _) = event { wire.server.release(stream: s) }
        }
        var clientEvents: [HTTP2Event] = []
        wire.onClientEvent = { clientEvents.append($0) }
        try wire.pump()
        #expect(clientEvents == [.streamClosed(stream: stream, error: .internalError)])
        #expect(wire.client.counters.oversizedHeaderLists == 1)
    }

    /// "MadeYouReset" (CVE-2025-8671, not fixed in Debian's 1.52): streams opened and then made to fail by a
    /// frame nghttp2 answers with its own RST_STREAM (here DATA beyond content-length), which the RST_STREAM token
    /// bucket does not count, each after its request reached the caller. The premature-reset limit ends the
    /// connection at the 100th. (WINDOW_UPDATE 0 on a stream, the other classic trigger, is already a connection
    /// error in nghttp2 1.52.)
    @Test func madeYouResetEndsTheConnection() {
        let probe = ServerProbe()
        probe.feed(Frames.clientStart)
        var rounds = 0
        for i in 0..<150 where probe.goAway == nil {
            let stream = Int32(2 * i + 1)
            var bytes = Frames.headersFrame(stream: stream, fields: Frames.requestFields(method: "POST", extra: [("content-length", "1")]), endStream: false)
            bytes += Frames.dataFrame(stream: stream, [1, 2], endStream: false)
            probe.feed(bytes)
            for event in probe.events { if case .streamClosed(let s, _) = event { probe.session.release(stream: s) } }
            rounds += 1
        }
        #expect(rounds == 100)
        #expect(probe.requests.count == 100)
        #expect(probe.goAway?.errorCode == HTTP2ErrorCode.enhanceYourCalm.rawValue)
        #expect(probe.session.counters.prematureResets == 100)
        #expect(probe.session.activeStreams == 0)
    }

    /// Bytes that are not the HTTP/2 preface end the session with an error.
    @Test func badPrefaceIsAnError() {
        let probe = ServerProbe()
        let error = probe.feed(Array("GET / HTTP/1.1\r\nHost: a\r\n\r\n".utf8))
        #expect(error != nil)
        #expect(error?.isFatal == true)
    }
}
