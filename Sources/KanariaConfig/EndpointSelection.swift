import KanariaRouting

/// Which workloads serve a service port, as Istio selects WorkloadEntries: by labels, and on which port.
enum EndpointSelection {
    /// The endpoints of `target`'s `port` restricted to a subset's labels:
    /// - a Service: the WorkloadEntries of its namespace whose labels include its selector and the subset's labels;
    /// - a ServiceEntry: its inline endpoints whose labels include the subset's, or the WorkloadEntries its
    ///   `workloadSelector` picks (and the subset's labels), or, with DNS resolution and neither, the host itself
    ///   when it is an IP address or `localhost`.
    ///
    /// The endpoint port is the workload's `ports[servicePortName]`, else (for a named `targetPort`) the workload's
    /// port of that name, else the numeric `targetPort`, else the service port itself.
    static func endpoints(of target: ServiceTarget, port: ServicePortSpec, subsetLabels: [String: String],
                          in documents: ConfigDocuments) -> [Endpoint] {
        switch target.source {
        case .service(let service):
            guard let selector = service.selector, !selector.isEmpty else { return [] }
            return workloadEntries(in: target.namespace, selector: selector.merging(subsetLabels) { a, _ in a },
                                   port: port, documents: documents)
        case .serviceEntry(let entry, let host):
            if let selector = entry.workloadSelector {
                return workloadEntries(in: target.namespace, selector: selector.merging(subsetLabels) { a, _ in a },
                                       port: port, documents: documents)
            }
            if entry.endpoints.isEmpty {
                let mode = entry.resolution?.value ?? "NONE"
                guard mode == "DNS" || mode == "DNS_ROUND_ROBIN", subsetLabels.isEmpty,
                      let address = EndpointAddress.literal(host) else { return [] }
                return [Endpoint(address: address, port: targetPortNumber(port), labels: [:], workload: entry.header.name,
                                 namespace: target.namespace)]
            }
            return entry.endpoints.compactMap { endpoint in
                guard endpoint.labels.includes(subsetLabels), let text = endpoint.address?.value,
                      let address = EndpointAddress.literal(text) else { return nil }
                let workload = deployment(matching: endpoint.labels, in: target.namespace, documents) ?? entry.header.name
                return Endpoint(address: address, port: endpointPort(endpoint, port), labels: endpoint.labels,
                                workload: workload, namespace: target.namespace)
            }
        }
    }

    private static func workloadEntries(in namespace: String, selector: [String: String], port: ServicePortSpec,
                                        documents: ConfigDocuments) -> [Endpoint] {
        documents.workloadEntries.compactMap { entry in
            let workload = entry.workload
            guard entry.header.namespace == namespace, workload.labels.includes(selector),
                  let text = workload.address?.value, let address = EndpointAddress.literal(text) else { return nil }
            let name = deployment(matching: workload.labels, in: namespace, documents) ?? entry.header.name
            return Endpoint(address: address, port: endpointPort(workload, port), labels: workload.labels,
                            workload: name, namespace: namespace)
        }
    }

    static func endpointPort(_ workload: WorkloadSpec, _ port: ServicePortSpec) -> Int {
        if let name = port.name, let number = workload.ports[name] { return number }
        if case .name(let name) = port.targetPort, let number = workload.ports[name] { return number }
        return targetPortNumber(port)
    }

    static func targetPortNumber(_ port: ServicePortSpec) -> Int {
        if case .number(let number) = port.targetPort { return number }
        return port.number
    }

    /// The Deployment of `namespace` whose pod template labels all appear in `labels`: the workload Istio
    /// reports as `destination_workload`.
    static func deployment(matching labels: [String: String], in namespace: String, _ documents: ConfigDocuments) -> String? {
        documents.deployments.first { deployment in
            deployment.header.namespace == namespace && !deployment.templateLabels.isEmpty
                && labels.includes(deployment.templateLabels)
        }?.header.name
    }

    /// HTTP/2 when Istio would speak HTTP/2 to the port: the protocol its `appProtocol` (or a ServiceEntry port's
    /// `protocol`) names, else the one its name names up to the first `-`, is HTTP2 or GRPC (any case):
    /// `http2`, `http2-web`, `grpc`, `grpc-sharks`; and `kubernetes.io/h2c`, Kubernetes' name for h2c. Anything
    /// else is HTTP/1.1: `http`, `tcp-db`, `http2web` (no `-`: Istio reads no protocol from it), a bare `h2c`
    /// (not a name Istio knows), and `grpc-web…` (Istio's gateway turns gRPC-Web into gRPC on the way; Kanaria
    /// forwards it as it came, so the upstream must speak gRPC-Web itself).
    static func upstreamProtocol(of port: ServicePortSpec) -> UpstreamProtocol {
        guard let declared = (port.appProtocol ?? port.name)?.lowercased() else { return .http1 }
        if declared == "kubernetes.io/h2c" { return .http2 }
        if declared.hasPrefix("grpc-web") { return .http1 }
        let name = declared.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        return name == "http2" || name == "grpc" ? .http2 : .http1
    }
}

extension Dictionary where Key == String, Value == String {
    /// Whether every label of `selector` is present here with the same value.
    func includes(_ selector: [String: String]) -> Bool {
        selector.allSatisfy { self[$0.key] == $0.value }
    }
}
