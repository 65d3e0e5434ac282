import Yams

extension DocumentReader {
    static func service(_ spec: Node?, _ header: ResourceHeader, _ report: Reporter) -> ServiceResource {
        let portNodes = spec?.value("ports")?.items ?? []
        let ports = portNodes.compactMap { node -> ServicePortSpec? in
            guard let number = node.value("port")?.integer else { return nil }
            let target = node.value("targetPort")
            let targetPort: ServicePortSpec.Target? = target?.integer.map { .number($0) } ?? target?.text.map { .name($0) }
            return ServicePortSpec(name: node.value("name")?.text, number: number, targetPort: targetPort,
                                   appProtocol: node.value("appProtocol")?.text, line: node.line)
        }
        if ports.count > 1 {
            for (index, port) in ports.enumerated() where port.name == nil {
                report.error(port.line, "ports[\(index)] needs a name: a Service with several ports must name each")
            }
        }
        return ServiceResource(header: header, selector: spec?.value("selector")?.stringMap, ports: ports)
    }

    static func deployment(_ spec: Node?, _ header: ResourceHeader) -> DeploymentResource {
        let labels = spec?.value("template")?.value("metadata")?.value("labels")?.stringMap ?? [:]
        return DeploymentResource(header: header, templateLabels: labels)
    }
}
