import KanariaHTTP
import KanariaRouting
import Testing

/// `route explain` and live weight changes, on tables built from Routing's types.
@Suite("Explaining routes and changing weights")
struct ExplainAndWeightsTests {
    /// Two routes: /api with header x-canary: yes → cluster 1, then everything → clusters 0 and 1 at 80/20.
    private func table() -> RouteTable {
        let canary = RequestMatch(uri: .prefix("/api"), headers: [HeaderMatcher(name: "x-canary", value: .exact("yes"))])
        let routes = [
            HTTPRoute(name: "canary", virtualService: "default/nodejs", matches: [canary],
                      destinations: [WeightedCluster(cluster: 1, weight: 100)]),
            HTTPRoute(name: "split", virtualService: "default/nodejs", matches: [],
                      destinations: [WeightedCluster(cluster: 0, weight: 80), WeightedCluster(cluster: 1, weight: 20)]),
        ]
        return RouteTable(
            listeners: [Listener(port: 80, gateway: "default/gw", virtualHosts: [VirtualHost(domains: ["shop"], routes: [0, 1])])],
            routes: routes, clusters: [nodejsCluster("v1"), nodejsCluster("v2")])
    }

    /// A request that fails the first route is explained by the condition that failed, then the route that matched.
    @Test func explainsWhyEarlierRoutesDidNotMatch() throws {
        let request = try TestRequest("GET", "/api/orders", host: "shop", headers: [("X-Canary", "no")])
        let explanation = request.withView { table().explain($0, listener: 0) }
        #expect(explanation.virtualHost == 0)
        #expect(explanation.attempts.count == 2)
        #expect(explanation.attempts[0].mismatch == "header x-canary: exact \"yes\" does not match \"no\"")
        #expect(explanation.route == 1)
    }

    /// An absent header and a wrong path are said in words; an unknown host matches no virtual host.
    @Test func explainsAbsentHeaderWrongPathAndUnknownHost() throws {
        let noHeader = try TestRequest("GET", "/api", host: "shop")
        #expect(noHeader.withView { table().explain($0, listener: 0) }.attempts[0].mismatch
            == "header x-canary is absent (needs exact \"yes\")")
        let otherPath = try TestRequest("GET", "/web", host: "shop", headers: [("x-canary", "yes")])
        #expect(otherPath.withView { table().explain($0, listener: 0) }.attempts[0].mismatch
            == "uri prefix \"/api\" does not match \"/web\"")
        let unknownHost = try TestRequest("GET", "/", host: "elsewhere")
        let explanation = unknownHost.withView { table().explain($0, listener: 0) }
        #expect(explanation.virtualHost == nil && explanation.route == nil)
    }

    /// The explanation agrees with routing itself.
    @Test func explanationAgreesWithMatchRoute() throws {
        for (path, header) in [("/api/x", "yes"), ("/api/x", "no"), ("/", "yes")] {
            let request = try TestRequest("GET", path, host: "shop", headers: [("x-canary", header)])
            #expect(request.withView { table().explain($0, listener: 0).route } == table().matchRoute(request))
        }
    }

    /// New weights change the split of the next picks; the rest of the table is unchanged.
    @Test func replacingWeightsChangesTheSplit() throws {
        let changed = try table().replacingWeights(ofRoute: 1, with: [50, 50])
        #expect(changed.routes[1].destinations.map(\.weight) == [50, 50])
        #expect(changed.routes[1].totalWeight == 100)
        #expect(changed.routes[0].destinations == table().routes[0].destinations)
        var state = RoutingState(table: changed)
        let picks = (0..<10).map { _ in state.pickDestination(of: changed.routes[1]) }
        #expect(picks.filter { $0 == 0 }.count == 5)
    }

    /// Weight changes are checked like configuration: count, sign, total.
    @Test func refusesInvalidWeights() {
        #expect(throws: WeightChangeError.noSuchRoute(7)) { try table().replacingWeights(ofRoute: 7, with: [1]) }
        #expect(throws: WeightChangeError.wrongCount(expected: 2, got: 3)) { try table().replacingWeights(ofRoute: 1, with: [1, 1, 1]) }
        #expect(throws: WeightChangeError.negativeWeight) { try table().replacingWeights(ofRoute: 1, with: [-1, 2]) }
        #expect(throws: WeightChangeError.zeroTotal) { try table().replacingWeights(ofRoute: 1, with: [0, 0]) }
    }
}
