/// One listener to build: a Gateway server port and the virtual hosts bound to it.
struct ListenerPlan {
    var server: GatewayServer
    /// Domains and the VirtualServices (indices into `documents.virtualServices`) serving them, in reading order.
    var virtualHosts: [(domains: [String], services: [Int])]
}

extension ConfigCompiler {
    /// One listener per distinct HTTP server port of the Gateways, in reading order. A VirtualService bound to a
    /// Gateway serves, on each of its HTTP server ports, the hosts it shares with the server's hosts. Hosts
    /// served by several VirtualServices get their routes concatenated in reading order (as Istio merges them);
    /// hosts with the same VirtualServices share one virtual host.
    func listenerPlans(bindings: [[String]]) -> [ListenerPlan] {
        var plans: [ListenerPlan] = []
        var servers: [[(gateway: GatewayResource, server: GatewayServerSpec)]] = []
        for gateway in documents.gateways {
            for server in gateway.servers where server.protocolName == "HTTP" {
                let hosts = server.hosts.map(\.value)
                if let index = plans.firstIndex(where: { $0.server.port == server.port }) {
                    for host in hosts where !plans[index].server.hosts.contains(host) { plans[index].server.hosts.append(host) }
                    servers[index].append((gateway, server))
                } else {
                    plans.append(ListenerPlan(server: GatewayServer(gateway: gateway.header.key, port: server.port,
                                                                    portName: server.portName, protocol: "HTTP", hosts: hosts),
                                              virtualHosts: []))
                    servers.append([(gateway, server)])
                }
            }
        }
        for index in plans.indices {
            plans[index].virtualHosts = virtualHosts(on: servers[index], bindings: bindings)
        }
        warnAboutUnservedHosts(plans: plans, bindings: bindings)
        return plans
    }

    private func virtualHosts(on servers: [(gateway: GatewayResource, server: GatewayServerSpec)],
                              bindings: [[String]]) -> [(domains: [String], services: [Int])] {
        var domains: [String] = []
        var servicesOf: [String: [Int]] = [:]
        for (serviceIndex, service) in documents.virtualServices.enumerated() {
            for domain in self.domains(of: service, bound: bindings[serviceIndex], on: servers) {
                if servicesOf[domain] == nil { domains.append(domain) }
                if !(servicesOf[domain] ?? []).contains(serviceIndex) { servicesOf[domain, default: []].append(serviceIndex) }
            }
        }
        var hosts: [(domains: [String], services: [Int])] = []
        for domain in domains {
            let services = servicesOf[domain]!
            if let index = hosts.firstIndex(where: { $0.services == services }) {
                hosts[index].domains.append(domain)
            } else {
                hosts.append(([domain], services))
            }
        }
        return hosts
    }

    /// The names a VirtualService serves on a port: each of its hosts (short names qualified) intersected with
    /// the hosts of the servers of its Gateways on that port that admit its namespace.
    func domains(of service: VirtualServiceResource, bound gateways: [String],
                 on servers: [(gateway: GatewayResource, server: GatewayServerSpec)]) -> [String] {
        var result: [String] = []
        for (gateway, server) in servers where gateways.contains(gateway.header.key) {
            for serverHost in server.hosts {
                let (namespace, pattern) = HostName.serverHost(serverHost.value, gatewayNamespace: gateway.header.namespace)
                if let namespace, namespace != service.header.namespace { continue }
                for host in service.hosts {
                    let name = HostName.qualified(host.value, namespace: service.header.namespace)
                    if let domain = HostName.intersection(name, pattern), !result.contains(domain) { result.append(domain) }
                }
            }
        }
        return result
    }

    /// A VirtualService bound to existing Gateways whose HTTP servers admit none of its hosts gets no traffic.
    private func warnAboutUnservedHosts(plans: [ListenerPlan], bindings: [[String]]) {
        for (index, service) in documents.virtualServices.enumerated() where !bindings[index].isEmpty && !service.hosts.isEmpty {
            let served = plans.contains { plan in plan.virtualHosts.contains { $0.services.contains(index) } }
            let hasHTTPServer = bindings[index].contains { key in
                registry.gateways[key]?.servers.contains { $0.protocolName == "HTTP" } ?? false
            }
            if !served && hasHTTPServer {
                let gateways = bindings[index].map { "Gateway/\($0.split(separator: "/").last!)" }.joined(separator: ", ")
                reporter(for: service.header).warning(service.hosts[0].line,
                    "none of the hosts is admitted by the HTTP servers of \(gateways); this VirtualService gets no traffic")
            }
        }
    }
}
