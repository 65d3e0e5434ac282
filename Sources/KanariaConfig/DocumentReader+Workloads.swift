import Yams

extension DocumentReader {
    static func workloadEntry(_ spec: Node?, _ root: Node, _ header: ResourceHeader, _ report: Reporter) -> WorkloadEntryResource? {
        guard let spec else { return nil }
        guard spec.value("address") != nil else {
            report.error(root.keyLine("spec"), "missing required field \"address\"", code: IstioCode.schema)
            return nil
        }
        let workload = workloadSpec(spec, report)
        if let address = workload.address, EndpointAddress.literal(address.value) == nil {
            report.warning(address.line, "address \"\(address.value)\" is not an IP address; resolving names is not implemented yet, so this WorkloadEntry is ignored")
        }
        return WorkloadEntryResource(header: header, workload: workload)
    }

    static func workloadSpec(_ node: Node, _ report: Reporter) -> WorkloadSpec {
        var ports: [String: Int] = [:]
        for entry in node.value("ports")?.entries ?? [] {
            guard let number = entry.value.integer else { continue }
            guard (1...65535).contains(number) else {
                report.error(entry.value.line, "port number \(number) is out of range 1-65535", code: IstioCode.schema)
                continue
            }
            ports[entry.key] = number
        }
        let address = node.value("address").flatMap { a in a.text.map { Located($0, line: a.line) } }
        return WorkloadSpec(address: address, ports: ports, labels: node.value("labels")?.stringMap ?? [:], line: node.line)
    }

    static func serviceEntry(_ spec: Node?, _ header: ResourceHeader, _ report: Reporter) -> ServiceEntryResource {
        let ports = (spec?.value("ports")?.items ?? []).compactMap { node -> ServicePortSpec? in
            guard let number = node.value("number")?.integer else { return nil }
            return ServicePortSpec(name: node.value("name")?.text, number: number,
                                   targetPort: node.value("targetPort")?.integer.map { .number($0) },
                                   appProtocol: node.value("protocol")?.text, line: node.line)
        }
        let resolution = spec?.value("resolution").flatMap { r in r.text.map { Located($0, line: r.line) } }
        let entry = ServiceEntryResource(
            header: header, hosts: spec?.value("hosts")?.locatedStrings ?? [], ports: ports, resolution: resolution,
            endpoints: (spec?.value("endpoints")?.items ?? []).map { workloadSpec($0, report) },
            workloadSelector: spec?.value("workloadSelector").map { $0.value("labels")?.stringMap ?? [:] })
        checkResolution(entry, report)
        return entry
    }

    /// STATIC needs IP literals (an error otherwise, as in Istio); DNS resolution of names is not implemented
    /// yet, so a name other than `localhost` is warned about and its endpoint left out.
    static func checkResolution(_ entry: ServiceEntryResource, _ report: Reporter) {
        let mode = entry.resolution?.value ?? "NONE"
        for endpoint in entry.endpoints {
            guard let address = endpoint.address else {
                report.error(endpoint.line, "missing required field \"address\"", code: IstioCode.schema)
                continue
            }
            if mode == "STATIC" {
                guard !EndpointAddress.isIP(address.value) else { continue }
                report.error(address.line, "endpoint address \"\(address.value)\" must be an IP address with resolution STATIC",
                             code: IstioCode.schema)
                continue
            }
            guard EndpointAddress.literal(address.value) == nil else { continue }
            if mode == "DNS" || mode == "DNS_ROUND_ROBIN" {
                report.warning(address.line, "resolving \"\(address.value)\" by DNS is not implemented yet (only IP addresses and localhost); this endpoint is ignored")
            } else {
                report.warning(address.line, "endpoint address \"\(address.value)\" is not an IP address; this endpoint is ignored")
            }
        }
        if (mode == "DNS" || mode == "DNS_ROUND_ROBIN"), entry.endpoints.isEmpty, entry.workloadSelector == nil,
           let resolution = entry.resolution {
            for host in entry.hosts where EndpointAddress.literal(host.value) == nil {
                report.warning(resolution.line, "resolving host \"\(host.value)\" by DNS is not implemented yet (only IP addresses and localhost); it has no endpoints")
            }
        }
    }
}
