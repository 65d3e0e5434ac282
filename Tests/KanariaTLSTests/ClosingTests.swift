import COpenSSL
import KanariaHTTP
import KanariaTLS
import Testing

@Suite struct ClosingTests {
    /// The client's close_notify ends the server's stream cleanly, after the data before it.
    @Test func endsCleanlyOnTheClientsCloseNotify() {
        let pair = Pair(client: TestClient(alpn: ["h2"]), context: httpsContext)
        #expect(pair.run())
        Array("last words".utf8).withUnsafeBytes { pair.client.write($0) }
        pair.client.shutdown()
        pair.client.takeCiphertext(into: &pair.toServer)
        #expect(pair.serverRead() == .data(10))
        #expect(pair.serverRead() == .closed(clean: true))
        #expect(pair.serverRead() == .closed(clean: true))  // and stays so
    }

    /// `shutdown()` queues the server's close_notify, which the client reads as a clean end; no plaintext after it.
    @Test func sendsCloseNotify() {
        let pair = Pair(client: TestClient(alpn: ["h2"]), context: httpsContext)
        #expect(pair.run())
        pair.server.shutdown()
        #expect(pair.server.hasPendingCiphertext)
        pair.flushServer()
        var scratch = ByteBuffer(capacity: 256)
        defer { scratch.deallocate() }
        #expect(pair.client.read(into: &scratch) == .closed)
        #expect(Array("late".utf8).withUnsafeBytes { pair.server.writePlaintext($0) } == 0)
    }

    /// TCP closing without a close_notify ends the stream as a truncation, after the data before it.
    @Test func reportsATruncationWhenTCPClosesFirst() {
        let pair = Pair(client: TestClient(alpn: ["h2"]), context: httpsContext)
        #expect(pair.run())
        Array("cut".utf8).withUnsafeBytes { pair.client.write($0) }
        pair.client.takeCiphertext(into: &pair.toServer)
        pair.server.ciphertextEnded()
        #expect(pair.serverRead() == .data(3))
        #expect(pair.serverRead() == .closed(clean: false))
    }

    /// TCP closing in the middle of the handshake is a truncation too, not a hang.
    @Test func reportsATruncationDuringTheHandshake() {
        let pair = Pair(client: TestClient(alpn: ["h2"]), context: httpsContext)
        pair.client.handshake()
        pair.client.takeCiphertext(into: &pair.toServer)
        pair.toServer.writeIndex -= 10
        #expect(pair.serverRead() == .wantMoreCiphertext)
        pair.server.ciphertextEnded()
        #expect(pair.serverRead() == .closed(clean: false))
    }

    /// Bytes that are not TLS at all fail with OpenSSL's reason; reads go on reporting the failure.
    @Test func failsCleanlyOnGarbage() {
        let server = TLSConnection(context: httpsContext)
        var garbage = ByteBuffer(capacity: 256)
        var plaintext = ByteBuffer(capacity: 256)
        defer { garbage.deallocate(); plaintext.deallocate() }
        for i in 0..<200 { garbage.append(byte: UInt8(truncatingIfNeeded: i &* 37 &+ 0x16)) }
        guard case .failed(let failure) = server.readPlaintext(from: &garbage, into: &plaintext) else {
            Issue.record("garbage did not fail")
            return
        }
        #expect(failure.reason == "wrong version number")
        #expect(!failure.isPlainHTTPRequest)
        #expect(server.readPlaintext(from: &garbage, into: &plaintext) == .failed(failure))
        server.shutdown()  // harmless after a failure
        #expect(Array("x".utf8).withUnsafeBytes { server.writePlaintext($0) } == 0)
    }

    /// A well-framed record holding a malformed ClientHello fails, with an alert queued to tell the client why.
    @Test func failsWithAnAlertOnAMalformedClientHello() {
        let server = TLSConnection(context: httpsContext)
        var record = ByteBuffer(capacity: 256)
        var plaintext = ByteBuffer(capacity: 256)
        defer { record.deallocate(); plaintext.deallocate() }
        // Handshake record, TLS 1.0 framing, 40 bytes: a ClientHello (type 1) claiming 36 bytes of nonsense.
        for byte: UInt8 in [0x16, 0x03, 0x01, 0x00, 40, 0x01, 0x00, 0x00, 36] { record.append(byte: byte) }
        for i in 0..<36 { record.append(byte: UInt8(truncatingIfNeeded: i &* 91)) }
        guard case .failed = server.readPlaintext(from: &record, into: &plaintext) else {
            Issue.record("a malformed ClientHello did not fail")
            return
        }
        let alert = Array(server.pendingCiphertext)
        #expect(alert.count == 7)
        #expect(alert.first == 0x15)  // an alert record
        #expect(alert.dropFirst(5).first == 2)  // fatal
    }

    /// Garbage after the handshake (a record that does not authenticate) fails too.
    @Test func failsOnATamperedRecord() {
        let pair = Pair(client: TestClient(alpn: ["h2"]), context: httpsContext)
        #expect(pair.run())
        Array(repeating: UInt8(1), count: 100).withUnsafeBytes { pair.client.write($0) }
        pair.client.takeCiphertext(into: &pair.toServer)
        pair.toServer.base.storeBytes(of: pair.toServer.readable[40] ^ 0xFF, toByteOffset: pair.toServer.readIndex + 40, as: UInt8.self)
        guard case .failed(let failure) = pair.serverRead() else {
            Issue.record("a tampered record was accepted")
            return
        }
        #expect(failure.reason == "decryption failed or bad record mac")
    }

    /// Plain HTTP sent to the TLS port is recognised, so the proxy can answer it in clear text.
    @Test func recognisesPlainHTTP() {
        let server = TLSConnection(context: httpsContext)
        var request = ByteBuffer(capacity: 256)
        var plaintext = ByteBuffer(capacity: 256)
        defer { request.deallocate(); plaintext.deallocate() }
        request.append("GET / HTTP/1.1\r\nhost: localhost\r\n\r\n")
        guard case .failed(let failure) = server.readPlaintext(from: &request, into: &plaintext) else {
            Issue.record("plain HTTP did not fail")
            return
        }
        #expect(failure.isPlainHTTPRequest)
        #expect(failure.reason == "http request")
    }
}
