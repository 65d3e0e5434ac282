/// XXH64, the 64-bit xxHash (Yann Collet's specification, `doc/xxhash_spec.md`), which Envoy uses for every
/// consistent-hash key and ring entry (`HashUtil::xxHash64`, seed 0).
///
/// Test vectors of the specification (seed 0): `""` → `0xEF46DB3751D8E999`, `"a"` → `0xD24EC4F1A98C6E5B`,
/// `"abc"` → `0x44BC2CF5AD770999`. No allocation: it reads the bytes where they are.
public enum XXHash64 {
    static let prime1: UInt64 = 0x9E37_79B1_85EB_CA87
    static let prime2: UInt64 = 0xC2B2_AE3D_27D4_EB4F
    static let prime3: UInt64 = 0x1656_67B1_9E37_79F9
    static let prime4: UInt64 = 0x85EB_CA77_C2B2_AE63
    static let prime5: UInt64 = 0x27D4_EB2F_1656_67C5

    /// The hash of `bytes` with `seed`.
    public static func hash(_ bytes: UnsafeRawBufferPointer, seed: UInt64 = 0) -> UInt64 {
        let count = bytes.count
        var offset = 0
        var accumulator: UInt64
        if count >= 32 {
            var lanes = (seed &+ prime1 &+ prime2, seed &+ prime2, seed, seed &- prime1)
            while offset + 32 <= count {
                lanes.0 = round(lanes.0, lane(bytes, offset))
                lanes.1 = round(lanes.1, lane(bytes, offset + 8))
                lanes.2 = round(lanes.2, lane(bytes, offset + 16))
                lanes.3 = round(lanes.3, lane(bytes, offset + 24))
                offset += 32
            }
            accumulator = rotate(lanes.0, 1) &+ rotate(lanes.1, 7) &+ rotate(lanes.2, 12) &+ rotate(lanes.3, 18)
            accumulator = mergeLane(accumulator, lanes.0)
            accumulator = mergeLane(accumulator, lanes.1)
            accumulator = mergeLane(accumulator, lanes.2)
            accumulator = mergeLane(accumulator, lanes.3)
        } else {
            accumulator = seed &+ prime5
        }
        accumulator &+= UInt64(count)
        while offset + 8 <= count {
            accumulator ^= round(0, lane(bytes, offset))
            accumulator = rotate(accumulator, 27) &* prime1 &+ prime4
            offset += 8
        }
        if offset + 4 <= count {
            accumulator ^= UInt64(word(bytes, offset)) &* prime1
            accumulator = rotate(accumulator, 23) &* prime2 &+ prime3
            offset += 4
        }
        while offset < count {
            accumulator ^= UInt64(bytes[offset]) &* prime5
            accumulator = rotate(accumulator, 11) &* prime1
            offset += 1
        }
        accumulator ^= accumulator >> 33
        accumulator &*= prime2
        accumulator ^= accumulator >> 29
        accumulator &*= prime3
        accumulator ^= accumulator >> 32
        return accumulator
    }

    /// The hash of `bytes` with `seed`.
    public static func hash(_ bytes: [UInt8], seed: UInt64 = 0) -> UInt64 {
        bytes.withUnsafeBytes { hash($0, seed: seed) }
    }

    /// The hash of `text`'s UTF-8 bytes with `seed`.
    public static func hash(_ text: String, seed: UInt64 = 0) -> UInt64 {
        var text = text
        return text.withUTF8 { hash(UnsafeRawBufferPointer($0), seed: seed) }
    }

    @inline(__always) static func round(_ accumulator: UInt64, _ input: UInt64) -> UInt64 {
        rotate(accumulator &+ input &* prime2, 31) &* prime1
    }

    @inline(__always) static func mergeLane(_ accumulator: UInt64, _ lane: UInt64) -> UInt64 {
        (accumulator ^ round(0, lane)) &* prime1 &+ prime4
    }

    @inline(__always) static func rotate(_ value: UInt64, _ bits: UInt64) -> UInt64 {
        (value << bits) | (value >> (64 - bits))
    }

    /// The little-endian 64-bit lane at `offset`.
    @inline(__always) static func lane(_ bytes: UnsafeRawBufferPointer, _ offset: Int) -> UInt64 {
        UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }

    @inline(__always) static func word(_ bytes: UnsafeRawBufferPointer, _ offset: Int) -> UInt32 {
        UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }
}
