/// How a route chooses among its weighted destinations.
public enum SplitMode: String, Sendable, CaseIterable {
    /// Smooth weighted round-robin (nginx's algorithm): deterministic and exact in every window of
    /// `sum / gcd` consecutive picks. For weights 80/20 the sequence repeats v1 v1 v2 v1 v1.
    case exact
    /// An independent random draw per request, as Envoy does: right only on average.
    case random
}

/// Smooth weighted round-robin over `weights`, keeping its position in `current` (one slot per destination).
///
/// Each pick adds every weight to its slot, chooses the largest slot (the first on ties) and subtracts the total
/// from it. After `total / gcd` picks every slot is back to zero, so each destination was chosen exactly
/// `weight / gcd` times in that window, spread as evenly as possible. Weights 80/20 give:
///
///     pick:     1        2         3         4         5
///     current:  (-20,20) (-40,40)  (40,-40)  (20,-20)  (0,0)
///     chosen:   v1       v1        v2        v1        v1
///
/// Zero weights are never chosen. `total` must be positive.
@inline(__always)
func smoothWeightedPick(_ weights: UnsafeBufferPointer<Int>, total: Int, current: UnsafeMutableBufferPointer<Int>) -> Int {
    var best = 0
    var bestValue = Int.min
    for i in 0..<weights.count {
        let value = current[i] &+ weights[i]
        current[i] = value
        if weights[i] > 0 && value > bestValue {
            best = i
            bestValue = value
        }
    }
    current[best] &-= total
    return best
}

/// Envoy's choice: a draw in `0..<total` falls into one destination's share of the cumulative weights.
@inline(__always)
func randomWeightedPick(_ weights: UnsafeBufferPointer<Int>, draw: UInt64, total: Int) -> Int {
    var point = Int(draw % UInt64(total))
    for i in 0..<weights.count {
        if point < weights[i] { return i }
        point -= weights[i]
    }
    return weights.count - 1
}

/// A small, fast pseudo-random generator (SplitMix64); seeded by the caller, so routing stays reproducible in tests.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    @usableFromInline var state: UInt64

    public init(seed: UInt64) { state = seed }

    @inlinable public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
