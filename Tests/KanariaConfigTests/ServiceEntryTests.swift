import KanariaConfig
import KanariaRouting
import Testing

/// Upstreams described by ServiceEntries: inline endpoints, or WorkloadEntries picked by a workloadSelector.
@Suite struct ServiceEntryTests {
    private let gateway = """
    apiVersion: networking.istio.io/v1
    kind: Gateway
    metadata:
      name: edge
    spec:
      servers:
      - port: {number: 8000, name: http, protocol: HTTP}
        hosts: ["sharks.example.com"]
    ---
    apiVersion: networking.istio.io/v1
    kind: VirtualService
    metadata:
      name: sharks
    spec:
      hosts: ["sharks.example.com"]
      gateways: [edge]
      http:
      - route:
        - destination:
            host: sharks.internal
            subset: v1
          weight: 50
        - destination:
            host: sharks.internal
            subset: v2
          weight: 50
    ---
    apiVersion: networking.istio.io/v1
    kind: DestinationRule
    metadata:
      name: sharks
    spec:
      host: sharks.internal
      subsets:
      - {name: v1, labels: {version: v1}}
      - {name: v2, labels: {version: v2}}
    ---

    """

    /// Inline endpoints with labels, on the port their `ports` map names, or the ServiceEntry port's targetPort.
    @Test func inlineEndpoints() throws {
        let entry = """
        apiVersion: networking.istio.io/v1
        kind: ServiceEntry
        metadata:
          name: sharks
        spec:
          hosts: [sharks.internal]
          location: MESH_INTERNAL
          ports:
          - {number: 80, name: grpc-sharks, protocol: GRPC, targetPort: 7070}
          resolution: STATIC
          endpoints:
          - address: 127.0.0.1
            ports: {grpc-sharks: 9001}
            labels: {version: v1}
          - address: "::1"
            labels: {version: v2}
        """
        let config = load(("se.yaml", gateway + entry))
        #expect(printed(config) == [])
        let table = try #require(config.table)
        #expect(config.servers.map(\.hosts) == [["sharks.example.com"]])
        #expect(table.clusters.map(\.name) == ["outbound|80|v1|sharks.internal", "outbound|80|v2|sharks.internal"])
        #expect(table.clusters.map(\.upstreamProtocol) == [.http2, .http2])
        #expect(table.clusters.map(\.serviceName) == ["sharks.internal", "sharks.internal"])
        #expect(table.endpoints.map { "\($0.address) \($0.port) \($0.workload)" } == ["127.0.0.1 9001 sharks", "::1 7070 sharks"])
        #expect(clusterName("GET / HTTP/1.1\nHost: sharks.example.com\n\n", in: table) == "outbound|80|v1|sharks.internal")
        #expect(clusterName("GET / HTTP/1.1\nHost: other.example.com\n\n", in: table) == nil)
    }

    /// A workloadSelector picks the WorkloadEntries of the ServiceEntry's namespace by label.
    @Test func workloadSelector() throws {
        let entry = """
        apiVersion: networking.istio.io/v1
        kind: ServiceEntry
        metadata:
          name: sharks
        spec:
          hosts: [sharks.internal]
          ports:
          - {number: 80, name: http}
          resolution: STATIC
          workloadSelector:
            labels: {app: sharks}
        ---
        apiVersion: networking.istio.io/v1
        kind: WorkloadEntry
        metadata: {name: sharks-a}
        spec: {address: 127.0.0.2, ports: {http: 8081}, labels: {app: sharks, version: v1}}
        ---
        apiVersion: networking.istio.io/v1
        kind: WorkloadEntry
        metadata: {name: sharks-b}
        spec: {address: 127.0.0.3, labels: {app: sharks, version: v2}}
        ---
        apiVersion: networking.istio.io/v1
        kind: WorkloadEntry
        metadata: {name: whales, namespace: ocean}
        spec: {address: 127.0.0.4, labels: {app: sharks, version: v1}}
        """
        let config = load(("se.yaml", gateway + entry))
        #expect(printed(config) == [])
        let table = try #require(config.table)
        #expect(table.clusters.map { $0.endpoints.map { table.endpoints[$0].workload } } == [["sharks-a"], ["sharks-b"]])
        #expect(table.endpoints.map(\.port) == [8081, 80])
        #expect(table.clusters.map(\.upstreamProtocol) == [.http1, .http1])
    }

    /// STATIC needs IP addresses; DNS resolution of names is not implemented yet, but localhost is fine.
    @Test func resolution() throws {
        let entry = """
        apiVersion: networking.istio.io/v1
        kind: ServiceEntry
        metadata:
          name: sharks
        spec:
          hosts: [sharks.internal]
          ports:
          - {number: 80, name: http}
          resolution: RESOLUTION
          endpoints:
          - {address: localhost, labels: {version: v1}}
          - {address: sharks-v2.example.com, labels: {version: v2}}
        """
        let text = gateway + entry
        let dns = load(("se.yaml", text.replacingOccurrences(of: "RESOLUTION", with: "DNS")))
        #expect(printed(dns) == [
            "se.yaml:\(line(of: "subset: v2", in: text)): VirtualService/sharks: warning: no endpoints for subset \"v2\" of sharks.internal:80; requests routed there get 503 \"no healthy upstream\"",
            "se.yaml:\(line(of: "sharks-v2.example.com", in: text)): ServiceEntry/sharks: warning: resolving \"sharks-v2.example.com\" by DNS is not implemented yet (only IP addresses and localhost); this endpoint is ignored",
        ])
        #expect(dns.table?.endpoints.map(\.address) == ["127.0.0.1"])

        let staticEntry = load(("se.yaml", text.replacingOccurrences(of: "RESOLUTION", with: "STATIC")))
        #expect(staticEntry.errors.map(\.description) == [
            "se.yaml:\(line(of: "localhost", in: text)): ServiceEntry/sharks: endpoint address \"localhost\" must be an IP address with resolution STATIC [IST0106]",
            "se.yaml:\(line(of: "sharks-v2.example.com", in: text)): ServiceEntry/sharks: endpoint address \"sharks-v2.example.com\" must be an IP address with resolution STATIC [IST0106]",
        ])
    }

    /// A Service port is reached over HTTP/2 as Istio decides it: by its appProtocol when it has one, else by its
    /// name up to the first `-`.
    @Test func serviceUpstreamProtocol() throws {
        for (port, expected) in [("name: http2", UpstreamProtocol.http2), ("name: http2-web", .http2),
                                 ("name: grpc", .http2), ("name: grpc-sharks", .http2), ("name: http2web", .http1),
                                 ("name: grpc-web", .http1), ("name: grpc-web-sharks", .http1), ("name: tcp-db", .http1),
                                 ("name: web\n    appProtocol: http2", .http2), ("name: web\n    appProtocol: grpc", .http2),
                                 ("name: web\n    appProtocol: GRPC", .http2), ("name: web\n    appProtocol: kubernetes.io/h2c", .http2),
                                 ("name: web\n    appProtocol: h2c", .http1), ("name: grpc\n    appProtocol: http", .http1)] {
            let app = try configText("node-app.yaml").replacingOccurrences(of: "name: http\n    port: 8080", with: "\(port)\n    port: 8080")
            let workloads = try configText("workloads.yaml")
                .replacingOccurrences(of: "http: 9081", with: "\(port.split(separator: "\n")[0].dropFirst(6)): 9081")
            let config = load(("node-app.yaml", app), ("node-istio.yaml", try configText("node-istio.yaml")), ("workloads.yaml", workloads))
            #expect(config.table?.clusters.first?.upstreamProtocol == expected, "\(port)")
            #expect(config.table?.endpoints.first?.port == 9081, "\(port)")
        }
    }
}
