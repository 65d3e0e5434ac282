import KanariaRouting

extension ConfigCompiler {
    /// The Gateways (`namespace/name`) a VirtualService binds to; reports `mesh` (which Kanaria does not serve)
    /// and names that match no Gateway [IST0101].
    func gatewayKeys(of service: VirtualServiceResource, _ report: Reporter) -> [String] {
        if service.hosts.isEmpty {
            // A delegate: its routes are served in the place of the routes that delegate to it.
            if !isDelegateTarget(service) {
                report.warning(service.header.line, "no hosts and no route delegates to this VirtualService; it is ignored")
            }
            return []
        }
        guard let gateways = service.gateways, !gateways.isEmpty else {
            report.warning(service.gatewaysLine, "no gateways: this VirtualService applies to the mesh (sidecars) only, which Kanaria does not serve; it is ignored")
            return []
        }
        var keys: [String] = []
        for gateway in gateways {
            if gateway.value == "mesh" {
                report.warning(gateway.line, "gateway \"mesh\" (the sidecars) is ignored: Kanaria serves gateways only")
                continue
            }
            let key = gateway.value.contains("/") ? gateway.value : "\(service.header.namespace)/\(gateway.value)"
            guard registry.gateways[key] != nil else {
                let known = registry.gateways.keys.sorted()
                let sameNamespace = known.filter { $0.hasPrefix("\(service.header.namespace)/") }
                    .map { String($0.dropFirst(service.header.namespace.count + 1)) }
                let hint = Suggestion.hint(for: gateway.value, in: gateway.value.contains("/") ? known : sameNamespace)
                report.error(gateway.line, "referenced gateway not found: \"\(gateway.value)\" (no Gateway \(key))\(hint)",
                             code: IstioCode.notFound)
                continue
            }
            if !keys.contains(key) { keys.append(key) }
        }
        return keys
    }

    /// Compiles one `http` entry: resolves its destinations and mirrors into clusters and attaches its policies;
    /// nil when it cannot be served (a problem was reported).
    func compileRoute(_ route: HTTPRouteSpec, of service: VirtualServiceResource, clusters: inout ClusterBuilder,
                      _ report: Reporter) -> HTTPRoute? {
        let action = route.policy.action
        guard action != nil || !route.destinations.isEmpty else { return nil }
        var destinations: [WeightedCluster] = []
        for destination in action == nil ? route.destinations : [] {
            guard let index = resolve(destination, namespace: service.header.namespace, clusters: &clusters, report) else { continue }
            // A single destination takes all traffic; with several, a missing weight is 0 (Istio's rule).
            let weight = route.destinations.count == 1 ? 100 : max(0, destination.weight?.value ?? 0)
            destinations.append(WeightedCluster(cluster: index, weight: weight, headers: destination.headers))
        }
        let mirrors = (route.policy.mirrors ?? []).compactMap { mirror in
            resolve(mirror.destination, namespace: mirror.namespace, clusters: &clusters, report).map {
                MirrorPolicy(cluster: $0, percentage: mirror.percentage)
            }
        }
        let forwards = action == nil
        guard !forwards || (destinations.count == route.destinations.count && destinations.contains(where: { $0.weight > 0 })),
              mirrors.count == route.policy.mirrors?.count ?? 0,
              route.matches.allSatisfy({ $0.match != nil }) else { return nil }
        let name = route.name ?? "\(service.header.name).\(route.index)"
        let policy = route.policy
        return HTTPRoute(name: name, virtualService: service.header.key, matches: route.matches.compactMap(\.match),
                         destinations: destinations, action: action ?? .forward, rewrite: policy.rewrite,
                         headers: policy.headers ?? .none, corsPolicy: policy.corsPolicy, timeout: policy.timeout,
                         retries: policy.retries ?? .istioDefault, fault: policy.fault, mirrors: mirrors)
    }

    /// The cluster a destination (or mirror) names, created on first use; nil when it does not resolve (reported).
    func resolve(_ destination: DestinationSpec, namespace: String, clusters: inout ClusterBuilder, _ report: Reporter) -> Int? {
        guard let key = clusterKey(destination, namespace: namespace, report) else { return nil }
        let before = clusters.clusters.count
        let index = clusters.cluster(key, registry: registry, documents: documents) {
            let subset = key.subset.map { "subset \"\($0)\" of " } ?? ""
            report.warning(destination.subset?.line ?? destination.host.line,
                           "no endpoints for \(subset)\(key.host):\(key.port.number); requests routed there get 503 \"no healthy upstream\"")
        }
        if clusters.clusters.count > before, clusters.clusters[index].upstreamProtocol == .http2,
           case .simple = clusters.clusters[index].trafficPolicy.tls {
            report.warning(destination.host.line, "tls mode SIMPLE to an HTTP/2 port (\(key.host):\(key.port.number)) is not implemented yet (HTTP/1.1 ports only); Kanaria connects to it in plain text")
        }
        return index
    }

    /// The (host, subset, port) a destination names, checked against the registry: the host must be a Service
    /// or ServiceEntry [IST0101], the subset defined by a DestinationRule for it [IST0101], the port one it has.
    func clusterKey(_ destination: DestinationSpec, namespace: String, _ report: Reporter) -> ClusterKey? {
        let host = destination.host
        guard let target = registry.target(host.value, namespace: namespace) else {
            let qualified = HostName.qualified(host.value, namespace: namespace)
            let also = qualified == host.value.lowercased() ? "" : " (\(qualified))"
            let hint = Suggestion.hint(for: host.value, in: registry.hostSuggestions(namespace: namespace))
            report.error(host.line, "referenced host not found: \"\(host.value)\"\(also) is no Service or ServiceEntry\(hint)",
                         code: IstioCode.notFound)
            return nil
        }
        var valid = true
        if let subset = destination.subset {
            let defined = registry.subsets[target.host] ?? []
            if !defined.contains(where: { $0.name == subset.value }) {
                let rules = defined.isEmpty ? "no DestinationRule defines subsets for host \(target.host)"
                    : "the DestinationRules for host \(target.host) define \(defined.map { "\"\($0.name)\"" }.joined(separator: ", "))"
                let hint = Suggestion.hint(for: subset.value, in: defined.map(\.name))
                report.error(subset.line, "referenced subset not found: \"\(subset.value)\"; \(rules)\(hint)", code: IstioCode.notFound)
                valid = false
            }
        }
        guard let port = servicePort(of: target, destination, report), valid else { return nil }
        return ClusterKey(target: target, subset: destination.subset?.value, port: port)
    }

    /// The service port a destination uses: the one it names, else the service's only port.
    private func servicePort(of target: ServiceTarget, _ destination: DestinationSpec, _ report: Reporter) -> ServicePortSpec? {
        let numbers = target.ports.map { String($0.number) }.joined(separator: ", ")
        if let wanted = destination.port {
            if let port = target.ports.first(where: { $0.number == wanted.value }) { return port }
            let has = target.ports.isEmpty ? "it has no ports" : "its ports are \(numbers)"
            report.error(wanted.line, "host \(target.host) has no port \(wanted.value); \(has)", code: IstioCode.notFound)
            return nil
        }
        switch target.ports.count {
        case 1:
            return target.ports[0]
        case 0:
            report.error(destination.host.line, "host \(target.host) has no ports to route to")
        default:
            report.error(destination.host.line, "host \(target.host) has several ports (\(numbers)); choose one with \"port: {number: …}\"")
        }
        return nil
    }
}
