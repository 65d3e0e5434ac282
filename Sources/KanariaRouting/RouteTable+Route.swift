import KanariaHTTP

/// What routing decided for a request.
public enum RouteDecision: Sendable, Equatable {
    /// No virtual host serves the authority, or none of its routes matches: 404 (Envoy's response flag NR).
    case noRoute
    /// Send to `cluster` (an index into `RouteTable.clusters`), chosen by route `route`.
    case cluster(route: Int, cluster: Int)
    /// Route `route` answers by itself: its `action` is a redirect or a direct response.
    case answer(route: Int)
}

extension RouteTable {
    /// The first route of the matching virtual host whose match holds for `request`; pure.
    public func matchRoute(_ request: RequestView, listener: Int) -> Int? {
        firstMatch(request, listener: listener)?.route
    }

    /// The first route whose match holds, and which of its matches held first (-1 when it has none, matching
    /// everything): a `uri` rewrite replaces what that match matched.
    public func firstMatch(_ request: RequestView, listener: Int) -> (route: Int, match: Int)? {
        let listener = listeners[listener]
        guard let host = listener.hosts.match(request.authority) else { return nil }
        for routeIndex in listener.hosts.virtualHosts[host].routes {
            // Read through the array rather than copying the route (its policies would be retained and released).
            if routes[routeIndex].matches.isEmpty { return (routeIndex, -1) }
            for (index, match) in routes[routeIndex].matches.enumerated()
            where match.matches(request, listenerPort: listener.port, isTLS: listener.tls != nil) {
                return (routeIndex, index)
            }
        }
        return nil
    }

    /// Routes `request` received on listener `listener`: the first matching route, then one of its weighted
    /// destinations, advancing `state`'s picker for that route.
    public func route(_ request: RequestView, listener: Int, state: inout RoutingState) -> RouteDecision {
        routeInDetail(request, listener: listener, state: &state).decision
    }

    /// `route`, with which match of the route held (-1: none needed) and which of its destinations was drawn
    /// (an index into `HTTPRoute.destinations`, for its header edits; -1 for a route that answers by itself).
    public func routeInDetail(_ request: RequestView, listener: Int, state: inout RoutingState)
        -> (decision: RouteDecision, match: Int, destination: Int) {
        guard let (routeIndex, match) = firstMatch(request, listener: listener) else { return (.noRoute, -1, -1) }
        guard routes[routeIndex].forwards else { return (.answer(route: routeIndex), match, -1) }
        let pick = state.pickDestination(of: routes[routeIndex])
        return (.cluster(route: routeIndex, cluster: routes[routeIndex].destinations[pick].cluster), match, pick)
    }
}
