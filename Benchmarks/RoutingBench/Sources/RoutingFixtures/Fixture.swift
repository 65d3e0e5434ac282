import KanariaHTTP
import KanariaRouting

/// A route table and a request parsed from real bytes by `RequestHeadParser`, with the decision it must get.
public struct Fixture: Sendable {
    public let table: RouteTable
    /// The request's bytes; `head`'s spans point into them.
    public let request: [UInt8]
    public let head: RequestHead
    /// The first decision for `request` (a fresh `RoutingState` picks the route's first destination).
    public let expected: RouteDecision

    public init(table: RouteTable, request text: String, expected: RouteDecision) {
        self.table = table
        self.request = Array(text.utf8)
        var parser = RequestHeadParser()
        var head = RequestHead()
        let complete = try? request.withUnsafeBytes { try parser.parse($0, into: &head) }
        precondition(complete == true, "fixture request must be a complete, valid head")
        self.head = head
        self.expected = expected
    }

    /// What a browser sends for the shark page (headers as curl and Chromium send them).
    public static let browserRequest = """
        GET /shark HTTP/1.1\r
        Host: localhost:8080\r
        User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36\r
        Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r
        Accept-Encoding: gzip, deflate, br\r
        Accept-Language: en-US,en;q=0.9\r
        Connection: keep-alive\r
        \r

        """

    /// The tutorial's configuration: one listener (port 80), host `*`, one route sending 80/20 to subsets v1 and v2.
    public static func seed() -> Fixture {
        let table = RouteTable(
            listeners: [Listener(port: 80, gateway: "default/nodejs-gateway",
                                 virtualHosts: [VirtualHost(domains: ["*"], routes: [0])])],
            routes: [HTTPRoute(name: "nodejs.0", virtualService: "default/nodejs", matches: [],
                               destinations: [WeightedCluster(cluster: 0, weight: 80), WeightedCluster(cluster: 1, weight: 20)])],
            clusters: ["v1", "v2"].map { cluster($0, endpoints: [$0 == "v1" ? 0 : 1]) },
            endpoints: [endpoint("127.0.0.1", "v1"), endpoint("127.0.0.2", "v2")]
        )
        return Fixture(table: table, request: browserRequest, expected: .cluster(route: 0, cluster: 0))
    }

    /// 1,000 routes on host `shop.example.com`, each matching `uri: prefix: /api/` and header
    /// `x-tenant: exact: tenant-N`, split 90/10 between two of 20 clusters; then a catch-all route. The request
    /// carries `x-tenant: tenant-<matching>` as the last of eight fields, so every earlier route passes its uri
    /// prefix and then fails its header comparison: the common shape of per-tenant or per-user routing.
    public static func thousandRoutes(matching: Int) -> Fixture {
        var routes: [HTTPRoute] = []
        for n in 0..<1000 {
            let match = RequestMatch(uri: .prefix("/api/"),
                                     headers: [HeaderMatcher(name: "x-tenant", value: .exact("tenant-\(n)"))])
            routes.append(HTTPRoute(name: "tenant-\(n)", virtualService: "shop/tenants", matches: [match],
                                    destinations: [WeightedCluster(cluster: (2 * n) % 20, weight: 90),
                                                   WeightedCluster(cluster: (2 * n + 1) % 20, weight: 10)]))
        }
        routes.append(HTTPRoute(name: "default", virtualService: "shop/tenants", matches: [],
                                destinations: [WeightedCluster(cluster: 0, weight: 100)]))
        let table = RouteTable(
            listeners: [Listener(port: 80, gateway: "shop/gateway", virtualHosts: [
                VirtualHost(domains: ["www.example.com"], routes: []),
                VirtualHost(domains: ["shop.example.com", "*.shop.example.com"], routes: Array(routes.indices)),
            ])],
            routes: routes,
            clusters: (0..<20).map { cluster("c\($0)", endpoints: [$0]) },
            endpoints: (0..<20).map { endpoint("10.0.0.\($0 + 1)", "c\($0)") }
        )
        let request = """
            GET /api/orders/12345?expand=items HTTP/1.1\r
            Host: shop.example.com\r
            User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36\r
            Accept: application/json\r
            Accept-Encoding: gzip, deflate, br\r
            Accept-Language: en-US,en;q=0.9\r
            Cookie: session=0123456789abcdef\r
            Connection: keep-alive\r
            X-Tenant: tenant-\(matching)\r
            \r

            """
        return Fixture(table: table, request: request, expected: .cluster(route: matching, cluster: (2 * matching) % 20))
    }

    static func cluster(_ subset: String, endpoints: [Int]) -> Cluster {
        Cluster(serviceHost: "nodejs.default.svc.cluster.local", serviceName: "nodejs", namespace: "default",
                subset: subset, port: 8080, endpoints: endpoints)
    }

    static func endpoint(_ address: String, _ version: String) -> Endpoint {
        Endpoint(address: address, port: 8080, labels: ["app": "nodejs", "version": version],
                 workload: "nodejs-\(version)", namespace: "default")
    }
}
