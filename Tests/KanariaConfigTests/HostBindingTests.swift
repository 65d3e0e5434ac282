import KanariaConfig
import KanariaRouting
import Testing

/// Which VirtualServices serve which host names on which Gateway port.
@Suite struct HostBindingTests {
    private let app = """
    apiVersion: v1
    kind: Service
    metadata: {name: sharks, namespace: shop}
    spec:
      selector: {app: sharks}
      ports: [{name: http, port: 80}]
    ---
    apiVersion: networking.istio.io/v1
    kind: WorkloadEntry
    metadata: {name: sharks-1, namespace: shop}
    spec: {address: 127.0.0.1, ports: {http: 9001}, labels: {app: sharks}}
    ---
    apiVersion: v1
    kind: Service
    metadata: {name: whales, namespace: shop}
    spec:
      selector: {app: whales}
      ports: [{name: http, port: 80, targetPort: 8080}]
    ---
    apiVersion: networking.istio.io/v1
    kind: WorkloadEntry
    metadata: {name: whales-1, namespace: shop}
    spec: {address: 127.0.0.1, labels: {app: whales}}
    """

    private func gateway(hosts: String, ports: [Int] = [80]) -> String {
        let servers = ports.map { "  - port: {number: \($0), name: http-\($0), protocol: HTTP}\n    hosts: \(hosts)\n" }.joined()
        return "apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: {name: edge, namespace: shop}\nspec:\n  servers:\n\(servers)"
    }

    private func service(_ name: String, hosts: String, to host: String, gateways: String = "[edge]",
                         namespace: String = "shop", match: String = "") -> String {
        """
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: \(name), namespace: \(namespace)}
        spec:
          hosts: \(hosts)
          gateways: \(gateways)
          http:
          - \(match)route:
            - destination: {host: \(host)}
        """
    }

    /// Two VirtualServices on one Gateway, each for its own host: two virtual hosts, each with its route.
    @Test func oneVirtualHostPerHostName() throws {
        let config = load(("app.yaml", app), ("gw.yaml", gateway(hosts: "[\"*.example.com\"]")),
                          ("vs.yaml", service("sharks", hosts: "[sharks.example.com]", to: "sharks") + "\n---\n"
                                      + service("whales", hosts: "[whales.example.com]", to: "whales.shop")))
        #expect(printed(config) == [])
        let table = try #require(config.table)
        #expect(table.listeners[0].virtualHosts.map(\.domains) == [["sharks.example.com"], ["whales.example.com"]])
        #expect(clusterName("GET / HTTP/1.1\nHost: whales.example.com\n\n", in: table) == "outbound|80||whales.shop.svc.cluster.local")
        #expect(clusterName("GET / HTTP/1.1\nHost: sharks.example.com:80\n\n", in: table) == "outbound|80||sharks.shop.svc.cluster.local")
        #expect(clusterName("GET / HTTP/1.1\nHost: tuna.example.com\n\n", in: table) == nil)
        // The whales Service maps port 80 to targetPort 8080 on its WorkloadEntry, which names no port.
        #expect(table.endpoints.map(\.port) == [9001, 8080])
    }

    /// A `*` VirtualService host on a Gateway server for one name serves that name only.
    @Test func wildcardNarrowedByServerHost() throws {
        let config = load(("app.yaml", app), ("gw.yaml", gateway(hosts: "[shop.example.com]")),
                          ("vs.yaml", service("sharks", hosts: "[\"*\"]", to: "sharks")))
        let table = try #require(config.table)
        #expect(table.listeners[0].virtualHosts.map(\.domains) == [["shop.example.com"]])
        #expect(config.servers.map(\.hosts) == [["shop.example.com"]])
    }

    /// VirtualServices for the same host have their routes concatenated in reading order.
    @Test func sameHostConcatenatesRoutes() throws {
        let config = load(("app.yaml", app), ("gw.yaml", gateway(hosts: "[\"*\"]")),
                          ("vs.yaml", service("sharks", hosts: "[shop.example.com]", to: "sharks", match: "match: [{uri: {prefix: /sharks}}]\n    ")
                                      + "\n---\n" + service("whales", hosts: "[shop.example.com]", to: "whales")))
        #expect(printed(config) == [])
        let table = try #require(config.table)
        #expect(table.listeners[0].virtualHosts.count == 1)
        #expect(table.listeners[0].virtualHosts[0].routes.map { table.routes[$0].virtualService } == ["shop/sharks", "shop/whales"])
        #expect(clusterName("GET /sharks HTTP/1.1\nHost: shop.example.com\n\n", in: table) == "outbound|80||sharks.shop.svc.cluster.local")
        #expect(clusterName("GET /whales HTTP/1.1\nHost: shop.example.com\n\n", in: table) == "outbound|80||whales.shop.svc.cluster.local")
    }

    /// A server host `namespace/host` admits only VirtualServices of that namespace.
    @Test func serverHostNamespace() throws {
        let config = load(("app.yaml", app), ("gw.yaml", gateway(hosts: "[\"other/*\"]")),
                          ("vs.yaml", service("sharks", hosts: "[\"*\"]", to: "sharks")))
        #expect(printed(config) == [
            "vs.yaml:5: VirtualService/sharks: warning: none of the hosts is admitted by the HTTP servers of Gateway/edge; this VirtualService gets no traffic",
        ])
        let admitted = load(("app.yaml", app), ("gw.yaml", gateway(hosts: "[\"./*\"]")),
                            ("vs.yaml", service("sharks", hosts: "[\"*\"]", to: "sharks")))
        #expect(printed(admitted) == [])
        #expect(admitted.table?.listeners[0].virtualHosts.count == 1)
    }

    /// A short VirtualService host is the Service's cluster name, as Istio qualifies it.
    @Test func shortHostIsQualified() throws {
        let config = load(("app.yaml", app), ("gw.yaml", gateway(hosts: "[\"*\"]")),
                          ("vs.yaml", service("sharks", hosts: "[sharks]", to: "sharks")))
        #expect(config.table?.listeners[0].virtualHosts.map(\.domains) == [["sharks.shop.svc.cluster.local"]])
    }

    /// Each Gateway server port is a listener, in order; routes are shared, not copied.
    @Test func severalPorts() throws {
        let config = load(("app.yaml", app), ("gw.yaml", gateway(hosts: "[\"*\"]", ports: [8080, 80])),
                          ("vs.yaml", service("sharks", hosts: "[\"*\"]", to: "sharks")))
        let table = try #require(config.table)
        #expect(table.listeners.map(\.port) == [8080, 80])
        #expect(config.servers.map(\.port) == [8080, 80])
        #expect(config.servers.map(\.portName) == ["http-8080", "http-80"])
        #expect(table.routes.count == 1)
        #expect(table.listeners.map { $0.virtualHosts[0].routes } == [[0], [0]])
        #expect(clusterName("GET / HTTP/1.1\nHost: x\n\n", in: table, listener: 1) == "outbound|80||sharks.shop.svc.cluster.local")
    }

    /// Two Gateways with servers on the same port share one listener; its hosts are the union.
    @Test func gatewaysSharingAPort() throws {
        let second = gateway(hosts: "[api.example.com]").replacingOccurrences(of: "name: edge", with: "name: api")
        let config = load(("app.yaml", app), ("gw.yaml", gateway(hosts: "[shop.example.com]") + "---\n" + second),
                          ("vs.yaml", service("sharks", hosts: "[\"*\"]", to: "sharks", gateways: "[edge, api]")))
        #expect(printed(config) == [])
        #expect(config.servers == [GatewayServer(gateway: "shop/edge", port: 80, portName: "http-80", protocol: "HTTP",
                                                 hosts: ["shop.example.com", "api.example.com"])])
        let table = try #require(config.table)
        #expect(table.listeners[0].virtualHosts.map(\.domains) == [["shop.example.com", "api.example.com"]])
    }
}
