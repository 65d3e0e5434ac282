/// Follows chunked transfer coding (RFC 9112 §7.1) through a body, to find where it ends and which bytes are data.
///
/// The proxy forwards chunked bodies byte for byte; the scanner only needs to know where the message ends so that
/// the connection can carry the next one. `next(_:)` classifies the bytes at the front of what it is given.
public struct ChunkedScanner: Sendable {
    /// One step over the front of the input.
    public enum Step: Equatable, Sendable {
        /// This many bytes of framing (size lines, CRLFs, trailer fields).
        case framing(Int)
        /// This many bytes of chunk data.
        case data(Int)
        /// This many bytes of framing complete the body; nothing after them belongs to it.
        case end(Int)
        /// Nothing could be consumed: give more bytes.
        case needMore
    }

    private enum State: Sendable {
        case size, sizeWhitespace, sizeExtension, sizeLF, data, dataCR, dataLF, trailerLineStart, trailerLine, trailerLF, endLF, done
    }

    private var state = State.size
    private var remaining: UInt64 = 0
    private var sizeDigits = 0
    private var lineBytes = 0
    private var trailerBytes = 0

    /// Largest size line (with extensions) and largest trailer section accepted.
    public static let maxLineBytes = 4096
    public static let maxTrailerBytes = 16 * 1024

    public init() {}

    public var isComplete: Bool { state == .done }

    /// Classifies the bytes at the front of `input`.
    public mutating func next(_ input: UnsafeRawBufferPointer) throws(HTTPParseError) -> Step {
        if state == .data || state == .done {
            if state == .done { return .end(0) }
            guard !input.isEmpty else { return .needMore }
            let n = Int(min(UInt64(input.count), remaining))
            remaining -= UInt64(n)
            if remaining == 0 { state = .dataCR }
            return .data(n)
        }
        var i = 0
        while i < input.count {
            let c = input[i]
            i += 1
            switch state {
            case .size:
                if let digit = hexValue(c) {
                    sizeDigits += 1
                    guard sizeDigits <= 15 else { throw .badRequest("chunk size too large") }
                    remaining = remaining << 4 | UInt64(digit)
                } else if sizeDigits == 0 {
                    throw .badRequest("invalid chunk size")
                } else if c == ASCII.cr {
                    state = .sizeLF
                } else if c == 59 {  // ';' chunk-ext
                    state = .sizeExtension
                } else if c == ASCII.sp || c == ASCII.htab {  // BWS, allowed only before ';' or the CRLF
                    state = .sizeWhitespace
                } else {
                    throw .badRequest("invalid chunk size")
                }
            case .sizeWhitespace:
                lineBytes += 1
                guard lineBytes <= Self.maxLineBytes else { throw .badRequest("chunk extension too long") }
                if c == 59 { state = .sizeExtension }
                else if c == ASCII.cr { state = .sizeLF }
                else if c != ASCII.sp && c != ASCII.htab { throw .badRequest("invalid chunk size") }
            case .sizeExtension:
                lineBytes += 1
                guard lineBytes <= Self.maxLineBytes else { throw .badRequest("chunk extension too long") }
                if c == ASCII.cr { state = .sizeLF }
                else if !ASCII.isFieldValueChar(c) { throw .badRequest("invalid chunk extension") }
            case .sizeLF:
                guard c == ASCII.lf else { throw .badRequest("invalid chunk size line") }
                sizeDigits = 0
                lineBytes = 0
                if remaining == 0 {
                    state = .trailerLineStart
                } else {
                    state = .data
                    return .framing(i)
                }
            case .dataCR:
                guard c == ASCII.cr else { throw .badRequest("chunk data longer than its size") }
                state = .dataLF
            case .dataLF:
                guard c == ASCII.lf else { throw .badRequest("chunk data longer than its size") }
                state = .size
            case .trailerLineStart:
                if c == ASCII.cr {
                    state = .endLF
                } else {
                    guard ASCII.isTokenChar(c) else { throw .badRequest("invalid trailer field") }
                    state = .trailerLine
                    trailerBytes += 1
                }
            case .trailerLine:
                trailerBytes += 1
                guard trailerBytes <= Self.maxTrailerBytes else { throw .headersTooLarge }
                if c == ASCII.cr { state = .trailerLF }
                else if !ASCII.isFieldValueChar(c) { throw .badRequest("invalid trailer field") }
            case .trailerLF:
                guard c == ASCII.lf else { throw .badRequest("invalid trailer field") }
                state = .trailerLineStart
            case .endLF:
                guard c == ASCII.lf else { throw .badRequest("invalid end of chunked body") }
                state = .done
                return .end(i)
            case .data, .done:
                preconditionFailure("handled above")
            }
        }
        return i == 0 ? .needMore : .framing(i)
    }

    /// Consumes as much of `input` as belongs to the body.
    /// - Returns: how many bytes of `input` belong to the body, and whether the body ended within them.
    public mutating func scan(_ input: UnsafeRawBufferPointer) throws(HTTPParseError) -> (consumed: Int, complete: Bool) {
        var offset = 0
        while offset < input.count {
            switch try next(UnsafeRawBufferPointer(rebasing: input[offset...])) {
            case .framing(let n), .data(let n): offset += n
            case .end(let n): return (offset + n, true)
            case .needMore: return (offset, false)
            }
        }
        return (offset, false)
    }

    @inline(__always) private func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case 48...57: c - 48
        case 65...70: c - 55
        case 97...102: c - 87
        default: nil
        }
    }
}
