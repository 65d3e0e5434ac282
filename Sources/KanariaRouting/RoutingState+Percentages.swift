/// Fault and mirror decisions: each applies to a percentage of a worker's requests on the route, counted
/// exactly like the split (or drawn, with `SplitMode.random`).
extension RoutingState {
    /// Whether this request gets the route's fault delay; false when the route has none.
    public mutating func appliesFaultDelay(of route: HTTPRoute) -> Bool {
        guard let delay = route.fault?.delay else { return false }
        return take(delay.percentage, slot: route.counterSlot)
    }

    /// Whether this request gets the route's fault abort; false when the route has none.
    public mutating func appliesFaultAbort(of route: HTTPRoute) -> Bool {
        guard let abort = route.fault?.abort else { return false }
        return take(abort.percentage, slot: route.counterSlot + 1)
    }

    /// Whether this request is copied to the route's mirror `mirror` (an index into `route.mirrors`).
    public mutating func mirrors(_ mirror: Int, of route: HTTPRoute) -> Bool {
        take(route.mirrors[mirror].percentage, slot: route.counterSlot + 2 + mirror)
    }

    /// One decision for `percentage` on counter `slot`: exact (a smooth weighted pick between "yes" and "no"
    /// with weights in millionths), or a draw in random mode.
    mutating func take(_ percentage: Percentage, slot: Int) -> Bool {
        switch split {
        case .exact: return countedPick(percentage.millionths, counter: &counters[slot])
        case .random: return random.next() % 1_000_000 < UInt64(percentage.millionths)
        }
    }
}

/// A smooth weighted pick between "yes" (weight `yes` millionths) and "no" (`1,000,000 - yes`) that keeps its
/// state in one counter (the "yes" slot; the "no" slot is always its negation). Every 1,000,000 / gcd picks hold
/// exactly `yes / gcd` "yes", spread evenly; 20% (200,000) gives no no yes no no, repeating; 100% always yes,
/// 0% never; 0.1% exactly one yes in every 1,000 picks.
@inline(__always)
func countedPick(_ yes: Int, counter: inout Int) -> Bool {
    guard yes > 0 else { return false }
    let total = 1_000_000
    let yesValue = counter + yes
    let noValue = -counter + (total - yes)
    if yesValue >= noValue {
        counter = yesValue - total
        return true
    }
    counter = yesValue
    return false
}
