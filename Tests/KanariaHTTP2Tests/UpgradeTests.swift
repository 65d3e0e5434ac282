import KanariaHTTP
import KanariaHTTP2
import Testing

/// Starting HTTP/2 on a cleartext connection: prior knowledge (the preface) or an HTTP/1.1 Upgrade to h2c.
@Suite struct UpgradeTests {
    /// curl's upgrade request: Connection lists Upgrade and HTTP2-Settings, the settings are base64url.
    static let curlUpgrade = "GET /shark HTTP/1.1\r\nHost: sharks.example\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAoAAAAAIAAAAA\r\n\r\n"

    /// The upgrade request is recognised, and its settings value returned.
    @Test func h2cUpgradeIsRecognised() throws {
        let request = try ParsedRequest(Self.curlUpgrade)
        let settings = request.withMessage { HTTP2Session.h2cUpgradeSettings(of: request.head, message: $0).map { Array($0) } }
        #expect(settings == Array("AAMAAABkAAQAoAAAAAIAAAAA".utf8))
    }

    /// Not an h2c upgrade: another protocol, HTTP2-Settings not nominated by Connection, or a request body.
    @Test(arguments: [
        "GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nHTTP2-Settings: AAMAAABk\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABk\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABk\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABk\r\n\r\n",
    ])
    func otherRequestsAreNotUpgrades(_ text: String) throws {
        let request = try ParsedRequest(text)
        #expect(request.withMessage { HTTP2Session.h2cUpgradeSettings(of: request.head, message: $0) } == nil)
    }

    /// The upgraded session announces the HTTP/1.1 request as stream 1 and answers it over HTTP/2.
    @Test func upgradedSessionCarriesTheRequestOnStreamOne() throws {
        let request = try ParsedRequest(Self.curlUpgrade)
        let session = try request.withMessage { message in
            let settings = HTTP2Session.h2cUpgradeSettings(of: request.head, message: message)!
            return try HTTP2Session.upgraded(from: request.head, message: message, settings: settings)
        }
        var events: [HTTP2Event] = []
        while let event = session.nextEvent() { events.append(event) }
        #expect(events == [.request(stream: 1), .endOfStream(stream: 1)])
        let view = try #require(session.request(stream: 1))
        #expect(view.pathString == "/shark")
        #expect(view.authorityString == "sharks.example")
        #expect(view.head.headers.map { $0.line.string(in: view.message) } == ["user-agent: curl/7.88.1\r\n", "accept: */*\r\n"])

        try session.submitLocalResponse(stream: 1, status: 200, body: "shark")
        var bytes = Frames.clientStart
        bytes += Frames.settingsAck
        try bytes.withUnsafeBytes { _ = try session.receive($0) }
        try session.prepareOutput()
        var chunks: [UnsafeRawBufferPointer] = []
        let total = session.gatherOutput(into: &chunks)
        var output: [UInt8] = []
        for chunk in chunks { output += chunk }
        session.didWrite(total)
        let frames = Frames.parse(output)
        #expect(frames.first?.type == Frames.settings)
        #expect(frames.contains { $0.type == Frames.headers && $0.stream == 1 })
        let data = frames.filter { $0.type == Frames.data && $0.stream == 1 }
        #expect(data.map(\.payload) == [Array("shark".utf8)])
        #expect(data.last.map { $0.flags & Frames.endStream != 0 } == true)
        while let event = session.nextEvent() { events.append(event) }
        #expect(events.last == .streamClosed(stream: 1, error: .noError))
    }

    /// A settings value that is not base64url is refused.
    @Test func badSettingsValueIsRefused() throws {
        let request = try ParsedRequest("GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: !!!\r\n\r\n")
        #expect(throws: HTTP2Error.self) {
            try request.withMessage { message in
                let settings = HTTP2Session.h2cUpgradeSettings(of: request.head, message: message)!
                _ = try HTTP2Session.upgraded(from: request.head, message: message, settings: settings)
            }
        }
    }

    /// Prior knowledge: the preface is recognised whole, as a prefix, or not at all.
    @Test func prefaceIsMatched() {
        func match(_ text: String) -> HTTP2Preface {
            Array(text.utf8).withUnsafeBytes { HTTP2Preface.match($0) }
        }
        #expect(match("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0\0\u{4}") == .complete)
        #expect(match("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n") == .complete)
        #expect(match("PRI * HTTP/2") == .incomplete)
        #expect(match("") == .incomplete)
        #expect(match("GET / HTTP/1.1\r\n") == .mismatch)
        #expect(match("PRI * HTTP/1.1\r\n") == .mismatch)
    }
}
