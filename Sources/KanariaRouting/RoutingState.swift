/// One worker's mutable routing state for one `RouteTable`: where each route's weighted picker stands and where
/// each cluster's round-robin cursor points. Never shared between threads; rebuilt when the table changes.
public struct RoutingState: Sendable {
    public let split: SplitMode
    /// Smooth weighted round-robin positions, one slot per destination of every route (see `HTTPRoute.pickerSlot`).
    var current: [Int]
    /// Each route's destination weights, laid out like `current`.
    let weights: [Int]
    /// Round-robin cursor per cluster.
    var cursors: [Int]
    /// Percentage counters (fault delay, fault abort, each mirror) of every route, from `HTTPRoute.counterSlot`.
    var counters: [Int]
    var random: SplitMix64

    public init(table: RouteTable, split: SplitMode = .exact, seed: UInt64 = 0) {
        self.split = split
        var weights: [Int] = []
        for route in table.routes {
            precondition(route.pickerSlot == weights.count, "RouteTable assigns picker slots in order")
            weights.append(contentsOf: route.destinations.map(\.weight))
        }
        self.weights = weights
        self.current = Array(repeating: 0, count: weights.count)
        self.cursors = Array(repeating: 0, count: table.clusters.count)
        self.counters = Array(repeating: 0, count: table.counterSlotCount)
        self.random = SplitMix64(seed: seed)
    }

    /// Picks one of `route`'s destinations; returns its index in `route.destinations`.
    @inlinable public mutating func pickDestination(of route: HTTPRoute) -> Int {
        let count = route.destinations.count
        if count == 1 { return 0 }
        return pick(slot: route.pickerSlot, count: count, total: route.totalWeight)
    }

    @usableFromInline mutating func pick(slot: Int, count: Int, total: Int) -> Int {
        weights.withUnsafeBufferPointer { allWeights in
            let weights = UnsafeBufferPointer(rebasing: allWeights[slot..<slot + count])
            switch split {
            case .exact:
                return current.withUnsafeMutableBufferPointer { all in
                    smoothWeightedPick(weights, total: total, current: UnsafeMutableBufferPointer(rebasing: all[slot..<slot + count]))
                }
            case .random:
                return randomWeightedPick(weights, draw: random.next(), total: total)
            }
        }
    }

    /// A draw from this worker's generator (retry back-off jitter, and other per-request randomness).
    public mutating func nextDraw() -> UInt64 { random.next() }

    /// The next endpoint of `cluster` in round-robin order, or nil when it has none (Envoy's "no healthy upstream").
    public mutating func pickEndpoint(of cluster: Int, in table: RouteTable) -> Int? {
        guard let position = pickEndpointPosition(of: cluster, count: table.clusters[cluster].endpoints.count) else {
            return nil
        }
        return table.clusters[cluster].endpoints[position]
    }

    /// The position in `cluster`'s endpoint list (of `count` endpoints) of the next endpoint in round-robin order;
    /// nil when the cluster has none. For callers that keep per-position data beside the list.
    public mutating func pickEndpointPosition(of cluster: Int, count: Int) -> Int? {
        guard count > 0 else { return nil }
        let cursor = cursors[cluster]
        cursors[cluster] = cursor + 1 >= count ? 0 : cursor + 1
        return cursor < count ? cursor : 0
    }
}
