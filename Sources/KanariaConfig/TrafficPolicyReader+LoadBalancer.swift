import KanariaRouting
import Yams

/// `loadBalancer`: `simple` or `consistentHash`, with Istio's default (LEAST_REQUEST) when it sets neither.
extension TrafficPolicyReader {
    /// Envoy's limits: `maximum_ring_size` and Maglev's largest `table_size`.
    static let largestRing = RingHash.defaultMaximumRingSize
    static let largestMaglevTable = 5_000_011

    func loadBalancer(_ node: Node) -> LoadBalancerPolicy? {
        if let hash = node.value("consistentHash") { return consistentHash(hash) }
        guard let simple = node.value("simple"), let name = simple.text else { return .istioDefault }
        switch name {
        case "ROUND_ROBIN": return .roundRobin
        case "RANDOM": return .random
        case "LEAST_CONN":
            report.warning(simple.line, "simple LEAST_CONN is deprecated; Istio reads it as LEAST_REQUEST")
            return .leastRequest
        case "PASSTHROUGH":
            report.warning(simple.line, "simple PASSTHROUGH sends each request to the address its client connected to, which at a gateway is the gateway itself; it is not implemented, and LEAST_REQUEST (Istio's default) is used")
            return .leastRequest
        default: return .leastRequest  // LEAST_REQUEST, UNSPECIFIED
        }
    }

    private func consistentHash(_ node: Node) -> LoadBalancerPolicy? {
        var policy = ConsistentHashPolicy(key: nil)
        if let header = node.value("httpHeaderName"), let name = header.text {
            guard !name.isEmpty else {
                report.error(header.line, "httpHeaderName must not be empty", code: IstioCode.schema)
                return nil
            }
            policy.key = .header(name.lowercased())
        } else if let cookie = node.value("httpCookie") {
            guard let name = cookie.value("name")?.text, !name.isEmpty else { return nil }  // the schema reported it
            let ttl = duration(cookie, "ttl", allowZero: true).map { Int($0 / 1000) }
            policy.key = .cookie(name: name, path: cookie.value("path")?.text, ttlSeconds: ttl)
        } else if node.value("useSourceIp")?.boolean == true {
            policy.key = .sourceIP
        } else if let parameter = node.value("httpQueryParameterName"), let name = parameter.text {
            guard !name.isEmpty else {
                report.error(parameter.line, "httpQueryParameterName must not be empty", code: IstioCode.schema)
                return nil
            }
            policy.key = .queryParameter(name)
        } else {
            report.warning(node.line, "consistentHash names no key (httpHeaderName, httpCookie, useSourceIp or httpQueryParameterName), so each request is hashed at random")
        }
        guard let table = hashTable(node) else { return nil }
        policy.table = table
        return .consistentHash(policy)
    }

    /// `maglev` (its `tableSize` required, prime and under 5000011, as Istio validates it), `ringHash`, or the
    /// deprecated `minimumRingSize`, which may not be set beside either; a ring size of 0 means Envoy's 1024.
    private func hashTable(_ node: Node) -> ConsistentHashPolicy.Table? {
        if let legacy = node.value("minimumRingSize") {
            if let other = ["ringHash", "maglev"].first(where: { node.value($0) != nil }) {
                report.error(legacy.line, "only one of minimumRingSize or \(other) may be set; minimumRingSize is the deprecated form of ringHash.minimumRingSize",
                             code: IstioCode.schema)
                return nil
            }
            report.warning(legacy.line, "consistentHash.minimumRingSize is deprecated; use ringHash.minimumRingSize")
        }
        if let maglev = node.value("maglev") {
            guard let field = maglev.value("tableSize") else {
                report.error(maglev.line, "maglev needs \"tableSize\", a prime number such as 65537", code: IstioCode.schema)
                return nil
            }
            guard let size = count(maglev, "tableSize") else { return nil }
            guard size < Self.largestMaglevTable, Self.isPrime(size) else {
                report.error(field.line, "maglev tableSize \(size) must be a prime number less than \(Self.largestMaglevTable), such as 65537",
                             code: IstioCode.schema)
                return nil
            }
            return .maglev(tableSize: size)
        }
        let owner = node.value("ringHash") ?? node
        guard let field = owner.value("minimumRingSize") else { return .ringHash(minimumRingSize: 1024) }
        guard let size = count(owner, "minimumRingSize") else { return nil }
        if size == 0 { return .ringHash(minimumRingSize: 1024) }
        guard size <= Self.largestRing else {
            report.error(field.line, "minimumRingSize \(size) is larger than \(Self.largestRing), Envoy's maximum ring size",
                         code: IstioCode.schema)
            return nil
        }
        return .ringHash(minimumRingSize: size)
    }

    /// Envoy's (and Istio's) primality test, which counts 1 as prime.
    static func isPrime(_ number: Int) -> Bool {
        if number > 0 && number < 4 { return true }
        if number % 2 == 0 { return false }
        var divisor = 3
        while divisor * divisor <= number {
            if number % divisor == 0 { return false }
            divisor += 2
        }
        return true
    }
}
