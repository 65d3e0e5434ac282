import KanariaHTTP
import KanariaRouting
import Testing

@Suite("Per-worker routing state")
struct RoutingStateTests {
    static let table = RouteTable(
        routes: [],
        clusters: [nodejsCluster("v1", endpoints: [0, 1, 2]), nodejsCluster("v2", endpoints: [3]),
                   nodejsCluster("v3", endpoints: []), nodejsCluster("v4", endpoints: [2, 0])],
        endpoints: (0..<4).map { endpoint("127.0.0.\($0 + 1)", version: "v\($0)") }
    )

    /// A cluster's endpoints are taken in turn, wrapping around.
    @Test func pickEndpointRoundRobins() {
        var state = RoutingState(table: Self.table)
        let picked = (0..<7).map { _ in state.pickEndpoint(of: 0, in: Self.table) }
        #expect(picked == [0, 1, 2, 0, 1, 2, 0])
        #expect((0..<3).map { _ in state.pickEndpoint(of: 1, in: Self.table) } == [3, 3, 3])
    }

    /// Each cluster has its own cursor, even when clusters share endpoints.
    @Test func cursorsArePerCluster() {
        var state = RoutingState(table: Self.table)
        #expect(state.pickEndpoint(of: 0, in: Self.table) == 0)
        #expect(state.pickEndpoint(of: 3, in: Self.table) == 2)
        #expect(state.pickEndpoint(of: 0, in: Self.table) == 1)
        #expect(state.pickEndpoint(of: 3, in: Self.table) == 0)
        #expect(state.pickEndpoint(of: 3, in: Self.table) == 2)
        #expect(state.pickEndpoint(of: 0, in: Self.table) == 2)
    }

    /// A cluster without endpoints gives nil (the proxy answers 503 "no healthy upstream"), every time.
    @Test func emptyClusterHasNoEndpoint() {
        var state = RoutingState(table: Self.table)
        #expect(state.pickEndpoint(of: 2, in: Self.table) == nil)
        #expect(state.pickEndpoint(of: 2, in: Self.table) == nil)
        #expect(state.pickEndpoint(of: 1, in: Self.table) == 3)
    }

    /// Routing and endpoint picking together: the seed table's first five requests reach 127.0.0.1 ×2, .2, .1 ×2.
    @Test func routesThenPicksEndpoints() throws {
        let table = seedTable()
        var state = RoutingState(table: table)
        let request = try TestRequest("GET", "/shark")
        var addresses: [String] = []
        for _ in 0..<5 {
            guard case .cluster(_, let cluster) = table.route(request, state: &state),
                  let endpoint = state.pickEndpoint(of: cluster, in: table) else {
                Issue.record("no endpoint")
                return
            }
            addresses.append(table.endpoints[endpoint].address)
        }
        #expect(addresses == ["127.0.0.1", "127.0.0.1", "127.0.0.2", "127.0.0.1", "127.0.0.1"])
    }

    /// Two workers' states are independent: each splits 80/20 on its own.
    @Test func workersSplitIndependently() throws {
        let table = seedTable()
        var worker1 = RoutingState(table: table)
        var worker2 = RoutingState(table: table)
        let request = try TestRequest()
        var first: [RouteDecision] = [], second: [RouteDecision] = []
        for i in 0..<10 {
            first.append(table.route(request, state: &worker1))
            if i % 2 == 0 { second.append(table.route(request, state: &worker2)) }
        }
        let v1 = RouteDecision.cluster(route: 0, cluster: 0), v2 = RouteDecision.cluster(route: 0, cluster: 1)
        #expect(first == [v1, v1, v2, v1, v1, v1, v1, v2, v1, v1])
        #expect(second == [v1, v1, v2, v1, v1])
    }

    /// The state records the split mode it was made with.
    @Test func remembersTheSplitMode() {
        #expect(RoutingState(table: Self.table).split == .exact)
        #expect(RoutingState(table: Self.table, split: .random, seed: 1).split == .random)
        #expect(SplitMode(rawValue: "random") == .random)
        #expect(SplitMode(rawValue: "exact") == .exact)
    }
}
