#if canImport(Glibc)
import Glibc
#endif

/// The versions seen so far, each with a small index that the counters use: index 0 is `other` (an answer with no
/// version), then the expected versions in order, then every new one as it first appears. Looking a version up
/// compares bytes; nothing is allocated unless the version is new.
public struct VersionTable: Sendable {
    /// Index of `other`.
    public static let other = 0
    /// Beyond this many distinct versions, new ones count as `other` (a header carrying a request ID, say).
    public static let capacity = 64

    public private(set) var names: [String] = ["other"]
    private var keys: [[UInt8]] = [[]]

    public init(expected: [String] = []) {
        for name in expected { _ = index(of: Array(name.utf8)) }
    }

    public var count: Int { names.count }

    /// The index of the version spelled `bytes`, adding it when new (and when there is room).
    public mutating func index(of bytes: UnsafeRawBufferPointer) -> Int {
        guard !bytes.isEmpty else { return Self.other }
        for i in 1..<keys.count where keys[i].count == bytes.count {
            if keys[i].withUnsafeBytes({ memcmp($0.baseAddress!, bytes.baseAddress!, bytes.count) == 0 }) { return i }
        }
        guard keys.count < Self.capacity else { return Self.other }
        keys.append(Array(bytes))
        names.append(String(decoding: bytes, as: UTF8.self))
        return keys.count - 1
    }

    mutating func index(of bytes: [UInt8]) -> Int {
        bytes.withUnsafeBytes { index(of: $0) }
    }

    /// The index of a version by name, if it has been seen or expected.
    public func index(named name: String) -> Int? {
        names.firstIndex(of: name)
    }
}
