import KanariaHTTP
import Testing

private extension ByteBuffer {
    var readableBytes: [UInt8] { Array(readable) }
    var readableText: String { String(decoding: readable, as: UTF8.self) }
}

/// Appends `value` in decimal to a fresh buffer and returns the text.
private func decimal(_ value: Int) -> String {
    var buffer = ByteBuffer(capacity: 0)
    defer { buffer.deallocate() }
    buffer.append(decimal: value)
    return buffer.readableText
}

private func hex(_ value: Int) -> String {
    var buffer = ByteBuffer(capacity: 0)
    defer { buffer.deallocate() }
    buffer.append(hex: value)
    return buffer.readableText
}

@Suite("ByteBuffer")
struct ByteBufferTests {
    /// A new buffer is empty, with at least 64 bytes of capacity.
    @Test func startsEmptyWithAMinimumCapacity() {
        var small = ByteBuffer(capacity: 3)
        defer { small.deallocate() }
        #expect(small.capacity == 64)
        #expect(small.isEmpty)
        #expect(small.readableCount == 0)
        #expect(small.writableCount == 64)
        let large = ByteBuffer(capacity: 4096)
        defer { large.deallocate() }
        #expect(large.capacity == 4096)
        small.append("x")
        #expect(!small.isEmpty)
    }

    /// Bytes, static strings, strings and single bytes append in order.
    @Test func appendsInOrder() {
        var buffer = ByteBuffer(capacity: 64)
        defer { buffer.deallocate() }
        buffer.append("HTTP/1.1 ")
        buffer.append(String(200))
        buffer.append(byte: 0x20)
        [UInt8]("OK\r\n".utf8).withUnsafeBytes { buffer.append($0) }
        buffer.append(UnsafeRawBufferPointer(start: nil, count: 0))
        #expect(buffer.readableText == "HTTP/1.1 200 OK\r\n")
        #expect(buffer.readableCount == 17)
        #expect(buffer.writeIndex == 17)
    }

    /// Reading into `writable` and committing with `didWrite` makes the bytes readable.
    @Test func writableThenDidWrite() {
        var buffer = ByteBuffer(capacity: 64)
        defer { buffer.deallocate() }
        let space = buffer.writable
        #expect(space.count == 64)
        for (i, c) in "abc".utf8.enumerated() { space[i] = c }
        buffer.didWrite(3)
        #expect(buffer.readableText == "abc")
        #expect(buffer.writableCount == 61)
    }

    /// Consuming part leaves the rest readable; consuming all rewinds both indices to the front.
    @Test func consumeAndRewind() {
        var buffer = ByteBuffer(capacity: 64)
        defer { buffer.deallocate() }
        buffer.append("abcdef")
        buffer.consume(2)
        #expect(buffer.readableText == "cdef")
        #expect(buffer.readIndex == 2)
        buffer.consume(4)
        #expect(buffer.isEmpty)
        #expect(buffer.readIndex == 0)
        #expect(buffer.writeIndex == 0)
        buffer.append("xy")
        buffer.clear()
        #expect(buffer.isEmpty && buffer.writeIndex == 0)
    }

    /// `compact` moves the readable bytes to the front, also when source and destination overlap.
    @Test func compactMovesOverlappingBytesToTheFront() {
        var buffer = ByteBuffer(capacity: 64)
        defer { buffer.deallocate() }
        let text = String(repeating: "0123456789", count: 6)  // 60 bytes
        buffer.append(text)
        buffer.consume(10)
        buffer.compact()
        #expect(buffer.readIndex == 0)
        #expect(buffer.writeIndex == 50)
        #expect(buffer.readableText == String(text.dropFirst(10)))
        buffer.compact()  // nothing to do at the front
        #expect(buffer.readableText == String(text.dropFirst(10)))
    }

    /// `reserve` does nothing when there is room, compacts when that suffices, and grows (doubling) otherwise.
    @Test func reserveCompactsBeforeGrowing() {
        var buffer = ByteBuffer(capacity: 64)
        defer { buffer.deallocate() }
        let base = buffer.base
        buffer.append(String(repeating: "a", count: 40))
        buffer.reserve(24)
        #expect(buffer.base == base && buffer.readIndex == 0 && buffer.capacity == 64)

        buffer.consume(30)
        buffer.reserve(40)  // 24 free at the back, 54 after compacting
        #expect(buffer.base == base)
        #expect(buffer.capacity == 64)
        #expect(buffer.readIndex == 0)
        #expect(buffer.readableText == String(repeating: "a", count: 10))

        buffer.reserve(200)  // 10 readable + 200 needs 256
        #expect(buffer.capacity == 256)
        #expect(buffer.writableCount >= 200)
        #expect(buffer.readableText == String(repeating: "a", count: 10))
    }

    /// Appending past the capacity grows the buffer and keeps every byte.
    @Test func growsOnAppend() {
        var buffer = ByteBuffer(capacity: 64)
        defer { buffer.deallocate() }
        var expected: [UInt8] = []
        for i in 0..<1000 {
            buffer.append(byte: UInt8(i % 251))
            expected.append(UInt8(i % 251))
        }
        #expect(buffer.readableBytes == expected)
        #expect(buffer.capacity == 1024)
    }

    /// Decimal rendering, including zero, negatives and both extremes.
    @Test(arguments: [
        (0, "0"), (7, "7"), (10, "10"), (42, "42"), (200, "200"), (1_234_567_890, "1234567890"), (-1, "-1"),
        (-503, "-503"), (Int.max, "9223372036854775807"), (Int.min, "-9223372036854775808"),
    ])
    func appendsDecimal(value: Int, text: String) {
        #expect(decimal(value) == text)
    }

    /// Lowercase hexadecimal without leading zeros, as chunk sizes are written.
    @Test(arguments: [
        (0, "0"), (1, "1"), (9, "9"), (10, "a"), (15, "f"), (16, "10"), (255, "ff"), (256, "100"),
        (0x1234_ABCD, "1234abcd"), (0x1000_0000_0000_0000, "1000000000000000"), (Int.max, "7fffffffffffffff"),
    ])
    func appendsHex(value: Int, text: String) {
        #expect(hex(value) == text)
    }

    /// Numbers appended at the very end of a full buffer force growth without losing bytes.
    @Test func appendsNumbersAtTheEdge() {
        var buffer = ByteBuffer(capacity: 64)
        defer { buffer.deallocate() }
        buffer.append(String(repeating: "x", count: 60))
        buffer.append(decimal: Int.min)
        buffer.append(byte: 0x2F)
        buffer.append(hex: Int.max)
        #expect(buffer.readableText == String(repeating: "x", count: 60) + "-9223372036854775808/7fffffffffffffff")
    }

    /// Property: random appends, consumes, compacts and reserves keep the readable bytes equal to a plain array's.
    @Test func randomOperationsMatchAnArray() {
        var random = TestRandom(seed: 7)
        var buffer = ByteBuffer(capacity: 64)
        defer { buffer.deallocate() }
        var model: [UInt8] = []
        for step in 0..<5000 {
            switch Int.random(in: 0...6, using: &random) {
            case 0:
                let bytes = (0..<Int.random(in: 0...100, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
                bytes.withUnsafeBytes { buffer.append($0) }
                model += bytes
            case 1:
                let n = Int.random(in: 0...model.count, using: &random)
                buffer.consume(n)
                model.removeFirst(n)
            case 2:
                buffer.compact()
                #expect(buffer.readIndex == 0)
            case 3:
                let n = Int.random(in: 0...300, using: &random)
                buffer.reserve(n)
                #expect(buffer.writableCount >= n)
            case 4:
                let value = Int.random(in: Int.min...Int.max, using: &random)
                buffer.append(decimal: value)
                model += Array(String(value).utf8)
            case 5:
                let value = Int.random(in: 0...Int.max, using: &random)
                buffer.append(hex: value)
                model += Array(String(value, radix: 16).utf8)
            default:
                let byte = UInt8.random(in: 0...255, using: &random)
                buffer.append(byte: byte)
                model.append(byte)
            }
            if buffer.readableBytes != model {
                Issue.record("diverged at step \(step)")
                return
            }
        }
    }
}
