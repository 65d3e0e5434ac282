import KanariaHTTP

/// A compiled, validated, immutable routing configuration: what a Gateway's listeners serve, which VirtualService
/// routes apply to which hosts, which subset clusters they send to, and which endpoints each cluster has.
///
/// Built once per configuration (by KanariaConfig) and shared by all workers; the mutable part of routing (the
/// weighted pickers' positions, round-robin cursors) lives in each worker's `RoutingState`.
public struct RouteTable: Sendable {
    public var listeners: [Listener]
    /// Every HTTP route of every listener; `VirtualHost.routes` index into it.
    public var routes: [HTTPRoute]
    /// Every (service, subset, port) an HTTP route can send to, as Envoy's clusters.
    public var clusters: [Cluster]
    /// Every upstream endpoint; a cluster lists indices into it. An endpoint in several clusters appears once.
    public var endpoints: [Endpoint]

    public init(listeners: [Listener] = [], routes: [HTTPRoute] = [], clusters: [Cluster] = [], endpoints: [Endpoint] = []) {
        self.listeners = listeners
        var slot = 0
        self.routes = routes.map { route in
            var route = route
            route.pickerSlot = slot
            slot += route.destinations.count
            return route
        }
        self.clusters = clusters
        self.endpoints = endpoints
    }

    /// The listener serving gateway port `port`, if any.
    public func listenerIndex(port: Int) -> Int? {
        listeners.firstIndex { $0.port == port }
    }
}

/// One Gateway server port: its protocol and the virtual hosts bound to it.
public struct Listener: Sendable {
    /// The Gateway server's `port.number`.
    public var port: Int
    /// The Gateway's name (`namespace/name`), for logs.
    public var gateway: String
    public var hosts: HostMatcher
    /// What clients speak on the port: the `port.protocol` of its first Gateway server.
    public var serverProtocol: ServerProtocol
    /// The certificates to terminate TLS with: set exactly when `serverProtocol` is `.https`.
    public var tls: ListenerTLS?
    /// An HTTP server's `tls.httpsRedirect: true`: a request for one of the listener's virtual hosts is answered
    /// with a 301 to the same URL with `https://` instead of being routed (Envoy's `require_tls: ALL`, as Istio
    /// configures it); a request for no virtual host still gets 404.
    public var httpsRedirect: Bool

    public init(port: Int, gateway: String, virtualHosts: [VirtualHost], serverProtocol: ServerProtocol = .http,
                tls: ListenerTLS? = nil, httpsRedirect: Bool = false) {
        self.port = port
        self.gateway = gateway
        self.hosts = HostMatcher(virtualHosts)
        self.serverProtocol = serverProtocol
        self.tls = tls
        self.httpsRedirect = httpsRedirect
    }

    public var virtualHosts: [VirtualHost] { hosts.virtualHosts }
}

/// The routes that serve a set of host names (the hosts of the VirtualServices bound to the listener).
public struct VirtualHost: Sendable {
    /// Host names as Istio writes them: `example.com`, `*.example.com` or `*`.
    public var domains: [String]
    /// Indices into `RouteTable.routes`, in order: the first whose match holds wins.
    public var routes: [Int]

    public init(domains: [String], routes: [Int]) {
        self.domains = domains
        self.routes = routes
    }
}

/// One entry of a VirtualService's `http` list, compiled.
public struct HTTPRoute: Sendable {
    /// `http[].name`, or `VirtualService-name.index` when unnamed.
    public var name: String
    /// `namespace/name` of the VirtualService it came from.
    public var virtualService: String
    /// Alternatives (`http[].match`): any one that holds selects the route; none at all matches everything.
    public var matches: [RequestMatch]
    /// The weighted destinations (`http[].route`), indices into `RouteTable.clusters` with their weights.
    public var destinations: [WeightedCluster]
    /// Where this route's picker keeps its state in `RoutingState`; assigned by `RouteTable.init`.
    public internal(set) var pickerSlot = 0
    /// Sum of the destinations' weights (Istio: share = weight / sum); positive for a valid route.
    public let totalWeight: Int

    public init(name: String, virtualService: String, matches: [RequestMatch], destinations: [WeightedCluster]) {
        self.name = name
        self.virtualService = virtualService
        self.matches = matches
        self.destinations = destinations
        self.totalWeight = destinations.reduce(0) { $0 + $1.weight }
    }
}

/// A destination of a route and its weight.
public struct WeightedCluster: Sendable, Equatable {
    public var cluster: Int
    public var weight: Int

    public init(cluster: Int, weight: Int) {
        self.cluster = cluster
        self.weight = weight
    }
}

/// The wire protocol spoken to a cluster's endpoints, chosen as Istio chooses it (the Service port's name or
/// appProtocol).
public enum UpstreamProtocol: String, Sendable {
    case http1
    case http2
}

/// A service's port restricted to one subset of its endpoints: Envoy's `outbound|PORT|SUBSET|HOST` cluster.
public struct Cluster: Sendable {
    /// `outbound|8080|v1|nodejs.default.svc.cluster.local`, as Istio names it.
    public var name: String
    /// The service's fully qualified host, `nodejs.default.svc.cluster.local`.
    public var serviceHost: String
    public var serviceName: String
    public var namespace: String
    /// The DestinationRule subset, or nil for the whole service.
    public var subset: String?
    public var port: Int
    public var upstreamProtocol: UpstreamProtocol
    /// Indices into `RouteTable.endpoints`.
    public var endpoints: [Int]
    /// The DestinationRule's traffic policy merged for this subset and port (Istio's defaults when none applies).
    public var trafficPolicy: TrafficPolicy
    /// The consistent-hash table over `endpoints` (positions in it) when the policy hashes; built once per table.
    public var hashTable: ConsistentHashTable?

    public init(serviceHost: String, serviceName: String, namespace: String, subset: String?, port: Int,
                upstreamProtocol: UpstreamProtocol = .http1, endpoints: [Int], trafficPolicy: TrafficPolicy = .istioDefault,
                hashTable: ConsistentHashTable? = nil) {
        self.name = "outbound|\(port)|\(subset ?? "")|\(serviceHost)"
        self.serviceHost = serviceHost
        self.serviceName = serviceName
        self.namespace = namespace
        self.subset = subset
        self.port = port
        self.upstreamProtocol = upstreamProtocol
        self.endpoints = endpoints
        self.trafficPolicy = trafficPolicy
        self.hashTable = hashTable
    }
}

/// One upstream address and the workload it belongs to.
public struct Endpoint: Sendable, Equatable {
    /// An IP address literal (v4 or v6).
    public var address: String
    public var port: Int
    public var labels: [String: String]
    /// The workload that owns it (a WorkloadEntry's name, or the Deployment whose template labels it matches).
    public var workload: String
    public var namespace: String

    public init(address: String, port: Int, labels: [String: String], workload: String, namespace: String) {
        self.address = address
        self.port = port
        self.labels = labels
        self.workload = workload
        self.namespace = namespace
    }

    /// The `version` label, which Istio reports as `destination_version`.
    public var version: String { labels["version"] ?? "unknown" }
    /// The `app` label, Istio's `destination_app`.
    public var app: String { labels["app"] ?? "unknown" }
}
