import KanariaHTTP
import KanariaTLS

/// A test client and a server `TLSConnection` joined in memory, with the buffers the proxy would own.
final class Pair {
    let client: TestClient
    let server: TLSConnection
    /// Ciphertext on its way to the server: what the proxy reads from the socket.
    var toServer = ByteBuffer(capacity: 64 * 1024)
    /// Plaintext the server has decrypted: what the proxy's HTTP parser reads.
    var serverPlaintext = ByteBuffer(capacity: 64 * 1024)
    /// The server's last read result.
    var lastServerRead: TLSReadResult?

    init(client: TestClient, context: TLSServerContext, ciphertextLimit: Int = TLSConnection.defaultCiphertextLimit) {
        self.client = client
        server = TLSConnection(context: context, ciphertextLimit: ciphertextLimit)
    }

    deinit {
        toServer.deallocate()
        serverPlaintext.deallocate()
    }

    /// Moves bytes both ways until neither side makes progress; true if the handshake completed on both sides.
    @discardableResult
    func run() -> Bool {
        while true {
            var progressed = false
            client.handshake()
            if client.takeCiphertext(into: &toServer) > 0 { progressed = true }
            if !toServer.isEmpty {
                serverPlaintext.reserve(16 * 1024)
                lastServerRead = server.readPlaintext(from: &toServer, into: &serverPlaintext)
                progressed = true
            }
            if flushServer() > 0 { progressed = true }
            if !progressed { return client.handshakeComplete && server.handshakeComplete }
        }
    }

    /// Hands all of the server's pending ciphertext to the client; returns the byte count.
    @discardableResult
    func flushServer() -> Int {
        let pending = server.pendingCiphertext
        let count = pending.count
        client.giveCiphertext(pending)
        server.ciphertextWritten(count)
        return count
    }

    /// Reads on the server once more, with whatever ciphertext is waiting.
    func serverRead() -> TLSReadResult {
        serverPlaintext.reserve(16 * 1024)
        let result = server.readPlaintext(from: &toServer, into: &serverPlaintext)
        lastServerRead = result
        return result
    }
}
