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
        let listener = listeners[listener]
        guard let host = listener.hosts.match(request.authority) else { return nil }
        for routeIndex in listener.hosts.virtualHosts[host].routes {
            // Read through the array rather than copying the route (its policies would be retained and released).
            if routes[routeIndex].matches.isEmpty { return routeIndex }
            for match in routes[routeIndex].matches where match.matches(request, listenerPort: listener.port, isTLS: listener.tls != nil) {
                return routeIndex
            }
        }
        return nil
    }

    /// Routes `request` received on listener `listener`: the first matching route, then one of its weighted
    /// destinations, advancing `state`'s picker for that route.
    public func route(_ request: RequestView, listener: Int, state: inout RoutingState) -> RouteDecision {
        guard let routeIndex = matchRoute(request, listener: listener) else { return .noRoute }
        guard routes[routeIndex].forwards else { return .answer(route: routeIndex) }
        let pick = state.pickDestination(of: routes[routeIndex])
        return .cluster(route: routeIndex, cluster: routes[routeIndex].destinations[pick].cluster)
    }
}
