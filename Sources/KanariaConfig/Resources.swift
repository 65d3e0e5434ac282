import KanariaRouting

/// Who a resource is and where it was written: what its diagnostics are attached to.
struct ResourceHeader {
    var kind: String
    var name: String
    var namespace: String
    var file: String
    /// The line of `metadata.name` (or of the document, when it has none).
    var line: Int

    /// `Kind/name`, as diagnostics name the resource.
    var label: String { "\(kind)/\(name)" }
    /// `namespace/name`.
    var key: String { "\(namespace)/\(name)" }
}

struct GatewayResource {
    var header: ResourceHeader
    var servers: [GatewayServerSpec]
}

struct GatewayServerSpec {
    var port: Int
    var portName: String
    /// Upper-cased, as Istio parses protocols case-insensitively.
    var protocolName: String
    var protocolLine: Int
    /// As written: `host`, `*.host`, `*`, or `namespace/host`.
    var hosts: [Located<String>]
    var line: Int
    /// What Kanaria serves the server as; nil when it is not served: a protocol or TLS mode not implemented
    /// yet (warned about), or settings it cannot be served with (an error).
    var serving: ServerProtocol?
    /// An HTTPS server's certificate and key files, checked by loading them.
    var certificate: ServerCertificateFiles?
    /// `tls.httpsRedirect` of a plain-text server.
    var httpsRedirect = false
    /// The line of `tls.httpsRedirect`, or of the server when it is not set.
    var httpsRedirectLine: Int

    /// The hosts without their `namespace/` prefix: the names a client's SNI is matched against.
    var sniHosts: [String] {
        var names: [String] = []
        for host in hosts {
            let name = HostName.serverHost(host.value, gatewayNamespace: "").host
            if !names.contains(name) { names.append(name) }
        }
        return names
    }
}

/// `tls.serverCertificate` and `tls.privateKey`, resolved to absolute paths.
struct ServerCertificateFiles {
    var serverCertificate: String
    var privateKey: String
}

struct VirtualServiceResource {
    var header: ResourceHeader
    var hosts: [Located<String>]
    /// nil when the field is absent (the VirtualService then binds to the mesh only).
    var gateways: [Located<String>]?
    var gatewaysLine: Int
    var routes: [HTTPRouteSpec]
}

struct HTTPRouteSpec {
    /// Position in `http`, as `http[2]` in messages.
    var index: Int
    var name: String?
    var line: Int
    /// nil entries are matches that failed to compile (an invalid regex), already reported.
    var matches: [MatchSpec]
    var destinations: [DestinationSpec]
    /// Whether the route answers by itself (redirect, directResponse) or delegates: it still catches the
    /// requests it matches, for the reachability check.
    var hasOtherAction: Bool
    /// The route's policies (see RoutePolicySpec.swift) and its `delegate`, if any.
    var policy = RoutePolicySpec()
    var delegate: DelegateSpec?

    /// `http[2] "canary"` or `http[2]`.
    var label: String { name.map { "http[\(index)] \"\($0)\"" } ?? "http[\(index)]" }
}

struct MatchSpec {
    var index: Int
    var line: Int
    var match: RequestMatch?
}

struct DestinationSpec {
    var line: Int
    var host: Located<String>
    var subset: Located<String>?
    var port: Located<Int>?
    var weight: Located<Int>?
    /// `route[].headers`.
    var headers: HeaderPolicy = .none
}

struct DestinationRuleResource {
    var header: ResourceHeader
    var host: Located<String>
    var subsets: [SubsetSpec]
    /// The top-level `trafficPolicy` and the line of its key.
    var trafficPolicy: Located<TrafficPolicyLayer>?
}

struct SubsetSpec {
    var name: String
    var labels: [String: String]
    var line: Int
    var trafficPolicy: TrafficPolicyLayer?
}

/// A port of a Kubernetes Service or of a ServiceEntry.
struct ServicePortSpec {
    enum Target {
        case number(Int)
        case name(String)
    }

    var name: String?
    var number: Int
    var targetPort: Target?
    /// Kubernetes' `appProtocol`, or a ServiceEntry port's `protocol`.
    var appProtocol: String?
    var line: Int
}

struct ServiceResource {
    var header: ResourceHeader
    /// nil when absent: such a Service gets no endpoints from WorkloadEntries.
    var selector: [String: String]?
    var ports: [ServicePortSpec]
}

struct DeploymentResource {
    var header: ResourceHeader
    var templateLabels: [String: String]
}

/// A WorkloadEntry's spec, or a ServiceEntry's inline endpoint.
struct WorkloadSpec {
    var address: Located<String>?
    var ports: [String: Int]
    var labels: [String: String]
    var line: Int
}

struct WorkloadEntryResource {
    var header: ResourceHeader
    var workload: WorkloadSpec
}

struct ServiceEntryResource {
    var header: ResourceHeader
    var hosts: [Located<String>]
    var ports: [ServicePortSpec]
    /// `NONE`, `STATIC`, `DNS` or `DNS_ROUND_ROBIN`; nil means NONE.
    var resolution: Located<String>?
    var endpoints: [WorkloadSpec]
    var workloadSelector: [String: String]?
}

/// Every resource read from the configuration, in reading order, duplicates removed.
struct ConfigDocuments {
    var gateways: [GatewayResource] = []
    var virtualServices: [VirtualServiceResource] = []
    var destinationRules: [DestinationRuleResource] = []
    var services: [ServiceResource] = []
    var serviceEntries: [ServiceEntryResource] = []
    var workloadEntries: [WorkloadEntryResource] = []
    var deployments: [DeploymentResource] = []
}
