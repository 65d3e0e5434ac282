import KanariaRouting

/// A destination resolved: which service, which subset, which of its ports. Istio names the cluster
/// `outbound|PORT|SUBSET|HOST`.
struct ClusterKey {
    var target: ServiceTarget
    var subset: String?
    var port: ServicePortSpec

    var host: String { target.host }
    var id: String { "\(port.number)|\(subset ?? "")|\(target.host)" }
}

/// Collects clusters and their endpoints, each once: a cluster per (host, subset, port), an endpoint per
/// (address, port) however many clusters list it.
struct ClusterBuilder {
    private(set) var clusters: [Cluster] = []
    private(set) var endpoints: [Endpoint] = []
    private var clusterIndex: [String: Int] = [:]
    private var endpointIndex: [String: Int] = [:]

    /// The index of `key`'s cluster, creating it (and calling `onEmpty` if it has no endpoints) the first time.
    mutating func cluster(_ key: ClusterKey, registry: Registry, documents: ConfigDocuments, onEmpty: () -> Void) -> Int {
        if let index = clusterIndex[key.id] { return index }
        let subset = key.subset.flatMap { name in registry.subsets[key.host]?.first { $0.name == name } }
        let subsetLabels = subset?.labels ?? [:]
        var indices: [Int] = []
        for endpoint in EndpointSelection.endpoints(of: key.target, port: key.port, subsetLabels: subsetLabels, in: documents) {
            let index = self.index(of: endpoint)
            if !indices.contains(index) { indices.append(index) }
        }
        if indices.isEmpty { onEmpty() }
        let policy = TrafficPolicyLayer.resolve(top: registry.trafficPolicies[key.host], subset: subset?.trafficPolicy,
                                                port: key.port.number)
        clusters.append(Cluster(serviceHost: key.host, serviceName: key.target.name, namespace: key.target.namespace,
                                subset: key.subset, port: key.port.number,
                                upstreamProtocol: EndpointSelection.upstreamProtocol(of: key.port), endpoints: indices,
                                trafficPolicy: policy, hashTable: hashTable(for: policy, endpoints: indices)))
        clusterIndex[key.id] = clusters.count - 1
        return clusters.count - 1
    }

    /// The consistent-hash table of a cluster whose policy hashes, keyed by its endpoints' `ip:port`.
    private func hashTable(for policy: TrafficPolicy, endpoints indices: [Int]) -> ConsistentHashTable? {
        guard case .consistentHash(let hashing) = policy.loadBalancer else { return nil }
        let keys = indices.map { ConsistentHashTable.hostKey(address: endpoints[$0].address, port: endpoints[$0].port) }
        return ConsistentHashTable(hashing.table, hostKeys: keys)
    }

    private mutating func index(of endpoint: Endpoint) -> Int {
        let id = "\(endpoint.address)|\(endpoint.port)"
        if let index = endpointIndex[id] { return index }
        endpoints.append(endpoint)
        endpointIndex[id] = endpoints.count - 1
        return endpoints.count - 1
    }
}
