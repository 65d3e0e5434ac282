import KanariaHTTP

/// A set of `HeaderKind`s, as one machine word: which recognised fields to leave out when converting a head.
public struct HeaderKindSet: Sendable, Equatable, ExpressibleByArrayLiteral {
    public private(set) var bits: UInt32

    public init() { bits = 0 }

    public init(arrayLiteral kinds: HeaderKind...) {
        bits = 0
        for kind in kinds { insert(kind) }
    }

    @inlinable public func contains(_ kind: HeaderKind) -> Bool { bits & (1 << UInt32(kind.rawValue)) != 0 }

    public mutating func insert(_ kind: HeaderKind) { bits |= 1 << UInt32(kind.rawValue) }
}
