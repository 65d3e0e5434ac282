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

    /// HTTP/2 when the port says so as Istio reads it: `appProtocol` (or a ServiceEntry port's `protocol`)
    /// `http2`, `grpc` or `kubernetes.io/h2c`, or a port name starting with `http2` or `grpc` (but `grpc-web`,
    /// which is HTTP/1.1). Anything else is HTTP/1.1.
    static func upstreamProtocol(of port: ServicePortSpec) -> UpstreamProtocol {
        if let declared = port.appProtocol?.lowercased() {
            if ["http2", "grpc", "kubernetes.io/h2c"].contains(declared) { return .http2 }
            return .http1
        }
        let name = port.name?.lowercased() ?? ""
        if name.hasPrefix("grpc-web") { return .http1 }
        return name.hasPrefix("http2") || name.hasPrefix("grpc") ? .http2 : .http1
    }
}

extension Dictionary where Key == String, Value == String {
    /// Whether every label of `selector` is present here with the same value.
    func includes(_ selector: [String: String]) -> Bool {
        selector.allSatisfy { self[$0.key] == $0.value }
    }
}
