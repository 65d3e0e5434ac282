/// Istio's `request_protocol` label: `http` for HTTP/1.x and HTTP/2, `grpc` when the request's content-type is
/// `application/grpc…`, `tcp` for plain TCP proxying.
public enum RequestProtocol: UInt8, Sendable, CaseIterable {
    case http
    case grpc
    case tcp

    /// The label value.
    public var name: String {
        switch self {
        case .http: "http"
        case .grpc: "grpc"
        case .tcp: "tcp"
        }
    }
}

/// The `destination_*` labels Istio fills for a request, as an ingress gateway (reporter `source`) sees it.
///
/// An ingress gateway learns the service from the cluster it routed to, and the workload, app and version from the
/// endpoint it picked. So:
/// - a request that matched no route (`NR`) has every label `unknown` (gateways disable Istio's Host-header
///   fallback): `DestinationLabels.unknown`;
/// - a request routed to a service with no usable endpoint (`UH`) has the service labels and `unknown` for the rest:
///   `DestinationLabels(serviceHost:serviceName:serviceNamespace:)`;
/// - a request that reached an endpoint has them all: `DestinationLabels(serviceHost:…workload:…labels:)`.
///
/// For the tutorial's v1 pod: service `nodejs.default.svc.cluster.local`, service name `nodejs`, namespace `default`,
/// workload `nodejs-v1`, app `nodejs`, version `v1`, canonical service `nodejs`, canonical revision `v1`,
/// cluster `Kubernetes`, principal `unknown` (no mutual TLS to the endpoint).
public struct DestinationLabels: Hashable, Sendable {
    /// `destination_service`: the service's fully qualified host, `nodejs.default.svc.cluster.local`.
    public var service: String
    /// `destination_service_name`: `nodejs`.
    public var serviceName: String
    /// `destination_service_namespace`: `default`.
    public var serviceNamespace: String
    /// `destination_workload`: the endpoint's owner (Deployment or WorkloadEntry name).
    public var workload: String
    /// `destination_workload_namespace`.
    public var workloadNamespace: String
    /// `destination_principal`: the endpoint's SPIFFE identity when the gateway spoke mutual TLS to it, else `unknown`.
    public var principal: String
    /// `destination_app`: the endpoint's `app` label.
    public var app: String
    /// `destination_version`: the endpoint's `version` label.
    public var version: String
    /// `destination_canonical_service`: `service.istio.io/canonical-name`, else `app.kubernetes.io/name`, else `app`,
    /// else the workload name.
    public var canonicalService: String
    /// `destination_canonical_revision`: `service.istio.io/canonical-revision`, else `app.kubernetes.io/version`, else
    /// `version`, else `latest`.
    public var canonicalRevision: String
    /// `destination_cluster`: the endpoint's cluster ID. Istio's default, without multicluster, is `Kubernetes`.
    public var cluster: String

    public init(service: String, serviceName: String, serviceNamespace: String, workload: String,
                workloadNamespace: String, principal: String = "unknown", app: String, version: String,
                canonicalService: String, canonicalRevision: String, cluster: String) {
        self.service = service
        self.serviceName = serviceName
        self.serviceNamespace = serviceNamespace
        self.workload = workload
        self.workloadNamespace = workloadNamespace
        self.principal = principal
        self.app = app
        self.version = version
        self.canonicalService = canonicalService
        self.canonicalRevision = canonicalRevision
        self.cluster = cluster
    }

    /// Every label `unknown`: a request that matched no route, or anything the gateway cannot attribute.
    public static let unknown = DestinationLabels(
        service: "unknown", serviceName: "unknown", serviceNamespace: "unknown", workload: "unknown",
        workloadNamespace: "unknown", app: "unknown", version: "unknown", canonicalService: "unknown",
        canonicalRevision: "unknown", cluster: "unknown")

    /// A routed request that reached no endpoint (`UH`, `UF` before any endpoint was chosen): service labels only.
    public init(serviceHost: String, serviceName: String, serviceNamespace: String) {
        self = .unknown
        self.service = serviceHost
        self.serviceName = serviceName
        self.serviceNamespace = serviceNamespace
    }

    /// A request that reached an endpoint: the service from the cluster, the rest from the endpoint's owner and its
    /// labels, derived the way Istio derives them.
    ///
    /// - Parameters:
    ///   - labels: the endpoint's (WorkloadEntry's or pod template's) labels.
    ///   - cluster: Istio's `CLUSTER_ID`; `Kubernetes` unless configured otherwise.
    public init(serviceHost: String, serviceName: String, serviceNamespace: String, workload: String,
                workloadNamespace: String, labels: [String: String], cluster: String = "Kubernetes") {
        let app = labels["app"] ?? labels["app.kubernetes.io/name"]
        let version = labels["version"] ?? labels["app.kubernetes.io/version"]
        self.init(
            service: serviceHost, serviceName: serviceName, serviceNamespace: serviceNamespace, workload: workload,
            workloadNamespace: workloadNamespace, app: app ?? "unknown", version: version ?? "unknown",
            canonicalService: labels["service.istio.io/canonical-name"] ?? labels["app.kubernetes.io/name"]
                ?? labels["app"] ?? workload,
            canonicalRevision: labels["service.istio.io/canonical-revision"] ?? labels["app.kubernetes.io/version"]
                ?? labels["version"] ?? "latest",
            cluster: cluster)
    }
}

/// The `source_*` labels (and the reporter) of every series: the proxy's own identity. The same for every request.
public struct SourceLabels: Hashable, Sendable {
    /// `reporter`: `source` for a gateway or a client sidecar, `destination` for a server sidecar.
    public var reporter: String
    public var workload: String
    public var workloadNamespace: String
    /// `source_principal`: the proxy's own SPIFFE identity when it speaks mutual TLS upstream, else `unknown`.
    public var principal: String
    public var app: String
    public var version: String
    public var canonicalService: String
    public var canonicalRevision: String
    public var cluster: String
    /// `connection_security_policy`: a client-side reporter always says `unknown`.
    public var connectionSecurityPolicy: String

    public init(reporter: String = "source", workload: String, workloadNamespace: String, principal: String = "unknown",
                app: String, version: String = "unknown", canonicalService: String, canonicalRevision: String = "latest",
                cluster: String = "Kubernetes", connectionSecurityPolicy: String = "unknown") {
        self.reporter = reporter
        self.workload = workload
        self.workloadNamespace = workloadNamespace
        self.principal = principal
        self.app = app
        self.version = version
        self.canonicalService = canonicalService
        self.canonicalRevision = canonicalRevision
        self.cluster = cluster
        self.connectionSecurityPolicy = connectionSecurityPolicy
    }

    /// What Istio's default ingress gateway reports: the Deployment `istio-ingressgateway` in `istio-system`, whose pods
    /// carry `app: istio-ingressgateway` and no `version` label, speaking plain HTTP to its endpoints:
    ///
    ///     reporter="source", source_workload="istio-ingressgateway", source_canonical_service="istio-ingressgateway",
    ///     source_canonical_revision="latest", source_workload_namespace="istio-system", source_principal="unknown",
    ///     source_app="istio-ingressgateway", source_version="unknown", source_cluster="Kubernetes",
    ///     connection_security_policy="unknown"
    public static func ingressGateway(workload: String = "istio-ingressgateway",
                                      namespace: String = "istio-system") -> SourceLabels {
        SourceLabels(workload: workload, workloadNamespace: namespace, app: workload, canonicalService: workload)
    }
}
