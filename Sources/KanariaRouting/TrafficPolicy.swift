/// The traffic policy one cluster gets: its DestinationRule's `trafficPolicy` merged for the cluster's subset and
/// port (see `TrafficPolicyLayer.resolve`) with Istio's defaults filled in.
public struct TrafficPolicy: Sendable, Equatable {
    public var loadBalancer: LoadBalancerPolicy
    public var connectionPool: ConnectionPoolSettings
    /// nil when no outlier detection applies: endpoints are never ejected.
    public var outlierDetection: OutlierDetectionSettings?
    public var tls: UpstreamTLSSettings

    public init(loadBalancer: LoadBalancerPolicy = .istioDefault, connectionPool: ConnectionPoolSettings = .istioDefault,
                outlierDetection: OutlierDetectionSettings? = nil, tls: UpstreamTLSSettings = .istioDefault) {
        self.loadBalancer = loadBalancer
        self.connectionPool = connectionPool
        self.outlierDetection = outlierDetection
        self.tls = tls
    }

    /// What a cluster gets when no DestinationRule sets a policy for it: least request, Istio's unlimited pool, no
    /// outlier detection, plain text.
    public static let istioDefault = TrafficPolicy()
}

/// One level of a DestinationRule's policy as written: the top-level `trafficPolicy` or a subset's. Each part is
/// nil when the level does not set it; `portLevelSettings` hold the same parts per port.
public struct TrafficPolicyLayer: Sendable, Equatable {
    /// The four parts a level may set, each replacing the whole part of the level below.
    public struct Parts: Sendable, Equatable {
        public var loadBalancer: LoadBalancerPolicy?
        public var connectionPool: ConnectionPoolSettings?
        public var outlierDetection: OutlierDetectionSettings?
        public var tls: UpstreamTLSSettings?

        public init(loadBalancer: LoadBalancerPolicy? = nil, connectionPool: ConnectionPoolSettings? = nil,
                    outlierDetection: OutlierDetectionSettings? = nil, tls: UpstreamTLSSettings? = nil) {
            self.loadBalancer = loadBalancer
            self.connectionPool = connectionPool
            self.outlierDetection = outlierDetection
            self.tls = tls
        }
    }

    public var parts: Parts
    /// `portLevelSettings`, by port number (the first entry for a port wins).
    public var portLevel: [Int: Parts]

    public init(parts: Parts = Parts(), portLevel: [Int: Parts] = [:]) {
        self.parts = parts
        self.portLevel = portLevel
    }

    /// The policy for `port` of this level alone: its port-level settings when it has some for `port` (then a
    /// part they leave out is *not* taken from the level: it falls back to the default), else its own parts.
    /// The Bool says whether port-level settings applied.
    func parts(for port: Int) -> (Parts, portLevel: Bool) {
        if let settings = portLevel[port] { return (settings, true) }
        return (parts, false)
    }

    /// Istio's merge (`MergeSubsetTrafficPolicy`) for the cluster of `subset`'s `port`, defaults filled in:
    ///
    /// 1. the top-level policy, or its `portLevelSettings` for the port, which replace all four parts (a part the
    ///    port entry leaves out gets the default, not the top-level value);
    /// 2. then the subset's policy overrides part by part: a part the subset sets replaces the top's whole part
    ///    (an outlierDetection with only `interval` loses the top's `consecutive5xxErrors`);
    /// 3. and when the subset has `portLevelSettings` for the port, they replace all four parts of the result.
    ///
    /// For example, top `{loadBalancer: RANDOM, outlierDetection: {…}}`, subset v1 `{loadBalancer: ROUND_ROBIN}`:
    /// v1 gets round robin with the top's outlier detection; v2 (no policy) gets random with it.
    public static func resolve(top: TrafficPolicyLayer?, subset: TrafficPolicyLayer?, port: Int) -> TrafficPolicy {
        let base = top.map { $0.parts(for: port).0 } ?? Parts()
        var merged = base
        if let subset {
            let (overriding, portLevel) = subset.parts(for: port)
            if portLevel {
                merged = overriding
            } else {
                if let part = overriding.loadBalancer { merged.loadBalancer = part }
                if let part = overriding.connectionPool { merged.connectionPool = part }
                if let part = overriding.outlierDetection { merged.outlierDetection = part }
                if let part = overriding.tls { merged.tls = part }
            }
        }
        return TrafficPolicy(loadBalancer: merged.loadBalancer ?? .istioDefault,
                             connectionPool: merged.connectionPool ?? .istioDefault,
                             outlierDetection: merged.outlierDetection, tls: merged.tls ?? .istioDefault)
    }
}
