import KanariaRouting

/// A host routes can send to: a Kubernetes Service (by its cluster name) or a ServiceEntry host.
struct ServiceTarget {
    enum Source {
        case service(ServiceResource)
        case serviceEntry(ServiceEntryResource, host: String)
    }

    /// `nodejs.default.svc.cluster.local`, or the ServiceEntry host as written (lower-cased).
    var host: String
    /// The Service's name, or the ServiceEntry's host (Istio's `destination_service_name`).
    var name: String
    var namespace: String
    var ports: [ServicePortSpec]
    var source: Source
    /// Where it was defined, for messages.
    var header: ResourceHeader
}

/// A DestinationRule subset as it applies to a host.
struct SubsetDefinition {
    var name: String
    var labels: [String: String]
    var header: ResourceHeader
    var line: Int
    var trafficPolicy: TrafficPolicyLayer?
}

/// The resources indexed for look-ups while compiling.
struct Registry {
    private(set) var targets: [String: ServiceTarget] = [:]
    /// Subsets by target host, merged across DestinationRules in reading order (the first definition wins).
    private(set) var subsets: [String: [SubsetDefinition]] = [:]
    /// Top-level traffic policies by target host: the first DestinationRule that sets one wins, as in Istio.
    private(set) var trafficPolicies: [String: TrafficPolicyLayer] = [:]
    private(set) var gateways: [String: GatewayResource] = [:]

    init(_ documents: ConfigDocuments, log: DiagnosticLog) {
        for service in documents.services {
            let host = HostName.qualified(service.header.name, namespace: service.header.namespace)
            targets[host] = ServiceTarget(host: host, name: service.header.name, namespace: service.header.namespace,
                                          ports: service.ports, source: .service(service), header: service.header)
        }
        for entry in documents.serviceEntries {
            for host in entry.hosts {
                let name = host.value.lowercased()
                if let existing = targets[name] {
                    Reporter(log: log, file: entry.header.file, resource: entry.header.label)
                        .warning(host.line, "host \"\(host.value)\" is already defined by \(existing.header.label) (\(existing.header.file):\(existing.header.line)); this one is ignored")
                    continue
                }
                targets[name] = ServiceTarget(host: name, name: name, namespace: entry.header.namespace, ports: entry.ports,
                                              source: .serviceEntry(entry, host: name), header: entry.header)
            }
        }
        for gateway in documents.gateways {
            gateways[gateway.header.key] = gateway
        }
        for rule in documents.destinationRules {
            addSubsets(of: rule, log: log)
        }
    }

    /// The target a destination host written in namespace `namespace` refers to.
    func target(_ host: String, namespace: String) -> ServiceTarget? {
        for candidate in HostName.candidates(host, namespace: namespace) {
            if let target = targets[candidate] { return target }
        }
        return nil
    }

    /// Names worth suggesting for a host that was not found: every host, and the short names of Services in
    /// `namespace`.
    func hostSuggestions(namespace: String) -> [String] {
        targets.values.flatMap { target -> [String] in
            if case .service = target.source, target.namespace == namespace { return [target.name, target.host] }
            return [target.host]
        }.sorted()
    }

    /// Records `rule`'s top-level policy for `host` unless an earlier DestinationRule set one (then it is warned
    /// about: Istio merges the subsets of several rules for one host, but keeps the first rule's policy).
    private mutating func addTrafficPolicy(of rule: DestinationRuleResource, host: String, report: Reporter) {
        guard let policy = rule.trafficPolicy else { return }
        guard trafficPolicies[host] == nil else {
            return report.warning(policy.line, "the trafficPolicy for \(host) is already set by an earlier DestinationRule; only the first one applies")
        }
        trafficPolicies[host] = policy.value
    }

    private mutating func addSubsets(of rule: DestinationRuleResource, log: DiagnosticLog) {
        let report = Reporter(log: log, file: rule.header.file, resource: rule.header.label)
        let host: String
        if let target = target(rule.host.value, namespace: rule.header.namespace) {
            host = target.host
        } else {
            host = HostName.qualified(rule.host.value, namespace: rule.header.namespace)
            report.warning(rule.host.line, "host \"\(rule.host.value)\" matches no Service or ServiceEntry; this DestinationRule applies to nothing")
        }
        var list = subsets[host] ?? []
        for subset in rule.subsets {
            if let first = list.first(where: { $0.name == subset.name }) {
                report.warning(subset.line, "subset \"\(subset.name)\" of \(host) is also defined by \(first.header.label) (\(first.header.file):\(first.line)); that definition wins")
                continue
            }
            list.append(SubsetDefinition(name: subset.name, labels: subset.labels, header: rule.header, line: subset.line,
                                         trafficPolicy: subset.trafficPolicy))
        }
        subsets[host] = list
        addTrafficPolicy(of: rule, host: host, report: report)
    }
}
