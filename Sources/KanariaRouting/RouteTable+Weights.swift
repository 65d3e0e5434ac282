/// Why a change of weights was refused.
public enum WeightChangeError: Error, Equatable, Sendable, CustomStringConvertible {
    case noSuchRoute(Int)
    case wrongCount(expected: Int, got: Int)
    case negativeWeight
    case zeroTotal

    public var description: String {
        switch self {
        case .noSuchRoute(let index): "there is no route \(index)"
        case .wrongCount(let expected, let got): "the route has \(expected) destinations, \(got) weights were given"
        case .negativeWeight: "weights must not be negative"
        case .zeroTotal: "the weights must not add up to 0"
        }
    }
}

extension RouteTable {
    /// A copy of the table in which route `index`'s destinations have `weights` (same order, same count), checked
    /// as a configuration would be: no negative weight, a positive total.
    public func replacingWeights(ofRoute index: Int, with weights: [Int]) throws(WeightChangeError) -> RouteTable {
        guard routes.indices.contains(index) else { throw .noSuchRoute(index) }
        let route = routes[index]
        guard weights.count == route.destinations.count else {
            throw .wrongCount(expected: route.destinations.count, got: weights.count)
        }
        guard weights.allSatisfy({ $0 >= 0 }) else { throw .negativeWeight }
        guard weights.reduce(0, +) > 0 else { throw .zeroTotal }
        var changed = routes
        var destinations = route.destinations
        for i in destinations.indices { destinations[i].weight = weights[i] }
        changed[index] = route.with(destinations: destinations)
        return RouteTable(listeners: listeners, routes: changed, clusters: clusters, endpoints: endpoints)
    }
}

extension HTTPRoute {
    /// This route with other destinations (same count), every policy kept.
    func with(destinations: [WeightedCluster]) -> HTTPRoute {
        HTTPRoute(name: name, virtualService: virtualService, matches: matches, destinations: destinations,
                  action: action, rewrite: rewrite, headers: headers, corsPolicy: corsPolicy, timeout: timeout,
                  retries: retries, fault: fault, mirrors: mirrors)
    }
}
