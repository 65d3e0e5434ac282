/// Tracks a message body as it passes through a buffer on its way to the other side of the proxy.
///
/// The body's bytes are forwarded from the front of the source buffer without copying. `identify(in:)` looks at the
/// bytes received so far and works out how many at the front belong to the body (`identified`); the caller forwards
/// some of them and reports that with `forwarded(_:)`. Bytes after the body (a pipelined request) are never
/// identified. In `dechunk` mode the chunked framing is removed (for HTTP/1.0 clients, which cannot read chunked):
/// framing bytes are reported for the caller to drop, and only data bytes are identified.
public struct BodyTracker: Sendable {
    private enum Mode: Sendable {
        case none
        case length(remaining: Int)
        case chunked(ChunkedScanner, dechunk: Bool)
        case untilClose
    }

    private var mode: Mode
    /// Bytes at the front of the source buffer that belong to the body and have not been forwarded yet.
    public private(set) var identified = 0
    /// True once the body's last byte has been identified.
    public private(set) var endIdentified: Bool

    /// - Parameters:
    ///   - framing: how the body is delimited.
    ///   - dechunk: remove chunked framing instead of forwarding it.
    public init(framing: BodyFraming, dechunk: Bool = false) {
        switch framing {
        case .none:
            mode = .none
            endIdentified = true
        case .contentLength(let length):
            mode = .length(remaining: length)
            endIdentified = length == 0
        case .chunked:
            mode = .chunked(ChunkedScanner(), dechunk: dechunk)
            endIdentified = false
        case .untilClose:
            mode = .untilClose
            endIdentified = false
        }
    }

    /// The whole body has been identified and forwarded.
    @inlinable public var isComplete: Bool { endIdentified && identified == 0 }

    /// Whether the body ends only when the sender closes its connection.
    public var endsAtClose: Bool {
        if case .untilClose = mode { return true }
        return false
    }

    /// Identifies more body bytes in `source` (the source buffer's readable bytes, body at the front).
    /// - Returns: the number of framing bytes at the front of `source` the caller must drop before forwarding
    ///   (only in dechunk mode; 0 otherwise).
    public mutating func identify(in source: UnsafeRawBufferPointer) throws(HTTPParseError) -> Int {
        guard !endIdentified else { return 0 }
        switch mode {
        case .none:
            return 0
        case .length(let remaining):
            let n = min(source.count - identified, remaining)
            identified += n
            mode = .length(remaining: remaining - n)
            endIdentified = remaining == n
            return 0
        case .chunked(var scanner, let dechunk):
            defer { mode = .chunked(scanner, dechunk: dechunk) }
            if !dechunk {
                let (consumed, complete) = try scanner.scan(UnsafeRawBufferPointer(rebasing: source[identified...]))
                identified += consumed
                endIdentified = complete
                return 0
            }
            guard identified == 0 else { return 0 }
            switch try scanner.next(source) {
            case .framing(let n):
                return n
            case .end(let n):
                endIdentified = true
                return n
            case .data(let n):
                identified = n
                return 0
            case .needMore:
                return 0
            }
        case .untilClose:
            identified = source.count
            return 0
        }
    }

    /// `count` identified bytes were forwarded and removed from the front of the source buffer.
    public mutating func forwarded(_ count: Int) {
        identified -= count
    }

    /// The sender closed its connection. Returns true when that is a proper end of this body (close-delimited).
    public mutating func sourceClosed() -> Bool {
        if case .untilClose = mode {
            endIdentified = true
            return true
        }
        return endIdentified
    }
}
