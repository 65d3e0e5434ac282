import KanariaRouting
import Yams

/// `connectionPool`: `tcp` and `http`, each limit 0 or unset meaning Istio's 2³²−1.
extension TrafficPolicyReader {
    func connectionPool(_ node: Node) -> ConnectionPoolSettings? {
        let tcp = node.value("tcp"), http = node.value("http")
        if tcp == nil && http == nil {
            report.error(node.line, "connectionPool must set \"tcp\" or \"http\"", code: IstioCode.schema)
        }
        var pool = ConnectionPoolSettings()
        if let tcp { readTCP(tcp, into: &pool) }
        if let http { readHTTP(http, into: &pool) }
        if let idle = http.flatMap({ duration($0, "idleTimeout") }) ?? tcp.flatMap({ duration($0, "idleTimeout", allowZero: true) }) {
            pool.idleTimeoutMilliseconds = idle
        }
        return pool
    }

    private func readTCP(_ tcp: Node, into pool: inout ConnectionPoolSettings) {
        if let value = count(tcp, "maxConnections"), value > 0 { pool.maxConnections = value }
        if let value = duration(tcp, "connectTimeout") { pool.connectTimeoutMilliseconds = value }
        pool.maxConnectionDurationMilliseconds = duration(tcp, "maxConnectionDuration")
        if let keepalive = tcp.value("tcpKeepalive") {
            pool.tcpKeepalive = .init(probes: count(keepalive, "probes"),
                                      timeSeconds: duration(keepalive, "time").map { Int($0 / 1000) },
                                      intervalSeconds: duration(keepalive, "interval").map { Int($0 / 1000) })
        }
    }

    private func readHTTP(_ http: Node, into pool: inout ConnectionPoolSettings) {
        if let value = count(http, "http1MaxPendingRequests"), value > 0 { pool.maxPendingRequests = value }
        if let value = count(http, "http2MaxRequests"), value > 0 { pool.maxRequests = value }
        if let value = count(http, "maxRequestsPerConnection"), value > 0 { pool.maxRequestsPerConnection = value }
        if let value = count(http, "maxRetries"), value > 0 { pool.maxRetries = value }
        if let value = count(http, "maxConcurrentStreams"), value > 0 { pool.maxConcurrentStreams = value }
        if let text = http.value("h2UpgradePolicy")?.text, let policy = ConnectionPoolSettings.H2UpgradePolicy(rawValue: text) {
            pool.h2UpgradePolicy = policy
        }
        pool.useClientProtocol = http.value("useClientProtocol")?.boolean ?? false
        if pool.useClientProtocol && pool.h2UpgradePolicy == .upgrade {
            report.error(http.keyLine("useClientProtocol"), "useClientProtocol cannot be true with h2UpgradePolicy UPGRADE", code: IstioCode.schema)
        }
    }
}
