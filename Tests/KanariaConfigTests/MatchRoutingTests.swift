import KanariaConfig
import KanariaRouting
import Testing

/// `http[].match` compiled into the table: what each condition lets through, checked with parsed requests.
@Suite struct MatchRoutingTests {
    private func table(_ http: String, hosts: String = "\"*\"") throws -> RouteTable {
        let config = load(("app.yaml", try configText("node-app.yaml")), ("istio.yaml", istioWith(virtualService(http, hosts: hosts))),
                          ("workloads.yaml", try configText("workloads.yaml")))
        #expect(config.errors.map(\.description) == [])
        return try #require(config.table)
    }

    private let v1 = "outbound|8080|v1|nodejs.default.svc.cluster.local"
    private let v2 = "outbound|8080|v2|nodejs.default.svc.cluster.local"

    /// Testers (a header) go to v2, everyone else to v1: the first matching route wins.
    @Test func headerMatchSendsTestersToTheCanary() throws {
        let table = try self.table("""
          - name: testers
            match:
            - headers:
                x-tester:
                  exact: "yes"
            route:
            - destination: {host: nodejs, subset: v2}
          - name: everyone
            route:
            - destination: {host: nodejs, subset: v1}
        """)
        #expect(table.routes.map(\.name) == ["testers", "everyone"])
        #expect(clusterName("GET / HTTP/1.1\nHost: a\nX-Tester: yes\n\n", in: table) == v2)
        #expect(clusterName("GET / HTTP/1.1\nHost: a\nX-Tester: no\n\n", in: table) == v1)
        #expect(clusterName("GET / HTTP/1.1\nHost: a\n\n", in: table) == v1)
    }

    /// uri prefix and exact, method, and a request no route matches (404).
    @Test func uriAndMethod() throws {
        let table = try self.table("""
          - match:
            - uri: {prefix: /sharks/}
              method: {exact: POST}
            - uri: {exact: /canary}
            route:
            - destination: {host: nodejs, subset: v2}
          - match:
            - uri: {prefix: /sharks}
            route:
            - destination: {host: nodejs, subset: v1}
        """)
        #expect(clusterName("POST /sharks/new HTTP/1.1\nHost: a\nContent-Length: 0\n\n", in: table) == v2)
        #expect(clusterName("GET /sharks/new HTTP/1.1\nHost: a\n\n", in: table) == v1)
        #expect(clusterName("GET /canary?x=1 HTTP/1.1\nHost: a\n\n", in: table) == v2)
        #expect(clusterName("GET /canary/x HTTP/1.1\nHost: a\n\n", in: table) == nil)
        #expect(clusterName("GET /whales HTTP/1.1\nHost: a\n\n", in: table) == nil)
    }

    /// ignoreUriCase, regex on a header, header presence (`{}`) and withoutHeaders.
    @Test func caseRegexPresenceAndAbsence() throws {
        let table = try self.table("""
          - match:
            - uri: {prefix: /Sharks}
              ignoreUriCase: true
              withoutHeaders:
                x-legacy: {}
            route:
            - destination: {host: nodejs, subset: v2}
          - match:
            - headers:
                user-agent: {regex: ".*Firefox.*"}
                x-beta: {}
            route:
            - destination: {host: nodejs, subset: v2}
          - route:
            - destination: {host: nodejs, subset: v1}
        """)
        #expect(clusterName("GET /SHARKS HTTP/1.1\nHost: a\n\n", in: table) == v2)
        #expect(clusterName("GET /sharks HTTP/1.1\nHost: a\nX-Legacy: 1\n\n", in: table) == v1)
        #expect(clusterName("GET / HTTP/1.1\nHost: a\nUser-Agent: Mozilla Firefox 1\nX-Beta: \n\n", in: table) == v2)
        #expect(clusterName("GET / HTTP/1.1\nHost: a\nUser-Agent: Mozilla Firefox 1\n\n", in: table) == v1)
    }

    /// authority and port conditions.
    @Test func authorityAndPort() throws {
        let table = try self.table("""
          - match:
            - authority: {prefix: canary.}
            route:
            - destination: {host: nodejs, subset: v2}
          - match:
            - port: 8080
            route:
            - destination: {host: nodejs, subset: v2}
          - route:
            - destination: {host: nodejs, subset: v1}
        """)
        #expect(clusterName("GET / HTTP/1.1\nHost: canary.sharks\n\n", in: table) == v2)
        #expect(clusterName("GET / HTTP/1.1\nHost: sharks\n\n", in: table) == v1)
        #expect(table.routes[1].matches.map(\.port) == [8080])
    }

    /// Unnamed routes are named `VirtualService.index`; match names are kept.
    @Test func routeAndMatchNames() throws {
        let table = try self.table("""
          - match:
            - name: api
              uri: {prefix: /api}
            route:
            - destination: {host: nodejs, subset: v2}
          - route:
            - destination: {host: nodejs, subset: v1}
        """)
        #expect(table.routes.map(\.name) == ["nodejs.0", "nodejs.1"])
        #expect(table.routes[0].matches.map(\.name) == ["api"])
    }
}
