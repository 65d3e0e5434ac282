/// Byte classes of RFC 9110 §5.6.2 and §5.5, as bit tables that compile to constants (no lookup-table globals).
@usableFromInline enum ASCII {
    @usableFromInline static let cr: UInt8 = 13
    @usableFromInline static let lf: UInt8 = 10
    @usableFromInline static let sp: UInt8 = 32
    @usableFromInline static let htab: UInt8 = 9
    @usableFromInline static let colon: UInt8 = 58

    /// tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA
    @inlinable @inline(__always) static func isTokenChar(_ c: UInt8) -> Bool {
        // Bits for 0-63: ! # $ % & ' * + - . 0-9 ; bits for 64-127: A-Z ^ _ ` a-z | ~
        let low: UInt64 = 0x03FF_6CFA_0000_0000
        let high: UInt64 = 0x57FF_FFFF_C7FF_FFFE
        if c < 64 { return (low >> UInt64(c)) & 1 == 1 }
        if c < 128 { return (high >> UInt64(c - 64)) & 1 == 1 }
        return false
    }

    /// field-vchar / SP / HTAB, including obs-text (0x80-0xFF); excludes CTLs and DEL.
    @inlinable @inline(__always) static func isFieldValueChar(_ c: UInt8) -> Bool {
        c == htab || (c >= 0x20 && c != 0x7F)
    }

    /// Bytes allowed in a request-target: visible ASCII only (no SP, CTL, DEL or non-ASCII).
    @inlinable @inline(__always) static func isTargetChar(_ c: UInt8) -> Bool {
        c > 0x20 && c < 0x7F
    }
}
