import COpenSSL
import KanariaHTTP
import KanariaTLS
import Testing

/// `TLSClientConnection` against the server side, `TLSConnection`, joined in memory: the buffers a socket would fill.
final class ClientServerPair {
    let client: TLSClientConnection
    let server: TLSConnection
    var toServer = ByteBuffer(capacity: 64 * 1024)
    var toClient = ByteBuffer(capacity: 64 * 1024)
    var serverPlaintext = ByteBuffer(capacity: 64 * 1024)
    var clientPlaintext = ByteBuffer(capacity: 64 * 1024)
    var lastClientRead: TLSReadResult?

    init(_ clientContext: TLSClientContext, serverName: String = "localhost", server context: TLSServerContext = httpsContext) {
        client = TLSClientConnection(context: clientContext, serverName: serverName)
        server = TLSConnection(context: context)
    }

    deinit {
        for buffer in [toServer, toClient, serverPlaintext, clientPlaintext] { buffer.deallocate() }
    }

    /// Moves ciphertext both ways until neither side has any to send (or a side stopped taking it, after a failure).
    func run() {
        while true {
            let fromClient = client.pendingCiphertext
            let fromServer = server.pendingCiphertext
            guard fromClient.count + fromServer.count > 0 else { return }
            toServer.append(fromClient)
            client.ciphertextWritten(fromClient.count)
            toClient.append(fromServer)
            server.ciphertextWritten(fromServer.count)
            if !toServer.isEmpty { _ = server.readPlaintext(from: &toServer, into: &serverPlaintext) }
            if !toClient.isEmpty { lastClientRead = client.readPlaintext(from: &toClient, into: &clientPlaintext) }
        }
    }
}

private let trusting = try! TLSClientContext(verification: .caFile(Fixtures.path("root-ca.crt")))

@Suite struct ClientConnectionTests {
    /// The client verifies the chain and the name, sends SNI, and gets h2 by ALPN from a server that offers it.
    @Test func handshakeVerifiesAndNegotiatesH2() {
        let pair = ClientServerPair(trusting)
        #expect(pair.client.pendingCiphertext.count > 0, "the ClientHello is ready at once")
        pair.run()
        #expect(pair.client.handshakeComplete && pair.server.handshakeComplete)
        #expect(pair.client.negotiatedProtocol == .http2)
        #expect(pair.server.negotiatedProtocol == .http2)
        #expect(pair.server.serverName == "localhost")
        #expect(pair.client.protocolVersion == "TLSv1.3")
    }

    /// A client offering only http/1.1 gets it.
    @Test func offersOnlyItsProtocols() throws {
        let context = try TLSClientContext(verification: .caFile(Fixtures.path("root-ca.crt")), applicationProtocols: [.http1_1])
        let pair = ClientServerPair(context)
        pair.run()
        #expect(pair.client.negotiatedProtocol == .http1_1)
    }

    /// Plaintext crosses both ways once the handshake is done.
    @Test func carriesARequestAndAnAnswer() {
        let pair = ClientServerPair(trusting)
        pair.run()
        let request = Array("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n".utf8)
        #expect(request.withUnsafeBytes { pair.client.writePlaintext($0) } == request.count)
        pair.run()
        #expect(Array(pair.serverPlaintext.readable) == request)
        let answer = Array("HTTP/1.1 204 No Content\r\n\r\n".utf8)
        #expect(answer.withUnsafeBytes { pair.server.writePlaintext($0) } == answer.count)
        pair.run()
        #expect(Array(pair.clientPlaintext.readable) == answer)
    }

    /// A name the certificate does not carry fails the handshake with OpenSSL's reason.
    @Test func wrongNameFailsVerification() {
        let pair = ClientServerPair(trusting, serverName: "shop.example")
        pair.run()
        #expect(!pair.client.handshakeComplete)
        guard case .failed(let failure)? = pair.lastClientRead else {
            Issue.record("expected a failure, got \(String(describing: pair.lastClientRead))")
            return
        }
        #expect(failure.reason == "certificate verify failed")
    }

    /// An untrusted root fails; `.insecure` accepts the same server.
    @Test func untrustedRootFailsUnlessInsecure() throws {
        let system = try TLSClientContext(verification: .caFile(Fixtures.path("wildcard-chain.crt")))
        let refused = ClientServerPair(system)
        refused.run()
        #expect(!refused.client.handshakeComplete)
        let insecure = ClientServerPair(try TLSClientContext(verification: .insecure), serverName: "127.0.0.1")
        insecure.run()
        #expect(insecure.client.handshakeComplete)
        #expect(insecure.server.serverName == nil, "no SNI for an IP address")
    }

    /// Writing before the handshake takes nothing; a CA file that does not exist is a configuration error naming it.
    @Test func refusesEarlyWritesAndMissingCAFiles() {
        let pair = ClientServerPair(trusting)
        #expect([UInt8](repeating: 1, count: 10).withUnsafeBytes { pair.client.writePlaintext($0) } == 0)
        #expect(throws: TLSConfigurationError.self) { try TLSClientContext(verification: .caFile("/nonexistent/ca.pem")) }
    }

    /// The server's close_notify reads as a clean close.
    @Test func closeNotifyIsACleanClose() {
        let pair = ClientServerPair(trusting)
        pair.run()
        pair.server.shutdown()
        pair.run()
        #expect(pair.lastClientRead == .closed(clean: true))
    }
}
