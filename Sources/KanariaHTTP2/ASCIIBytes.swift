/// Byte helpers for header names and values (KanariaHTTP keeps its own `ASCII` internal).
enum Bytes {
    @inline(__always) static func lower(_ c: UInt8) -> UInt8 { (c >= 65 && c <= 90) ? c | 0x20 : c }

    /// Case-insensitive comparison of `bytes` with `lowercased` (already lowercase ASCII).
    @inline(__always) static func equalsIgnoringCase(_ bytes: UnsafeRawBufferPointer, _ lowercased: StaticString) -> Bool {
        guard bytes.count == lowercased.utf8CodeUnitCount else { return false }
        let expected = lowercased.utf8Start
        for i in 0..<bytes.count where lower(bytes[i]) != expected[i] { return false }
        return true
    }

    @inline(__always) static func equalsIgnoringCase(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
        guard a.count == b.count else { return false }
        for i in 0..<a.count where lower(a[i]) != lower(b[i]) { return false }
        return true
    }

    @inline(__always) static func equals(_ bytes: UnsafeRawBufferPointer, _ text: StaticString) -> Bool {
        guard bytes.count == text.utf8CodeUnitCount else { return false }
        let expected = text.utf8Start
        for i in 0..<bytes.count where bytes[i] != expected[i] { return false }
        return true
    }

    static func buffer(_ text: StaticString) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount)
    }

    /// Calls `body` with each non-empty element of a comma-separated list, surrounding whitespace trimmed.
    @inline(__always) static func forEachListElement(_ value: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) -> Void) {
        var i = 0
        let n = value.count
        while i < n {
            while i < n && (value[i] == 32 || value[i] == 9 || value[i] == 44) { i += 1 }
            let start = i
            var end = i
            while i < n && value[i] != 44 {
                if value[i] != 32 && value[i] != 9 { end = i + 1 }
                i += 1
            }
            if end > start { body(UnsafeRawBufferPointer(rebasing: value[start..<end])) }
        }
    }

    /// 1*DIGIT, at most 15 digits; nil otherwise.
    static func decimal(_ value: UnsafeRawBufferPointer) -> Int? {
        guard !value.isEmpty, value.count <= 15 else { return nil }
        var n = 0
        for c in value {
            guard c >= 48 && c <= 57 else { return nil }
            n = n &* 10 &+ Int(c &- 48)
        }
        return n
    }
}
