import KanariaConfig
import KanariaRouting
import Testing

/// A DestinationRule `nodejs` for host `nodejs` with `spec` (its fields after `host`, indented by two spaces).
func destinationRule(_ spec: String, name: String = "nodejs") -> String {
    """
    apiVersion: networking.istio.io/v1
    kind: DestinationRule
    metadata:
      name: \(name)
    spec:
      host: nodejs
    \(spec)
    """
}

/// The seed's subsets v1 and v2, indented for `destinationRule`, with `v1Extra` added to subset v1 (indented by four).
func seedSubsets(v1Extra: String = "") -> String {
    """
      subsets:
      - name: v1
        labels: {version: v1}
    \(v1Extra)
      - name: v2
        labels: {version: v2}
    """
}

/// The seed (Service, Gateway, the 80/20 VirtualService, WorkloadEntries) with `rule` read from `file` in place of
/// the seed's DestinationRule.
func loadRule(_ rule: String, file: String = "dr.yaml") throws -> LoadedConfiguration {
    let istio = try configText("node-istio.yaml")
    let withoutRule = istio.components(separatedBy: "---\n").prefix(2).joined(separator: "---\n")
    return load(("app.yaml", try configText("node-app.yaml")), ("vs.yaml", withoutRule), (file, rule),
                ("workloads.yaml", try configText("workloads.yaml")))
}

/// The traffic policy of the cluster for `subset` (port 8080 of nodejs), or fails the test.
func policy(of subset: String, in config: LoadedConfiguration) throws -> TrafficPolicy {
    let table = try #require(config.table)
    return try #require(table.clusters.first { $0.subset == subset }).trafficPolicy
}

/// The warning every DestinationRule traffic policy gets until the proxy honours it, on `line` of `file`.
func notImplemented(_ file: String, _ line: Int) -> String {
    "\(file):\(line): DestinationRule/nodejs: warning: field \"trafficPolicy\" is valid Istio but not implemented yet; it is ignored"
}

/// The start of a diagnostic about DestinationRule/nodejs on the line of `rule` containing `marker`:
/// `dr.yaml:12: DestinationRule/nodejs:`, with ` warning:` after it for a warning.
func at(_ marker: String, in rule: String, warning: Bool = false) -> String {
    "dr.yaml:\(line(of: marker, in: rule)): DestinationRule/nodejs:" + (warning ? " warning:" : "")
}
