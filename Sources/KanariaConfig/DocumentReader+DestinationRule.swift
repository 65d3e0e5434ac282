import KanariaRouting
import Yams

extension DocumentReader {
    /// A DestinationRule's host, subsets and traffic policies (top-level and per subset), checked.
    static func destinationRule(_ spec: Node?, _ header: ResourceHeader, _ report: Reporter) -> DestinationRuleResource? {
        guard let spec, let hostNode = spec.value("host"), let host = hostNode.text else { return nil }
        let policies = TrafficPolicyReader(report: report, file: header.file)
        var subsets: [SubsetSpec] = []
        for node in spec.value("subsets")?.items ?? [] {
            guard let name = node.value("name")?.text else { continue }
            if let first = subsets.first(where: { $0.name == name }) {
                report.error(node.keyLine("name"), "duplicate subset \"\(name)\"; first defined on line \(first.line)",
                             code: IstioCode.schema)
                continue
            }
            let policy = node.value("trafficPolicy").map { policies.layer($0, keyLine: node.keyLine("trafficPolicy")) }
            subsets.append(SubsetSpec(name: name, labels: node.value("labels")?.stringMap ?? [:], line: node.keyLine("name"),
                                      trafficPolicy: policy))
        }
        let policy = spec.value("trafficPolicy").map { node in
            Located(policies.layer(node, keyLine: spec.keyLine("trafficPolicy")), line: spec.keyLine("trafficPolicy"))
        }
        return DestinationRuleResource(header: header, host: Located(host, line: hostNode.line), subsets: subsets,
                                       trafficPolicy: policy)
    }
}
