/// Envoy's ring hash (Ketama): every endpoint is hashed onto a ring many times, and a request's hash goes to the
/// first ring entry at or after it. Built once per cluster, shared by all workers; a look-up is a binary search.
///
/// Construction follows Envoy's `RingHashLoadBalancer::Ring`: with N endpoints of equal weight, each gets
/// `ceil(minimumRingSize / N)` entries (the ring is scaled so that the lightest endpoint gets a whole number), at
/// most `maximumRingSize` in all. Entry `i` of the endpoint whose key is `10.0.0.1:8080` hashes
/// `"10.0.0.1:8080_i"` with xxHash64. For the default 1024 and 3 endpoints: 342 entries each, 1026 in the ring.
///
/// Removing an endpoint removes only its entries, so only the requests that hashed to it move.
public struct RingHash: Sendable, Equatable {
    /// Envoy's default `maximum_ring_size`.
    public static let defaultMaximumRingSize = 8_388_608

    /// Entry hashes, ascending.
    let hashes: [UInt64]
    /// The endpoint position of each entry of `hashes`.
    let positions: [Int32]

    /// A ring over endpoints whose hash keys (`ConsistentHashTable.hostKey`) are `hostKeys`, in position order.
    public init(hostKeys: [String], minimumRingSize: Int = ConsistentHashPolicy.Table.defaultMinimumRingSize,
                maximumRingSize: Int = RingHash.defaultMaximumRingSize) {
        guard !hostKeys.isEmpty else {
            hashes = []
            positions = []
            return
        }
        let weight = 1.0 / Double(hostKeys.count)
        let scale = min((weight * Double(minimumRingSize)).rounded(.up) / weight, Double(maximumRingSize))
        var entries: [(hash: UInt64, position: Int32)] = []
        entries.reserveCapacity(Int(scale.rounded(.up)))
        var current = 0.0
        var target = 0.0
        for (position, key) in hostKeys.enumerated() {
            target += scale * weight
            var index = 0
            while current < target {
                entries.append((XXHash64.hash("\(key)_\(index)"), Int32(position)))
                index += 1
                current += 1
            }
        }
        entries.sort { $0.hash < $1.hash }
        hashes = entries.map(\.hash)
        positions = entries.map(\.position)
    }

    /// Number of entries in the ring.
    public var size: Int { hashes.count }

    /// The endpoint position for `hash`: the entry at the first ring hash ≥ `hash` (wrapping to the first entry),
    /// moved `attempt` entries on for a retry that must avoid the previous host (Envoy's `attempt` argument).
    /// nil for an empty ring.
    public func position(for hash: UInt64, attempt: Int = 0) -> Int? {
        guard !hashes.isEmpty else { return nil }
        return position(atEntry: entry(for: hash, attempt: attempt))
    }

    /// The index of the entry `hash` lands on (binary search), `attempt` entries on; the ring must not be empty.
    func entry(for hash: UInt64, attempt: Int) -> Int {
        var low = 0
        var high = hashes.count
        while low < high {
            let middle = (low + high) / 2
            if hashes[middle] < hash { low = middle + 1 } else { high = middle }
        }
        return (low + attempt) % hashes.count
    }

    @inline(__always) func position(atEntry index: Int) -> Int { Int(positions[index]) }

    /// How many ring entries belong to each of `count` endpoints.
    public func entriesPerPosition(count: Int) -> [Int] {
        var counts = Array(repeating: 0, count: count)
        for position in positions { counts[Int(position)] += 1 }
        return counts
    }
}
