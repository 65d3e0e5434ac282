/// A DestinationRule's `trafficPolicy.connectionPool`, resolved with Istio's defaults: Envoy's circuit-breaker
/// thresholds for the cluster and the settings of its connections.
///
/// Istio always sets the four thresholds, to 2³²−1 when the policy leaves one unset or zero (Envoy's own defaults,
/// 1024 connections and 3 retries, are too tight for pods that come and go), so an unset limit is effectively no
/// limit. Per worker, Kanaria applies each limit to the worker's own counts (`CircuitBreaker`).
public struct ConnectionPoolSettings: Sendable, Equatable {
    /// What Istio writes for a limit left unset: `math.MaxUint32`.
    public static let unlimited = 4_294_967_295

    /// `tcp.maxConnections`: connections open to all of the cluster's endpoints together.
    public var maxConnections = unlimited
    /// `tcp.connectTimeout`, in milliseconds: Istio's mesh default is 10 s.
    public var connectTimeoutMilliseconds: Int64 = 10_000
    /// `tcp.maxConnectionDuration`, in milliseconds; nil for no limit.
    public var maxConnectionDurationMilliseconds: Int64?
    /// `tcp.tcpKeepalive` is read and validated but not implemented: Kanaria sets no SO_KEEPALIVE.
    public var tcpKeepalive: TCPKeepalive?
    /// `http.http1MaxPendingRequests`: requests waiting for a connection (Envoy's `max_pending_requests`).
    public var maxPendingRequests = unlimited
    /// `http.http2MaxRequests`: requests in flight to the cluster, over any protocol (Envoy's `max_requests`).
    public var maxRequests = unlimited
    /// `http.maxRequestsPerConnection`: a connection is closed after this many requests; nil (or 0) for no limit.
    public var maxRequestsPerConnection: Int?
    /// `http.maxRetries`: retries in flight to the cluster at once (Envoy's `max_retries`).
    public var maxRetries = unlimited
    /// `http.idleTimeout` (else `tcp.idleTimeout`), in milliseconds: an upstream connection idle this long is
    /// closed. Envoy's default is 1 h; 0 (`tcp.idleTimeout: 0s`) never closes one for idleness.
    public var idleTimeoutMilliseconds: Int64 = 3_600_000
    /// `http.h2UpgradePolicy`.
    public var h2UpgradePolicy: H2UpgradePolicy = .default
    /// `http.useClientProtocol`: speak to the upstream in the client's protocol.
    public var useClientProtocol = false
    /// `http.maxConcurrentStreams`: streams per HTTP/2 upstream connection; nil for the peer's limit.
    public var maxConcurrentStreams: Int?

    public init() {}

    /// The settings of a policy that says nothing about the connection pool.
    public static let istioDefault = ConnectionPoolSettings()

    /// `http.h2UpgradePolicy`: whether HTTP/1.1 requests go to the upstream over HTTP/2.
    public enum H2UpgradePolicy: String, Sendable {
        /// The mesh's `h2UpgradePolicy`, DO_NOT_UPGRADE unless changed.
        case `default` = "DEFAULT"
        case doNotUpgrade = "DO_NOT_UPGRADE"
        case upgrade = "UPGRADE"
    }

    /// `tcp.tcpKeepalive`; each unset field takes the OS default.
    public struct TCPKeepalive: Sendable, Equatable {
        public var probes: Int?
        public var timeSeconds: Int?
        public var intervalSeconds: Int?

        public init(probes: Int? = nil, timeSeconds: Int? = nil, intervalSeconds: Int? = nil) {
            self.probes = probes
            self.timeSeconds = timeSeconds
            self.intervalSeconds = intervalSeconds
        }
    }
}
