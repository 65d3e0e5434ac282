/// The table a consistent-hash cluster looks hashes up in: a ring or a Maglev table over the positions of the
/// cluster's endpoint list. Built once when the configuration is compiled.
public enum ConsistentHashTable: Sendable, Equatable {
    case ring(RingHash)
    case maglev(Maglev)

    /// Builds the table `kind` over endpoints with these hash keys, in position order.
    public init(_ kind: ConsistentHashPolicy.Table, hostKeys: [String]) {
        switch kind {
        case .ringHash(let minimumRingSize): self = .ring(RingHash(hostKeys: hostKeys, minimumRingSize: minimumRingSize))
        case .maglev(let tableSize): self = .maglev(Maglev(hostKeys: hostKeys, tableSize: tableSize))
        }
    }

    /// The endpoint position `hash` maps to on try `attempt` (0 for the first); nil when there are no endpoints.
    public func position(for hash: UInt64, attempt: Int = 0) -> Int? {
        switch self {
        case .ring(let ring): ring.position(for: hash, attempt: attempt)
        case .maglev(let maglev): maglev.position(for: hash, attempt: attempt)
        }
    }

    /// The first eligible endpoint at or after the entry `hash` lands on for try `attempt`, walking the ring (or
    /// the Maglev table) forward past ejected endpoints; nil when none is eligible.
    ///
    /// Envoy rebuilds its table over the healthy endpoints instead. Walking on moves the same requests (those of
    /// the ejected endpoint) without a rebuild per ejection; a rebuilt ring would also resize, moving a few others.
    public func position(for hash: UInt64, attempt: Int, healthy: HealthyEndpoints) -> Int? {
        let size = self.size
        guard healthy.healthyCount > 0, size > 0 else { return nil }
        var index = entry(for: hash, attempt: attempt)
        for _ in 0..<size {
            let candidate = position(atEntry: index)
            if healthy.isHealthy(candidate) { return candidate }
            index = index + 1 == size ? 0 : index + 1
        }
        return nil
    }

    /// Entries in the ring, or slots in the Maglev table.
    var size: Int {
        switch self {
        case .ring(let ring): ring.size
        case .maglev(let maglev): maglev.size
        }
    }

    func entry(for hash: UInt64, attempt: Int) -> Int {
        switch self {
        case .ring(let ring): ring.entry(for: hash, attempt: attempt)
        case .maglev(let maglev): maglev.entry(for: hash, attempt: attempt)
        }
    }

    func position(atEntry index: Int) -> Int {
        switch self {
        case .ring(let ring): ring.position(atEntry: index)
        case .maglev(let maglev): maglev.position(atEntry: index)
        }
    }

    /// Envoy's key for a host: its address as `ip:port`, an IPv6 address in brackets (`[::1]:8080`).
    public static func hostKey(address: String, port: Int) -> String {
        address.contains(":") ? "[\(address)]:\(port)" : "\(address):\(port)"
    }
}
