/// A growable byte buffer with a read index and a write index, for socket reads and for building heads.
///
/// Memory is manually managed so that a connection can keep one buffer for its whole life and the hot path never
/// allocates: the owner calls `deallocate()` exactly once. Bytes in `readIndex..<writeIndex` are readable;
/// `compact()` moves them to the front when the space behind them is needed.
public struct ByteBuffer {
    public private(set) var base: UnsafeMutableRawPointer
    public private(set) var capacity: Int
    public var readIndex = 0
    public var writeIndex = 0

    public init(capacity: Int) {
        self.capacity = max(capacity, 64)
        self.base = UnsafeMutableRawPointer.allocate(byteCount: self.capacity, alignment: 16)
    }

    public func deallocate() { base.deallocate() }

    @inlinable public var readableCount: Int { writeIndex - readIndex }
    @inlinable public var writableCount: Int { capacity - writeIndex }
    @inlinable public var isEmpty: Bool { readIndex == writeIndex }

    /// The readable bytes.
    @inlinable public var readable: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: base + readIndex, count: writeIndex - readIndex)
    }

    /// The free space after the readable bytes, to read into; follow with `didWrite(_:)`.
    @inlinable public var writable: UnsafeMutableRawBufferPointer {
        UnsafeMutableRawBufferPointer(start: base + writeIndex, count: capacity - writeIndex)
    }

    @inlinable public mutating func didWrite(_ count: Int) { writeIndex += count }

    /// Marks `count` readable bytes as consumed; an emptied buffer rewinds to the front.
    @inlinable public mutating func consume(_ count: Int) {
        readIndex += count
        if readIndex == writeIndex { readIndex = 0; writeIndex = 0 }
    }

    public mutating func clear() { readIndex = 0; writeIndex = 0 }

    /// Moves the readable bytes to the front, making all free space contiguous.
    public mutating func compact() {
        guard readIndex > 0 else { return }
        let count = readableCount
        if count > 0 { (base).copyMemory(from: base + readIndex, byteCount: count) }
        readIndex = 0
        writeIndex = count
    }

    /// Makes room for `count` more bytes after the readable ones, compacting first and growing only if needed.
    @inlinable @inline(__always)
    public mutating func reserve(_ count: Int) {
        if capacity - writeIndex < count { makeRoom(count) }
    }

    @usableFromInline mutating func makeRoom(_ count: Int) {
        compact()
        if writableCount >= count { return }
        var newCapacity = capacity
        while newCapacity - writeIndex < count { newCapacity *= 2 }
        let newBase = UnsafeMutableRawPointer.allocate(byteCount: newCapacity, alignment: 16)
        newBase.copyMemory(from: base, byteCount: writeIndex)
        base.deallocate()
        base = newBase
        capacity = newCapacity
    }

    @inlinable public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        guard let source = bytes.baseAddress, bytes.count > 0 else { return }
        reserve(bytes.count)
        (base + writeIndex).copyMemory(from: source, byteCount: bytes.count)
        writeIndex += bytes.count
    }

    @inlinable public mutating func append(_ text: StaticString) {
        append(UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    public mutating func append(_ text: String) {
        var text = text
        text.withUTF8 { append(UnsafeRawBufferPointer($0)) }
    }

    @inlinable public mutating func append(byte: UInt8) {
        reserve(1)
        base.storeBytes(of: byte, toByteOffset: writeIndex, as: UInt8.self)
        writeIndex += 1
    }

    /// Appends `value` in decimal.
    public mutating func append(decimal value: Int) {
        reserve(20)
        var v = value.magnitude
        if value < 0 { append(byte: 45) }
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes of scratch on the stack
        let count = withUnsafeMutableBytes(of: &digits) { scratch -> Int in
            var n = 0
            repeat {
                scratch[23 - n] = UInt8(48 + v % 10)
                v /= 10
                n += 1
            } while v > 0
            (base + writeIndex).copyMemory(from: scratch.baseAddress! + 24 - n, byteCount: n)
            return n
        }
        writeIndex += count
    }

    /// Appends `value` in lowercase hexadecimal (chunk sizes).
    public mutating func append(hex value: Int) {
        reserve(16)
        var shift = 60
        while shift > 0 && (value >> shift) & 0xF == 0 { shift -= 4 }
        while shift >= 0 {
            let d = UInt8((value >> shift) & 0xF)
            append(byte: d < 10 ? 48 + d : 87 + d)
            shift -= 4
        }
    }
}
