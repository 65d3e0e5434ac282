/// Appending text to a byte buffer without building intermediate strings.
extension Array where Element == UInt8 {
    @inline(__always)
    mutating func appendASCII(_ text: StaticString) {
        text.withUTF8Buffer { append(contentsOf: $0) }
    }

    mutating func appendText(_ text: String) {
        var text = text
        text.withUTF8 { append(contentsOf: $0) }
    }

    /// `value` in decimal.
    mutating func appendDecimal(_ value: UInt64) {
        if value < 10 {
            append(UInt8(truncatingIfNeeded: value) &+ 48)
            return
        }
        // Digits from the last into stack memory, then one append.
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            var rest = value
            var i = 20
            repeat {
                i -= 1
                digits[i] = UInt8(truncatingIfNeeded: rest % 10) &+ 48
                rest /= 10
            } while rest != 0
            append(contentsOf: UnsafeBufferPointer(rebasing: digits[i...]))
        }
    }

    /// `value` in decimal, with a minus sign when negative.
    mutating func appendDecimal(_ value: Int) {
        if value < 0 { append(UInt8(ascii: "-")) }
        appendDecimal(value.magnitude.toUInt64)
    }

    /// `value / 10^3` in decimal with no trailing zeros: 1500 → `1.5`, 2000 → `2`, 7 → `0.007`.
    mutating func appendThousandths(_ value: UInt64) {
        appendDecimal(value / 1000)
        var fraction = value % 1000
        guard fraction != 0 else { return }
        append(UInt8(ascii: "."))
        var digits = 3
        while fraction % 10 == 0 {
            fraction /= 10
            digits -= 1
        }
        var divisor: UInt64 = digits == 3 ? 100 : digits == 2 ? 10 : 1
        while divisor != 0 {
            append(UInt8(truncatingIfNeeded: fraction / divisor % 10) &+ 48)
            divisor /= 10
        }
    }

    /// `value` with at least `width` digits, zero-padded.
    mutating func appendPadded(_ value: Int, width: Int) {
        var threshold = 10
        for _ in 1..<width {
            if value < threshold { append(UInt8(ascii: "0")) }
            threshold *= 10
        }
        appendDecimal(value)
    }
}

extension UInt {
    fileprivate var toUInt64: UInt64 { UInt64(self) }
}
