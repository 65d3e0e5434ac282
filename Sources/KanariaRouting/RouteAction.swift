/// What a route does with the requests it matches (Istio's `route`, `redirect` and `directResponse`, of which
/// exactly one is set).
public enum RouteAction: Sendable, Equatable {
    /// Forward to one of `HTTPRoute.destinations`, by weight.
    case forward
    /// Answer with a redirect built from the request (`RedirectAction.location`).
    case redirect(RedirectAction)
    /// Answer with a fixed status and body.
    case directResponse(DirectResponse)
}
