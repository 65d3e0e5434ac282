import KanariaHTTP

/// A compiled, validated, immutable routing configuration: what a Gateway's listeners serve, which VirtualService
/// routes apply to which hosts, which subset clusters they send to, and which endpoints each cluster has.
///
/// Built once per configuration (by KanariaConfig) and shared by all workers; the mutable part of routing (the
/// weighted pickers' positions, round-robin cursors) lives in each worker's `RoutingState`.
public struct RouteTable: Sendable {
    public let listeners: [Listener]
    /// Every HTTP route of every listener; `VirtualHost.routes` index into it.
    public let routes: [HTTPRoute]
    /// Every (service, subset, port) an HTTP route can send to, as Envoy's clusters.
    public let clusters: [Cluster]
    /// Every upstream endpoint; a cluster lists indices into it. An endpoint in several clusters appears once.
    public let endpoints: [Endpoint]

    public init(listeners: [Listener] = [], routes: [HTTPRoute] = [], clusters: [Cluster] = [], endpoints: [Endpoint] = []) {
        self.listeners = listeners
        var slot = 0, counterSlot = 0
        self.routes = routes.map { route in
            var route = route
            route.pickerSlot = slot
            slot += route.destinations.count
            route.counterSlot = counterSlot
            counterSlot += route.counterCount
            return route
        }
        self.clusters = clusters
        self.endpoints = endpoints
    }

    /// How many percentage counters (fault and mirror decisions) the routes keep in a `RoutingState`.
    public var counterSlotCount: Int { routes.last.map { $0.counterSlot + $0.counterCount } ?? 0 }

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
    public let name: String
    /// `namespace/name` of the VirtualService it came from.
    public let virtualService: String
    /// Alternatives (`http[].match`): any one that holds selects the route; none at all matches everything.
    public let matches: [RequestMatch]
    /// The weighted destinations (`http[].route`), indices into `RouteTable.clusters` with their weights; empty
    /// when `action` is a redirect or a direct response.
    public let destinations: [WeightedCluster]
    /// Where this route's picker keeps its state in `RoutingState`; assigned by `RouteTable.init`.
    public internal(set) var pickerSlot = 0
    /// Where this route's percentage counters (fault delay, fault abort, then one per mirror) start in
    /// `RoutingState`; assigned by `RouteTable.init`.
    public internal(set) var counterSlot = 0
    /// Sum of the destinations' weights (Istio: share = weight / sum); positive for a route that forwards.
    public let totalWeight: Int
    /// Forward, redirect or answer directly.
    public let action: RouteAction
    /// Whether `action` is `.forward` (read on every request without copying the action).
    public let forwards: Bool
    /// `rewrite`: the path and authority the upstream sees.
    public let rewrite: URIRewrite?
    /// The route's own `headers`; each destination may have more (`WeightedCluster.headers`).
    public let headers: HeaderPolicy
    public let corsPolicy: CorsPolicy?
    /// `timeout`: the whole exchange's deadline, retries included (response flag UT, 504); nil: none, Istio's
    /// default for a route.
    public let timeout: Duration?
    /// `retries`, or Istio's default policy when the route has none; `.off` for `attempts: 0`.
    public let retries: RetryPolicy
    public let fault: FaultPolicy?
    /// `mirrors`, with `mirror` folded in first (as Istio does).
    public let mirrors: [MirrorPolicy]
    /// Per destination (one entry when there is none): the route's then the destination's request header
    /// operations as one edit, in Istio's order.
    public let requestHeaderEdits: [HeaderEdit]
    /// The same for the response.
    public let responseHeaderEdits: [HeaderEdit]
    /// Per destination (one entry when there is none): the authority the upstream sees instead of the client's,
    /// nil to keep it. From `rewrite.authority` or a `host`/`:authority` header set on the route or on the
    /// destination: with one destination the route's wins (Istio sets the destination's only when the route has
    /// none); with several, the destination's wins (Envoy applies a weighted cluster's rewrite after the route's).
    public let authorityRewrites: [[UInt8]?]

    public init(name: String, virtualService: String, matches: [RequestMatch], destinations: [WeightedCluster],
                action: RouteAction = .forward, rewrite: URIRewrite? = nil, headers: HeaderPolicy = .none,
                corsPolicy: CorsPolicy? = nil, timeout: Duration? = nil, retries: RetryPolicy = .istioDefault,
                fault: FaultPolicy? = nil, mirrors: [MirrorPolicy] = []) {
        self.name = name
        self.virtualService = virtualService
        self.matches = matches
        self.destinations = destinations
        self.totalWeight = destinations.reduce(0) { $0 + $1.weight }
        self.action = action
        self.forwards = action == .forward
        self.rewrite = rewrite
        self.headers = headers
        self.corsPolicy = corsPolicy
        self.timeout = timeout
        self.retries = retries
        self.fault = fault
        self.mirrors = mirrors
        let perDestination = destinations.isEmpty ? [HeaderPolicy.none] : destinations.map(\.headers)
        self.requestHeaderEdits = perDestination.map { headers.request.edit.then($0.request.edit) }
        self.responseHeaderEdits = perDestination.map { headers.response.edit.then($0.response.edit) }
        let routeAuthority = rewrite?.authority ?? headers.authority
        self.authorityRewrites = perDestination.map { destination in
            destinations.count > 1 ? destination.authority ?? routeAuthority : routeAuthority ?? destination.authority
        }
    }

    /// How many percentage counters the route keeps in `RoutingState`: fault delay, fault abort, one per mirror.
    var counterCount: Int { 2 + mirrors.count }
}

/// A destination of a route and its weight.
public struct WeightedCluster: Sendable, Equatable {
    public var cluster: Int
    public var weight: Int
    /// `route[].headers`: operations applied after the route's own when this destination is chosen.
    public let headers: HeaderPolicy

    public init(cluster: Int, weight: Int, headers: HeaderPolicy = .none) {
        self.cluster = cluster
        self.weight = weight
        self.headers = headers
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
