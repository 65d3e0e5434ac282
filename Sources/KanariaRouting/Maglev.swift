/// Envoy's Maglev table (Eisenbud et al., NSDI 2016): a lookup table of prime size M in which each endpoint claims
/// slots along its own permutation, in turns, until the table is full. A request's hash picks `table[hash % M]`.
/// Built once per cluster, shared by all workers; a look-up is one array read.
///
/// Endpoint k, whose key is `10.0.0.1:8080`, starts at `offset = xxHash64(key, seed 0) % M` and steps by
/// `skip = xxHash64(key, seed 1) % (M − 1) + 1`; its j-th choice is `(offset + j·skip) % M`. In each turn every
/// endpoint, in the order of their keys (sorted, as Envoy does), takes its next choice that is still free. With
/// equal weights each endpoint gets M/N slots, ±1: for the default M = 65537 and 3 endpoints, 21845 or 21846 each.
///
/// Removing an endpoint moves its slots to the others and disturbs only a few more (Maglev's minimal disruption).
public struct Maglev: Sendable, Equatable {
    /// The endpoint position of each slot.
    let table: [Int32]

    /// A table of `tableSize` (a prime) slots over endpoints whose hash keys are `hostKeys`, in position order.
    public init(hostKeys: [String], tableSize: Int = ConsistentHashPolicy.Table.defaultMaglevTableSize) {
        guard !hostKeys.isEmpty, tableSize > 1 else {
            table = hostKeys.isEmpty || tableSize < 1 ? [] : [0]  // one slot: the first endpoint takes it
            return
        }
        let size = UInt64(tableSize)
        // Envoy fills the table in the order of the host keys, sorted, so that it does not depend on list order.
        let order = hostKeys.indices.sorted { hostKeys[$0] < hostKeys[$1] }
        let offsets = order.map { XXHash64.hash(hostKeys[$0], seed: 0) % size }
        let skips = order.map { XXHash64.hash(hostKeys[$0], seed: 1) % (size - 1) + 1 }
        var next = Array(repeating: UInt64(0), count: order.count)
        var slots = Array(repeating: Int32(-1), count: tableSize)
        var filled = 0
        while filled < tableSize {
            for turn in order.indices where filled < tableSize {
                var slot = Int((offsets[turn] &+ skips[turn] &* next[turn]) % size)
                while slots[slot] >= 0 {
                    next[turn] += 1
                    slot = Int((offsets[turn] &+ skips[turn] &* next[turn]) % size)
                }
                slots[slot] = Int32(order[turn])
                next[turn] += 1
                filled += 1
            }
        }
        table = slots
    }

    public var size: Int { table.count }

    /// The endpoint position for `hash`; for a retry (`attempt` > 0) the hash is first XORed with
    /// `2⁶⁴ − attempt`, Envoy's way of landing far from the previous choice. nil for an empty table.
    public func position(for hash: UInt64, attempt: Int = 0) -> Int? {
        guard !table.isEmpty else { return nil }
        return position(atEntry: entry(for: hash, attempt: attempt))
    }

    /// The slot `hash` lands on for try `attempt`; the table must not be empty.
    func entry(for hash: UInt64, attempt: Int) -> Int {
        var hash = hash
        if attempt > 0 { hash ^= UInt64.max &- UInt64(attempt) &+ 1 }
        return Int(hash % UInt64(table.count))
    }

    @inline(__always) func position(atEntry index: Int) -> Int { Int(table[index]) }

    /// How many slots belong to each of `count` endpoints.
    public func slotsPerPosition(count: Int) -> [Int] {
        var counts = Array(repeating: 0, count: count)
        for position in table { counts[Int(position)] += 1 }
        return counts
    }
}
