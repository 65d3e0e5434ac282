/// A run of bytes inside a message buffer, as an offset from the start of the message and a length.
///
/// Parsed heads hold spans, not copies: the bytes stay in the connection's buffer until the head has been
/// forwarded, so parsing allocates nothing.
public struct ByteSpan: Sendable, Hashable {
    public var start: Int32
    public var count: Int32

    @inlinable public init(start: Int, count: Int) {
        self.start = Int32(truncatingIfNeeded: start)
        self.count = Int32(truncatingIfNeeded: count)
    }

    /// The empty span at offset 0; also used for "absent".
    public static let empty = ByteSpan(start: 0, count: 0)

    @inlinable public var end: Int { Int(start) + Int(count) }
    @inlinable public var isEmpty: Bool { count == 0 }

    /// The bytes of this span within `message`.
    @inlinable public func bytes(in message: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: message[Int(start)..<end])
    }

    /// The span's bytes as a String (for diagnostics, logs and tests; allocates).
    public func string(in message: UnsafeRawBufferPointer) -> String {
        String(decoding: bytes(in: message), as: UTF8.self)
    }
}
