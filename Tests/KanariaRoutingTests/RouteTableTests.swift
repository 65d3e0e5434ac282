import KanariaHTTP
import KanariaRouting
import Testing

/// The tutorial's configuration compiled by hand: Gateway port 80 for host `*`, VirtualService `nodejs` with one
/// HTTP route sending 80% to subset v1 and 20% to subset v2, one WorkloadEntry per subset.
func seedTable() -> RouteTable {
    RouteTable(
        listeners: [Listener(port: 80, gateway: "default/nodejs-gateway",
                             virtualHosts: [VirtualHost(domains: ["*"], routes: [0])])],
        routes: [HTTPRoute(name: "nodejs.0", virtualService: "default/nodejs", matches: [],
                           destinations: [WeightedCluster(cluster: 0, weight: 80), WeightedCluster(cluster: 1, weight: 20)])],
        clusters: [nodejsCluster("v1", endpoints: [0]), nodejsCluster("v2", endpoints: [1])],
        endpoints: [endpoint("127.0.0.1", version: "v1"), endpoint("127.0.0.2", version: "v2")]
    )
}

@Suite("Route tables")
struct RouteTableTests {
    /// The seed configuration routes 80/20 exactly: v1 v1 v2 v1 v1, 800/200 over 1000 requests.
    @Test func seedTableSplitsEightyTwenty() throws {
        let table = seedTable()
        var state = RoutingState(table: table)
        let request = try TestRequest("GET", "/", host: "localhost:8080")
        var clusters: [Int] = []
        for _ in 0..<1000 {
            guard case .cluster(route: 0, let cluster) = table.route(request, state: &state) else {
                Issue.record("seed table did not route")
                return
            }
            clusters.append(cluster)
        }
        #expect(Array(clusters.prefix(5)) == [0, 0, 1, 0, 0])
        #expect(counts(clusters, destinations: 2) == [800, 200])
        #expect(table.clusters.map(\.name) == ["outbound|8080|v1|nodejs.default.svc.cluster.local",
                                                "outbound|8080|v2|nodejs.default.svc.cluster.local"])
    }

    /// Routes are tried in order and the first whose match holds wins, even when a later one is more specific.
    @Test func firstMatchingRouteWins() throws {
        let table = RouteTable(
            listeners: [Listener(port: 80, gateway: "default/gw", virtualHosts: [VirtualHost(domains: ["*"], routes: [0, 1, 2])])],
            routes: [
                HTTPRoute(name: "canary-header", virtualService: "default/vs",
                          matches: [RequestMatch(headers: [HeaderMatcher(name: "x-canary", value: .exact("yes"))])],
                          destinations: [WeightedCluster(cluster: 1, weight: 100)]),
                HTTPRoute(name: "api", virtualService: "default/vs", matches: [RequestMatch(uri: .prefix("/api"))],
                          destinations: [WeightedCluster(cluster: 0, weight: 100)]),
                HTTPRoute(name: "api-v2-never", virtualService: "default/vs", matches: [RequestMatch(uri: .prefix("/api/v2"))],
                          destinations: [WeightedCluster(cluster: 1, weight: 100)]),
            ],
            clusters: [nodejsCluster("v1"), nodejsCluster("v2")]
        )
        #expect(table.matchRoute(try TestRequest("GET", "/api/v2/x", headers: [("x-canary", "yes")])) == 0)
        #expect(table.matchRoute(try TestRequest("GET", "/api/v2/x")) == 1)
        #expect(table.matchRoute(try TestRequest("GET", "/web")) == nil)
        var state = RoutingState(table: table)
        #expect(table.route(try TestRequest("GET", "/web"), state: &state) == .noRoute)
        #expect(table.route(try TestRequest("GET", "/api"), state: &state) == .cluster(route: 1, cluster: 0))
    }

    /// A route's matches are alternatives: any one holding selects the route.
    @Test func anyMatchOfARouteSelectsIt() throws {
        let table = RouteTable(
            listeners: [Listener(port: 80, gateway: "default/gw", virtualHosts: [VirtualHost(domains: ["*"], routes: [0, 1])])],
            routes: [
                HTTPRoute(name: "either", virtualService: "default/vs",
                          matches: [RequestMatch(uri: .exact("/a")), RequestMatch(method: .exact("PUT"))],
                          destinations: [WeightedCluster(cluster: 1, weight: 1)]),
                HTTPRoute(name: "rest", virtualService: "default/vs", matches: [],
                          destinations: [WeightedCluster(cluster: 0, weight: 1)]),
            ],
            clusters: [nodejsCluster("v1"), nodejsCluster("v2")]
        )
        #expect(table.matchRoute(try TestRequest("GET", "/a")) == 0)
        #expect(table.matchRoute(try TestRequest("PUT", "/b")) == 0)
        #expect(table.matchRoute(try TestRequest("GET", "/b")) == 1)
    }

    /// The authority picks the virtual host first; its routes alone are considered; no host means no route.
    @Test func virtualHostScopesTheRoutes() throws {
        let table = RouteTable(
            listeners: [Listener(port: 80, gateway: "default/gw", virtualHosts: [
                VirtualHost(domains: ["sharks.example"], routes: [0]),
                VirtualHost(domains: ["*.fish.example"], routes: [1]),
            ])],
            routes: [
                HTTPRoute(name: "sharks", virtualService: "default/sharks", matches: [],
                          destinations: [WeightedCluster(cluster: 0, weight: 1)]),
                HTTPRoute(name: "fish", virtualService: "default/fish", matches: [],
                          destinations: [WeightedCluster(cluster: 1, weight: 1)]),
            ],
            clusters: [nodejsCluster("v1"), nodejsCluster("v2")]
        )
        var state = RoutingState(table: table)
        #expect(table.route(try TestRequest(host: "Sharks.Example:80"), state: &state) == .cluster(route: 0, cluster: 0))
        #expect(table.route(try TestRequest(host: "cod.fish.example"), state: &state) == .cluster(route: 1, cluster: 1))
        #expect(table.route(try TestRequest(host: "whales.example"), state: &state) == .noRoute)
        #expect(table.route(try TestRequest(raw: "GET / HTTP/1.0\r\n\r\n"), state: &state) == .noRoute)
    }

    /// Each listener has its own virtual hosts, and port matches compare against the listener's port.
    @Test func listenersAreSeparate() throws {
        let table = RouteTable(
            listeners: [
                Listener(port: 80, gateway: "default/gw", virtualHosts: [VirtualHost(domains: ["*"], routes: [0])]),
                Listener(port: 8080, gateway: "default/gw", virtualHosts: [VirtualHost(domains: ["*"], routes: [1, 0])]),
            ],
            routes: [
                HTTPRoute(name: "any", virtualService: "default/vs", matches: [],
                          destinations: [WeightedCluster(cluster: 0, weight: 1)]),
                HTTPRoute(name: "on-8080", virtualService: "default/vs", matches: [RequestMatch(port: 8080)],
                          destinations: [WeightedCluster(cluster: 1, weight: 1)]),
            ],
            clusters: [nodejsCluster("v1"), nodejsCluster("v2")]
        )
        #expect(table.listenerIndex(port: 8080) == 1)
        #expect(table.listenerIndex(port: 80) == 0)
        #expect(table.listenerIndex(port: 9) == nil)
        #expect(table.listeners[1].virtualHosts.count == 1)
        let request = try TestRequest()
        #expect(table.matchRoute(request, listener: 0) == 0)
        #expect(table.matchRoute(request, listener: 1) == 1)
    }

    /// Absolute-form requests route by their target's authority and path, as origin-form ones do.
    @Test func absoluteFormRoutesLikeOriginForm() throws {
        let table = RouteTable(
            listeners: [Listener(port: 80, gateway: "default/gw", virtualHosts: [VirtualHost(domains: ["sharks.example"], routes: [0])])],
            routes: [HTTPRoute(name: "root", virtualService: "default/vs", matches: [RequestMatch(uri: .prefix("/"))],
                               destinations: [WeightedCluster(cluster: 0, weight: 1)])],
            clusters: [nodejsCluster("v1")]
        )
        #expect(table.matchRoute(try TestRequest(raw: "GET http://sharks.example/info HTTP/1.1\r\nHost: x\r\n\r\n")) == 0)
        // An empty path is "/" (RFC 9110 §4.2.1), so a prefix "/" route serves it.
        #expect(table.matchRoute(try TestRequest(raw: "GET http://sharks.example HTTP/1.1\r\nHost: x\r\n\r\n")) == 0)
    }

    /// Endpoints report the labels Istio's metrics use, "unknown" when missing.
    @Test func endpointLabels() {
        let labelled = endpoint("10.0.0.1", version: "v2")
        #expect(labelled.version == "v2")
        #expect(labelled.app == "nodejs")
        let bare = Endpoint(address: "::1", port: 1, labels: [:], workload: "w", namespace: "default")
        #expect(bare.version == "unknown")
        #expect(bare.app == "unknown")
    }
}
