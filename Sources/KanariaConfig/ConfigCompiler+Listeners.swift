import KanariaRouting

/// One listener to build: a Gateway server port and the virtual hosts bound to it.
struct ListenerPlan {
    var server: GatewayServer
    /// For HTTPS: one entry per server on the port, in reading order.
    var tls: ListenerTLS?
    var httpsRedirect: Bool
    /// Domains and the VirtualServices (indices into `documents.virtualServices`) serving them, in reading order.
    var virtualHosts: [(domains: [String], services: [Int])]
}

/// A Gateway server and the Gateway it belongs to.
typealias PlacedServer = (gateway: GatewayResource, server: GatewayServerSpec)

extension ConfigCompiler {
    /// One listener per distinct port of the served Gateway servers, in reading order. Servers share a port as
    /// Istio merges them: plain-text HTTP, HTTP2 and GRPC servers with each other, HTTPS servers with each other
    /// (the client's SNI picks the certificate); a plain-text and a TLS server on one port is an error. A
    /// VirtualService bound to a Gateway serves, on each of its server ports, the hosts it shares with the
    /// server's hosts. Hosts served by several VirtualServices get their routes concatenated in reading order (as
    /// Istio merges them); hosts with the same VirtualServices share one virtual host.
    func listenerPlans(bindings: [[String]]) -> [ListenerPlan] {
        var plans: [ListenerPlan] = []
        var servers: [[PlacedServer]] = []
        for gateway in documents.gateways {
            for server in gateway.servers {
                guard let serving = server.serving else { continue }
                guard let index = plans.firstIndex(where: { $0.server.port == server.port }) else {
                    plans.append(ListenerPlan(server: GatewayServer(gateway: gateway.header.key, port: server.port,
                                                                    portName: server.portName, serverProtocol: serving,
                                                                    hosts: server.hosts.map(\.value)),
                                              tls: server.certificate.map { ListenerTLS(servers: [Self.tlsEntry(server, $0)]) },
                                              httpsRedirect: server.httpsRedirect, virtualHosts: []))
                    servers.append([(gateway, server)])
                    continue
                }
                guard admit((gateway, server), to: &plans[index], sharing: servers[index]) else { continue }
                for host in server.hosts.map(\.value) where !plans[index].server.hosts.contains(host) {
                    plans[index].server.hosts.append(host)
                }
                servers[index].append((gateway, server))
            }
        }
        for index in plans.indices {
            plans[index].virtualHosts = virtualHosts(on: servers[index], bindings: bindings)
        }
        warnAboutUnservedHosts(plans: plans, bindings: bindings)
        return plans
    }

    /// Adds `placed` to the listener of its port, which `others` serve already; false (with a diagnostic) when
    /// it cannot share the port: plain text against TLS (an error), or a TLS host another server on the port
    /// already has (Istio skips such a server with a warning).
    private func admit(_ placed: PlacedServer, to plan: inout ListenerPlan, sharing others: [PlacedServer]) -> Bool {
        let (gateway, server) = placed
        let report = reporter(for: gateway.header)
        let first = others[0]
        guard server.serving?.usesTLS == plan.server.serverProtocol.usesTLS else {
            let (this, that) = server.serving?.usesTLS == true ? ("a TLS", "plain text") : ("a plain-text", "TLS")
            report.error(server.protocolLine, "port \(server.port) is already served with \(that) (protocol \(first.server.protocolName)) by \(Self.describe(first, from: gateway)); \(this) server (protocol \(server.protocolName)) cannot share it")
            return false
        }
        if let certificate = server.certificate {
            for host in server.sniHosts {
                guard let owner = others.first(where: { $0.server.sniHosts.contains { $0.lowercased() == host.lowercased() } }) else {
                    continue
                }
                let line = server.hosts.first { HostName.serverHost($0.value, gatewayNamespace: "").host == host }?.line
                report.warning(line ?? server.line, "host \"\(host)\" already has a certificate on port \(server.port) from \(Self.describe(owner, from: gateway)); as in Istio, this server is ignored")
                return false
            }
            plan.tls?.servers.append(Self.tlsEntry(server, certificate))
        }
        if server.httpsRedirect != plan.httpsRedirect {
            let redirecting = server.httpsRedirect ? placed : others.first { $0.server.httpsRedirect }!
            report.warning(server.httpsRedirectLine, "tls.httpsRedirect differs between the servers on port \(server.port) (it is set by \(Self.describe(redirecting, from: gateway))); Kanaria redirects per port for now, so every host on port \(server.port) is redirected to https")
            plan.httpsRedirect = true
        }
        return true
    }

    private static func tlsEntry(_ server: GatewayServerSpec, _ files: ServerCertificateFiles) -> ListenerTLS.Server {
        ListenerTLS.Server(hosts: server.sniHosts, serverCertificate: files.serverCertificate, privateKey: files.privateKey)
    }

    /// `the server at gw.yaml:12`, with ` of Gateway/name` when it is another Gateway's than `gateway`'s.
    private static func describe(_ placed: PlacedServer, from gateway: GatewayResource) -> String {
        var text = "the server at \(placed.gateway.header.file):\(placed.server.line)"
        if placed.gateway.header.key != gateway.header.key { text += " of \(placed.gateway.header.label)" }
        return text
    }

    private func virtualHosts(on servers: [PlacedServer],
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
                 on servers: [PlacedServer]) -> [String] {
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

    /// A VirtualService bound to existing Gateways whose served servers admit none of its hosts gets no traffic.
    private func warnAboutUnservedHosts(plans: [ListenerPlan], bindings: [[String]]) {
        for (index, service) in documents.virtualServices.enumerated() where !bindings[index].isEmpty && !service.hosts.isEmpty {
            let served = plans.contains { plan in plan.virtualHosts.contains { $0.services.contains(index) } }
            let hasHTTPServer = bindings[index].contains { key in
                registry.gateways[key]?.servers.contains { $0.serving != nil } ?? false
            }
            if !served && hasHTTPServer {
                let gateways = bindings[index].map { "Gateway/\($0.split(separator: "/").last!)" }.joined(separator: ", ")
                reporter(for: service.header).warning(service.hosts[0].line,
                    "none of the hosts is admitted by the HTTP servers of \(gateways); this VirtualService gets no traffic")
            }
        }
    }
}
