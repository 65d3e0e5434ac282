/// How a cluster picks one of its endpoints: a DestinationRule's `trafficPolicy.loadBalancer`, resolved.
///
/// Istio's default, when a policy says nothing, is `LEAST_REQUEST` (Envoy's two random choices). `LEAST_CONN`, its
/// deprecated alias, reads as `.leastRequest`; `PASSTHROUGH` (forward to the address the client connected to) has no
/// meaning at a gateway that routes by host, and KanariaConfig rejects it. `localityLbSetting` and `warmup` are not
/// implemented (every endpoint here is in one locality, and warm-up has no effect).
public enum LoadBalancerPolicy: Sendable, Equatable {
    /// `simple: ROUND_ROBIN`: each endpoint in turn.
    case roundRobin
    /// `simple: LEAST_REQUEST` (and Istio's default): of two endpoints drawn at random, the one with fewer requests
    /// in flight.
    case leastRequest
    /// `simple: RANDOM`: one endpoint drawn at random.
    case random
    /// `consistentHash`: the request's key picks the endpoint through a ring or a Maglev table.
    case consistentHash(ConsistentHashPolicy)

    /// Istio's choice when the policy says nothing.
    public static let istioDefault = LoadBalancerPolicy.leastRequest
}

/// `loadBalancer.consistentHash`: what a request is hashed by, and the table that maps hashes to endpoints.
public struct ConsistentHashPolicy: Sendable, Equatable {
    /// Which part of the request gives the hash key (Envoy's route `hash_policy`, as Istio configures it).
    public enum Key: Sendable, Equatable {
        /// `httpHeaderName`: the header's value.
        case header(String)
        /// `httpCookie`: the cookie's value; with a `ttl`, a request without the cookie gets one generated (see
        /// `CookieAffinity`). A nil `ttl` generates none; a zero one generates a session cookie.
        case cookie(name: String, path: String?, ttlSeconds: Int?)
        /// `useSourceIp: true`: the client's IP address, without its port.
        case sourceIP
        /// `httpQueryParameterName`: the value of the query parameter.
        case queryParameter(String)
    }

    /// How hashes map to endpoints.
    public enum Table: Sendable, Equatable {
        /// `ringHash` (and the deprecated `consistentHash.minimumRingSize`): Ketama's ring of at least this many
        /// entries. Envoy's default is 1024.
        case ringHash(minimumRingSize: Int)
        /// `maglev`: Maglev's lookup table of this (prime) size. Envoy's default is 65537.
        case maglev(tableSize: Int)

        public static let defaultMinimumRingSize = 1024
        public static let defaultMaglevTableSize = 65537
    }

    /// nil when the policy names no key (Istio's schema allows it): each request then hashes a random draw, as
    /// Envoy does when the hash policy yields nothing.
    public var key: Key? {
        didSet { keyName = Self.name(of: key) }
    }
    public var table: Table
    /// The header, cookie or query parameter name as bytes, for reading requests without converting it each time.
    public private(set) var keyName: [UInt8]

    public init(key: Key?, table: Table = .ringHash(minimumRingSize: Table.defaultMinimumRingSize)) {
        self.key = key
        self.table = table
        self.keyName = Self.name(of: key)
    }

    static func name(of key: Key?) -> [UInt8] {
        switch key {
        case .header(let name), .cookie(let name, _, _), .queryParameter(let name): Array(name.utf8)
        case .sourceIP, nil: []
        }
    }
}
