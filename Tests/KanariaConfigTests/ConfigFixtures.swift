import Foundation
import KanariaConfig
import KanariaHTTP
import KanariaRouting
import Testing

/// The repository's `config/` folder (the tutorial's manifests and the local WorkloadEntries).
let configFolder = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("config").path

func configText(_ name: String) throws -> String {
    try String(contentsOfFile: "\(configFolder)/\(name)", encoding: .utf8)
}

/// Loads YAML texts named like files.
func load(_ sources: (String, String)...) -> LoadedConfiguration {
    ConfigLoader.load(sources: sources.map { (name: $0.0, text: $0.1) })
}

/// The tutorial's two manifests and the local WorkloadEntries, with `istio` in place of node-istio.yaml when given.
func loadSeed(istio: String? = nil, workloads: String? = nil) throws -> LoadedConfiguration {
    load(("node-app.yaml", try configText("node-app.yaml")),
         ("node-istio.yaml", try istio ?? configText("node-istio.yaml")),
         ("workloads.yaml", try workloads ?? configText("workloads.yaml")))
}

/// The seed's Service, Deployments and WorkloadEntries with `istio` (named `vs.yaml`) in place of node-istio.yaml.
func loadVS(_ istio: String) throws -> LoadedConfiguration {
    load(("app.yaml", try configText("node-app.yaml")), ("vs.yaml", istio), ("workloads.yaml", try configText("workloads.yaml")))
}

/// The 1-based line of the first line of `text` containing `marker` (so tests state lines by content).
func line(of marker: String, in text: String, after: String? = nil) -> Int {
    let lines = text.components(separatedBy: "\n")
    var start = 0
    if let after { start = lines.firstIndex { $0.contains(after) } ?? 0 }
    guard let index = lines[start...].firstIndex(where: { $0.contains(marker) }) else {
        Issue.record("no line contains \(marker)")
        return 0
    }
    return index + 1
}

/// The printed diagnostics, one per element.
func printed(_ config: LoadedConfiguration) -> [String] {
    config.diagnostics.map(\.description)
}

/// Routes `request` (the raw head, `\r\n` line ends added) through listener `listener` of `table`.
func route(_ request: String, in table: RouteTable, listener: Int = 0, state: inout RoutingState) -> RouteDecision {
    let bytes = Array(request.replacingOccurrences(of: "\n", with: "\r\n").utf8)
    return bytes.withUnsafeBytes { buffer in
        var parser = RequestHeadParser()
        var head = RequestHead()
        guard (try? parser.parse(buffer, into: &head)) == true else {
            Issue.record("request did not parse: \(request)")
            return .noRoute
        }
        return table.route(RequestView(message: buffer, head: head), listener: listener, state: &state)
    }
}

/// The name of the cluster `request` is sent to, or nil when no route matches.
func clusterName(_ request: String, in table: RouteTable, listener: Int = 0) -> String? {
    var state = RoutingState(table: table)
    guard case .cluster(_, let cluster) = route(request, in: table, listener: listener, state: &state) else { return nil }
    return table.clusters[cluster].name
}

/// The subset (or "-") each of `count` requests for `/` goes to, in order.
func subsets(of count: Int, in table: RouteTable, request: String = "GET / HTTP/1.1\nHost: shark.local\n\n") -> [String] {
    var state = RoutingState(table: table)
    return (0..<count).map { _ in
        guard case .cluster(_, let cluster) = route(request, in: table, state: &state) else { return "404" }
        return table.clusters[cluster].subset ?? "-"
    }
}

/// A VirtualService document bound to the seed's gateway, with `http` as its routes (indented under `http:`).
func virtualService(_ http: String, name: String = "nodejs", hosts: String = "\"*\"") -> String {
    """
    apiVersion: networking.istio.io/v1beta1
    kind: VirtualService
    metadata:
      name: \(name)
    spec:
      hosts:
      - \(hosts)
      gateways:
      - nodejs-gateway
      http:
    \(http)
    """
}

/// The seed's Gateway and DestinationRule, with the seed's VirtualService replaced by `virtualService`.
func istioWith(_ virtualService: String) -> String {
    """
    apiVersion: networking.istio.io/v1alpha3
    kind: Gateway
    metadata:
      name: nodejs-gateway
    spec:
      selector:
        istio: ingressgateway
      servers:
      - port:
          number: 80
          name: http
          protocol: HTTP
        hosts:
        - "*"
    ---
    apiVersion: networking.istio.io/v1alpha3
    kind: DestinationRule
    metadata:
      name: nodejs
    spec:
      host: nodejs
      subsets:
      - name: v1
        labels:
          version: v1
      - name: v2
        labels:
          version: v2
    ---
    \(virtualService)
    """
}
