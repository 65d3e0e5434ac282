import KanariaRouting

/// Turns checked resources into a `RouteTable`: resolves every cross-resource reference (gateways, hosts,
/// subsets, ports), reporting what does not resolve, then lays out listeners, routes, clusters and endpoints.
///
/// The table is built even when problems were found, so that one run reports them all; the loader only hands it
/// out when there is no error.
struct ConfigCompiler {
    let documents: ConfigDocuments
    let log: DiagnosticLog
    let registry: Registry

    init(documents: ConfigDocuments, log: DiagnosticLog) {
        self.documents = documents
        self.log = log
        self.registry = Registry(documents, log: log)
    }

    func compile() -> (table: RouteTable, servers: [GatewayServer]) {
        var clusters = ClusterBuilder()
        var routes: [[HTTPRoute]] = []  // per VirtualService: its routes that can be served
        var bindings: [[String]] = []
        for service in documents.virtualServices {
            let report = reporter(for: service.header)
            bindings.append(gatewayKeys(of: service, report))
            routes.append(service.routes.flatMap { compileRoutes($0, of: service, clusters: &clusters, report) })
            RouteReachability.check(service, report)
        }
        let listeners = listenerPlans(bindings: bindings)

        // Each VirtualService's routes go into the table once, the first time a virtual host needs them.
        var tableRoutes: [HTTPRoute] = []
        var placed: [Int: [Int]] = [:]
        func routeIndices(of service: Int) -> [Int] {
            if let indices = placed[service] { return indices }
            let indices = routes[service].map { route in
                tableRoutes.append(route)
                return tableRoutes.count - 1
            }
            placed[service] = indices
            return indices
        }
        let tableListeners = listeners.map { plan in
            Listener(port: plan.server.port, gateway: plan.server.gateway, virtualHosts: plan.virtualHosts.map { host in
                VirtualHost(domains: host.domains, routes: host.services.flatMap(routeIndices(of:)))
            }, serverProtocol: plan.server.serverProtocol, tls: plan.tls, httpsRedirect: plan.httpsRedirect)
        }
        let table = RouteTable(listeners: tableListeners, routes: tableRoutes, clusters: clusters.clusters,
                               endpoints: clusters.endpoints)
        return (table, listeners.map(\.server))
    }

    func reporter(for header: ResourceHeader) -> Reporter {
        Reporter(log: log, file: header.file, resource: header.label)
    }
}
