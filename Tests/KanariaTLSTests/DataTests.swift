#if canImport(Glibc)
import Glibc
#endif
import KanariaHTTP
import KanariaTLS
import Testing

/// 10 MB of bytes in a pattern that repeats only every 251 × 256 bytes, so a dropped, doubled or misplaced record shows.
let tenMegabytes: [UInt8] = (0..<(10 * 1024 * 1024)).map { UInt8(truncatingIfNeeded: $0 % 251 &+ $0 >> 16) }

@Suite struct DataTests {
    /// 10 MB from client to server arrive intact, in order, through a 64 KB plaintext buffer.
    @Test func carriesTenMegabytesFromClientToServer() {
        let pair = Pair(client: TestClient(alpn: ["h2"]), context: httpsContext)
        #expect(pair.run())
        var received = 0
        var intact = true
        tenMegabytes.withUnsafeBytes { source in
            var offset = 0
            while offset < source.count || !pair.toServer.isEmpty {
                if offset < source.count {
                    let chunk = min(48 * 1024, source.count - offset)
                    pair.client.write(UnsafeRawBufferPointer(rebasing: source[offset..<(offset + chunk)]))
                    offset += chunk
                    pair.client.takeCiphertext(into: &pair.toServer)
                }
                while true {
                    pair.serverPlaintext.clear()
                    let result = pair.server.readPlaintext(from: &pair.toServer, into: &pair.serverPlaintext)
                    guard case .data(let n) = result else { break }
                    intact = intact && memcmp(pair.serverPlaintext.readable.baseAddress!, source.baseAddress! + received, n) == 0
                    received += n
                }
            }
        }
        #expect(received == tenMegabytes.count)
        #expect(intact)
    }

    /// 10 MB from server to client arrive intact; `writePlaintext` stops taking bytes while 64 KB of ciphertext wait,
    /// so the ciphertext buffer stays bounded however fast the application writes.
    @Test func carriesTenMegabytesFromServerToClientWithBoundedCiphertext() {
        let pair = Pair(client: TestClient(alpn: ["h2"]), context: httpsContext)
        #expect(pair.run())
        var received = ByteBuffer(capacity: 64 * 1024)
        defer { received.deallocate() }
        var receivedTotal = 0
        var intact = true
        var largestPending = 0
        var refusals = 0
        tenMegabytes.withUnsafeBytes { source in
            var offset = 0
            while receivedTotal < source.count {
                // The application offers everything it has left; the connection takes what fits.
                while offset < source.count {
                    let taken = pair.server.writePlaintext(UnsafeRawBufferPointer(rebasing: source[offset...]))
                    if taken == 0 { refusals += 1; break }
                    offset += taken
                    largestPending = max(largestPending, pair.server.pendingCiphertext.count)
                }
                // The socket takes 20 000 bytes at a time.
                let pending = pair.server.pendingCiphertext
                let n = min(20_000, pending.count)
                pair.client.giveCiphertext(UnsafeRawBufferPointer(rebasing: pending[..<n]))
                pair.server.ciphertextWritten(n)
                while case .data(let count) = pair.client.read(into: &received) {
                    intact = intact && memcmp(received.readable.baseAddress!, source.baseAddress! + receivedTotal, count) == 0
                    receivedTotal += count
                    received.clear()
                }
            }
        }
        #expect(receivedTotal == tenMegabytes.count)
        #expect(intact)
        #expect(refusals > 100)
        #expect(largestPending <= TLSConnection.defaultCiphertextLimit)
        #expect(largestPending > TLSConnection.defaultCiphertextLimit - 1024)
    }

    /// Ciphertext arriving a byte at a time, and plaintext taken out a few bytes at a time, lose nothing.
    @Test func survivesTinyReadsAndTinyBuffers() {
        let pair = Pair(client: TestClient(alpn: ["http/1.1"]), context: httpsContext)
        #expect(pair.run())
        let request = Array("GET / HTTP/1.1\r\nhost: localhost\r\n\r\n".utf8)
        request.withUnsafeBytes { pair.client.write($0) }
        var ciphertext = ByteBuffer(capacity: 1024)
        var plaintext = ByteBuffer(capacity: 64)  // ByteBuffer's smallest
        defer { ciphertext.deallocate(); plaintext.deallocate() }
        pair.client.takeCiphertext(into: &ciphertext)
        var decrypted: [UInt8] = []
        var trickle = ByteBuffer(capacity: 64)
        defer { trickle.deallocate() }
        while !ciphertext.isEmpty || !trickle.isEmpty {
            if !ciphertext.isEmpty {
                trickle.append(UnsafeRawBufferPointer(start: ciphertext.readable.baseAddress, count: 1))
                ciphertext.consume(1)
            }
            while case .data(let n) = pair.server.readPlaintext(from: &trickle, into: &plaintext), n > 0 {
                decrypted += plaintext.readable.prefix(5)
                plaintext.consume(min(5, plaintext.readableCount))
                plaintext.compact()
            }
            if ciphertext.isEmpty && !trickle.isEmpty { break }
        }
        decrypted += plaintext.readable
        #expect(decrypted == request)
    }

    /// A head and a body written together share the first record, and arrive in order.
    @Test func joinsAHeadAndABodyInOneRecord() {
        let pair = Pair(client: TestClient(alpn: ["http/1.1"]), context: httpsContext)
        #expect(pair.run())
        let head = Array("HTTP/1.1 200 OK\r\ncontent-length: 40000\r\n\r\n".utf8)
        let body = Array(tenMegabytes.prefix(40_000))
        let taken = head.withUnsafeBytes { h in body.withUnsafeBytes { b in pair.server.writePlaintext(h, b) } }
        #expect(taken == head.count + body.count)
        // Records: head + 4 KB of body, then 16 KB, 16 KB and the rest; each with a 5-byte header.
        var records: [Int] = []
        var offset = 0
        let ciphertext = pair.server.pendingCiphertext
        while offset + 5 <= ciphertext.count {
            let length = Int(ciphertext[offset + 3]) << 8 | Int(ciphertext[offset + 4])
            records.append(length - 17)  // less the TLS 1.3 content type byte and 16-byte tag
            offset += 5 + length
        }
        #expect(records == [4096, 16384, 16384, head.count + body.count - 4096 - 2 * 16384])
        pair.flushServer()
        var received = ByteBuffer(capacity: 64 * 1024)
        defer { received.deallocate() }
        while case .data = pair.client.read(into: &received) {}
        let intact = Array(received.readable) == head + body
        #expect(intact)
    }

    /// A record larger than the plaintext buffer leaves the rest inside OpenSSL, and says so.
    @Test func saysWhenPlaintextIsLeftInside() {
        let pair = Pair(client: TestClient(alpn: ["h2"]), context: httpsContext)
        #expect(pair.run())
        Array(repeating: UInt8(9), count: 10_000).withUnsafeBytes { pair.client.write($0) }
        pair.client.takeCiphertext(into: &pair.toServer)
        var small = ByteBuffer(capacity: 4096)
        defer { small.deallocate() }
        #expect(pair.server.readPlaintext(from: &pair.toServer, into: &small) == .data(4096))
        #expect(pair.toServer.isEmpty)
        #expect(pair.server.hasBufferedInput)
        small.clear()
        #expect(pair.server.readPlaintext(from: &pair.toServer, into: &small) == .data(4096))
        small.clear()
        #expect(pair.server.readPlaintext(from: &pair.toServer, into: &small) == .data(10_000 - 8192))
        #expect(!pair.server.hasBufferedInput)
        #expect(pair.server.readPlaintext(from: &pair.toServer, into: &small) == .wantMoreCiphertext)
    }

    /// A plaintext buffer with no room yields `.data(0)` and leaves the ciphertext for later.
    @Test func waitsForRoomInThePlaintextBuffer() {
        let pair = Pair(client: TestClient(alpn: ["h2"]), context: httpsContext)
        #expect(pair.run())
        Array(repeating: UInt8(7), count: 1000).withUnsafeBytes { pair.client.write($0) }
        pair.client.takeCiphertext(into: &pair.toServer)
        var full = ByteBuffer(capacity: 64)
        defer { full.deallocate() }
        full.didWrite(full.writableCount)
        let before = pair.toServer.readableCount
        #expect(pair.server.readPlaintext(from: &pair.toServer, into: &full) == .data(0))
        #expect(pair.toServer.readableCount == before)
        #expect(pair.serverRead() == .data(1000))
    }
}
