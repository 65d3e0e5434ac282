import COpenSSL
import KanariaHTTP
import KanariaTLS
import Testing

/// The server context every test shares, as a Gateway server with protocol HTTPS builds it.
let httpsContext = try! TLSServerContext(certificateChainFile: Fixtures.path("localhost-chain.crt"),
                                         privateKeyFile: Fixtures.path("localhost.key"))

@Suite struct HandshakeTests {
    /// A client that offers h2 and http/1.1 completes the handshake, verifies the chain up to the root, and gets h2.
    @Test func negotiatesH2WhenOffered() {
        let pair = Pair(client: TestClient(alpn: ["h2", "http/1.1"]), context: httpsContext)
        #expect(pair.run())
        #expect(pair.client.verifyResult == Int(X509_V_OK))
        #expect(pair.server.negotiatedProtocol == .http2)
        #expect(pair.client.negotiatedProtocol == "h2")
        #expect(pair.server.protocolVersion == "TLSv1.3")
        #expect(pair.server.serverName == "localhost")
    }

    /// The server's preference wins: h2 even when the client lists http/1.1 first.
    @Test func prefersH2OverTheClientsOrder() {
        let pair = Pair(client: TestClient(alpn: ["http/1.1", "h2"]), context: httpsContext)
        #expect(pair.run())
        #expect(pair.server.negotiatedProtocol == .http2)
    }

    /// A client that offers only http/1.1 gets it.
    @Test func negotiatesHTTP11WhenOnlyThatIsOffered() {
        let pair = Pair(client: TestClient(alpn: ["http/1.1"]), context: httpsContext)
        #expect(pair.run())
        #expect(pair.server.negotiatedProtocol == .http1_1)
        #expect(pair.client.negotiatedProtocol == "http/1.1")
    }

    /// A client without ALPN completes the handshake with no protocol negotiated (the proxy speaks HTTP/1.1).
    @Test func negotiatesNothingWithoutALPN() {
        let pair = Pair(client: TestClient(), context: httpsContext)
        #expect(pair.run())
        #expect(pair.server.negotiatedProtocol == nil)
        #expect(pair.client.negotiatedProtocol == nil)
    }

    /// Offering only protocols the server does not speak is not fatal: no protocol is negotiated.
    @Test func negotiatesNothingWhenNothingOverlaps() {
        let pair = Pair(client: TestClient(alpn: ["spdy/3", "acme-tls/1"]), context: httpsContext)
        #expect(pair.run())
        #expect(pair.server.negotiatedProtocol == nil)
    }

    /// A context that offers only http/1.1 never picks h2.
    @Test func offersOnlyWhatTheContextLists() throws {
        let context = try TLSServerContext(certificateChainFile: Fixtures.path("localhost-chain.crt"),
                                           privateKeyFile: Fixtures.path("localhost.key"),
                                           applicationProtocols: [.http1_1])
        let pair = Pair(client: TestClient(alpn: ["h2", "http/1.1"]), context: context)
        #expect(pair.run())
        #expect(pair.server.negotiatedProtocol == .http1_1)
        let h2Only = Pair(client: TestClient(alpn: ["h2"]), context: context)
        #expect(h2Only.run())
        #expect(h2Only.server.negotiatedProtocol == nil)
    }

    /// TLS 1.2 clients are served, with ALPN, and an ECDHE AES-GCM suite.
    @Test func servesTLS12() {
        let pair = Pair(client: TestClient(alpn: ["h2", "http/1.1"], maximumVersion: TLS1_2_VERSION), context: httpsContext)
        #expect(pair.run())
        #expect(pair.server.protocolVersion == "TLSv1.2")
        #expect(pair.server.negotiatedProtocol == .http2)
        #expect(String(cString: SSL_CIPHER_get_name(SSL_get_current_cipher(pair.client.ssl))) == "ECDHE-ECDSA-AES256-GCM-SHA384")
    }

    /// A client that stops at TLS 1.1 is refused with a reason, and an alert to tell it why.
    @Test func refusesTLS11() {
        let pair = Pair(client: TestClient(maximumVersion: TLS1_1_VERSION, minimumVersion: TLS1_VERSION), context: httpsContext)
        #expect(!pair.run())
        guard case .failed(let failure) = pair.lastServerRead else {
            Issue.record("expected a failure, got \(String(describing: pair.lastServerRead))")
            return
        }
        #expect(failure.reason == "unsupported protocol")
        #expect(!pair.server.handshakeComplete)
    }

    /// A second connection resumes the first one's session by ticket, in TLS 1.3 and in TLS 1.2.
    @Test(arguments: [0, TLS1_2_VERSION])
    func resumesSessionsByTicket(maximumVersion: Int32) {
        let first = Pair(client: TestClient(alpn: ["h2"], maximumVersion: maximumVersion), context: httpsContext)
        #expect(first.run())
        #expect(!first.server.sessionReused)
        // TLS 1.3 tickets arrive after the handshake: the client reads them with its first read.
        var scratch = ByteBuffer(capacity: 1024)
        defer { scratch.deallocate() }
        _ = first.client.read(into: &scratch)
        guard let session = first.client.session() else {
            Issue.record("no session to resume")
            return
        }
        defer { SSL_SESSION_free(session) }
        let second = Pair(client: TestClient(alpn: ["h2"], maximumVersion: maximumVersion, session: session), context: httpsContext)
        #expect(second.run())
        #expect(second.server.sessionReused)
        #expect(second.server.negotiatedProtocol == .http2)
    }

    /// A handshake fed one byte at a time waits (`wantMoreCiphertext`, nothing to send) until the ClientHello is whole.
    @Test func waitsForATruncatedClientHello() {
        let pair = Pair(client: TestClient(alpn: ["h2"]), context: httpsContext)
        pair.client.handshake()
        var hello = ByteBuffer(capacity: 1024)
        defer { hello.deallocate() }
        pair.client.takeCiphertext(into: &hello)
        let total = hello.readableCount
        #expect(total > 100)
        for _ in 0..<(total - 1) {
            pair.toServer.append(UnsafeRawBufferPointer(start: hello.readable.baseAddress, count: 1))
            hello.consume(1)
            #expect(pair.serverRead() == .wantMoreCiphertext)
            #expect(pair.toServer.isEmpty)
            #expect(!pair.server.hasPendingCiphertext)
        }
        pair.toServer.append(hello.readable)
        #expect(pair.serverRead() == .wantMoreCiphertext)
        #expect(pair.server.hasPendingCiphertext)  // ServerHello … Finished
        #expect(pair.run())
        #expect(pair.server.negotiatedProtocol == .http2)
    }

    /// Before the handshake is complete, `writePlaintext` takes nothing.
    @Test func takesNoPlaintextBeforeTheHandshake() {
        let server = TLSConnection(context: httpsContext)
        let bytes: [UInt8] = Array("hello".utf8)
        #expect(bytes.withUnsafeBytes { server.writePlaintext($0) } == 0)
        #expect(!server.handshakeComplete)
        #expect(server.negotiatedProtocol == nil)
    }
}
