import KanariaRouting

/// What a load checked: the files, the resources by kind, and (when it compiled) the listeners, routes, and
/// endpoints of every subset. `kanaria validate` prints it when all is well, as `nginx -t` and
/// `istioctl analyze` say what they looked at, and `--json` carries it with the diagnostics.
///
/// For the tutorial's `config/` folder the text is:
///
///     checked 3 files: config/node-app.yaml, config/node-istio.yaml, config/workloads.yaml
///     resources: 8 (1 Gateway, 1 VirtualService, 1 DestinationRule, 1 Service, 2 Deployment, 2 WorkloadEntry)
///     listeners: 1
///       gateway port 80 HTTP (Gateway default/nodejs-gateway): hosts *; 1 route
///     routes: 1 (VirtualService default/nodejs: 1)
///     clusters: 2, with 2 endpoints
///       outbound|8080|v1|nodejs.default.svc.cluster.local: 1 endpoint (127.0.0.1:9081)
///       outbound|8080|v2|nodejs.default.svc.cluster.local: 1 endpoint (127.0.0.1:9082)
///     configuration is valid: 0 errors, 0 warnings
public struct ValidationSummary: Sendable, Equatable, Encodable {
    /// How many resources of one kind were read.
    public struct KindCount: Sendable, Equatable, Encodable {
        public var kind: String
        public var count: Int
    }

    /// One Gateway server port.
    public struct ListenerSummary: Sendable, Equatable, Encodable {
        public var port: Int
        /// Istio's name: `HTTP`, `HTTPS`, `HTTP2` or `GRPC`.
        public var `protocol`: String
        /// `namespace/name` of the Gateway that declares the port.
        public var gateway: String
        /// The virtual hosts' domains, as written.
        public var hosts: [String]
        /// The routes bound to the port, over all its virtual hosts.
        public var routes: Int
    }

    /// How many routes one VirtualService contributed.
    public struct RouteSource: Sendable, Equatable, Encodable {
        /// `namespace/name`.
        public var virtualService: String
        public var routes: Int
    }

    /// A subset cluster and the endpoints its labels selected.
    public struct ClusterSummary: Sendable, Equatable, Encodable {
        /// `outbound|8080|v1|nodejs.default.svc.cluster.local`.
        public var name: String
        public var subset: String?
        /// `ADDRESS:PORT` of each endpoint, in round-robin order.
        public var endpoints: [String]
    }

    /// The files read, in reading order.
    public var files: [String]
    /// Kinds in the order Istio's resources build on each other; kinds with no resource are left out.
    public var resources: [KindCount]
    /// Empty when the configuration did not compile (it has errors).
    public var listeners: [ListenerSummary]
    /// Routes per VirtualService (`namespace/name`), in the order first seen.
    public var routesByVirtualService: [RouteSource]
    public var clusters: [ClusterSummary]
    public var counts: Counts

    /// The totals, for a glance (and `--json`'s `summary.counts`).
    public struct Counts: Sendable, Equatable, Encodable {
        public var errors = 0
        public var warnings = 0
        public var resources = 0
        /// Resources per kind: `{"Gateway": 1, "VirtualService": 1, …}`.
        public var byKind: [String: Int] = [:]
        public var listeners = 0
        public var routes = 0
        public var clusters = 0
        public var endpoints = 0
    }

    init(files: [String], documents: ConfigDocuments, table: RouteTable?, diagnostics: [Diagnostic]) {
        self.files = files
        resources = [
            KindCount(kind: "Gateway", count: documents.gateways.count),
            KindCount(kind: "VirtualService", count: documents.virtualServices.count),
            KindCount(kind: "DestinationRule", count: documents.destinationRules.count),
            KindCount(kind: "ServiceEntry", count: documents.serviceEntries.count),
            KindCount(kind: "Service", count: documents.services.count),
            KindCount(kind: "Deployment", count: documents.deployments.count),
            KindCount(kind: "WorkloadEntry", count: documents.workloadEntries.count),
        ].filter { $0.count > 0 }
        counts = Counts(errors: diagnostics.filter(\.isError).count)
        counts.warnings = diagnostics.count - counts.errors
        counts.resources = resources.reduce(0) { $0 + $1.count }
        counts.byKind = Dictionary(uniqueKeysWithValues: resources.map { ($0.kind, $0.count) })
        guard let table else {
            listeners = []
            routesByVirtualService = []
            clusters = []
            return
        }
        listeners = table.listeners.map { listener in
            ListenerSummary(port: listener.port, protocol: listener.serverProtocol.rawValue, gateway: listener.gateway,
                            hosts: listener.virtualHosts.flatMap(\.domains),
                            routes: listener.virtualHosts.reduce(0) { $0 + $1.routes.count })
        }
        var routes: [RouteSource] = []
        for route in table.routes {
            if let index = routes.firstIndex(where: { $0.virtualService == route.virtualService }) {
                routes[index].routes += 1
            } else {
                routes.append(RouteSource(virtualService: route.virtualService, routes: 1))
            }
        }
        routesByVirtualService = routes
        clusters = table.clusters.map { cluster in
            ClusterSummary(name: cluster.name, subset: cluster.subset, endpoints: cluster.endpoints.map {
                let endpoint = table.endpoints[$0]
                return endpoint.address.contains(":") ? "[\(endpoint.address)]:\(endpoint.port)" : "\(endpoint.address):\(endpoint.port)"
            })
        }
        counts.listeners = listeners.count
        counts.routes = table.routes.count
        counts.clusters = clusters.count
        counts.endpoints = clusters.reduce(0) { $0 + $1.endpoints.count }
    }

    /// The report `kanaria validate` prints after the diagnostics, one line per element (see the type's comment).
    /// A cluster lists its first three endpoints.
    public var lines: [String] {
        var lines = ["checked \(plural(files.count, "file")): \(files.joined(separator: ", "))"]
        lines.append("resources: \(counts.resources) (\(resources.map { "\($0.count) \($0.kind)" }.joined(separator: ", ")))")
        if counts.errors == 0 {
            lines.append("listeners: \(listeners.count)")
            for listener in listeners {
                lines.append("  gateway port \(listener.port) \(listener.protocol) (Gateway \(listener.gateway)): "
                    + "hosts \(listener.hosts.joined(separator: ", ")); \(plural(listener.routes, "route"))")
            }
            let sources = routesByVirtualService.map { "VirtualService \($0.virtualService): \($0.routes)" }
            lines.append("routes: \(counts.routes)" + (sources.isEmpty ? "" : " (\(sources.joined(separator: ", ")))"))
            lines.append("clusters: \(counts.clusters), with \(plural(counts.endpoints, "endpoint"))")
            for cluster in clusters {
                let shown = cluster.endpoints.prefix(3).joined(separator: ", ") + (cluster.endpoints.count > 3 ? ", …" : "")
                lines.append("  \(cluster.name): \(plural(cluster.endpoints.count, "endpoint"))"
                    + (cluster.endpoints.isEmpty ? " (answers 503 no healthy upstream)" : " (\(shown))"))
            }
        }
        let problems = "\(plural(counts.errors, "error")), \(plural(counts.warnings, "warning"))"
        lines.append(counts.errors == 0 ? "configuration is valid: \(problems)" : "configuration is invalid: \(problems)")
        return lines
    }
}

/// `1 file`, `2 files`, `0 errors`.
private func plural(_ count: Int, _ noun: String) -> String {
    "\(count) \(noun)\(count == 1 ? "" : "s")"
}
