/// The traffic policy in words, for `kanaria route explain`: one line per part, with the numbers Istio's YAML uses
/// and the defaults spelled out. Not on the request path (it builds strings).
extension TrafficPolicy {
    public var explanationLines: [String] {
        ["load balancer: \(loadBalancerText)", "connection pool: \(connectionPoolText)",
         "outlier detection: \(outlierDetectionText)", "tls: \(tlsText)"]
    }

    var loadBalancerText: String {
        switch loadBalancer {
        case .roundRobin: return "ROUND_ROBIN (each endpoint in turn)"
        case .random: return "RANDOM"
        case .leastRequest:
            return "LEAST_REQUEST (the fewer requests in flight of two endpoints drawn at random)"
        case .consistentHash(let policy):
            let key = switch policy.key {
            case .header(let name): "header \(name)"
            case .cookie(let name, let path, let ttl):
                "cookie \(name)" + (path.map { ", path \($0)" } ?? "")
                    + (ttl.map { $0 == 0 ? ", set as a session cookie when absent" : ", set for \(Self.duration(Int64($0) * 1000)) when absent" } ?? "")
            case .sourceIP: "client IP address"
            case .queryParameter(let name): "query parameter \(name)"
            case nil: "nothing (a random draw per request)"
            }
            let table = switch policy.table {
            case .ringHash(let size): "ring hash, at least \(size) entries"
            case .maglev(let size): "Maglev, \(size) slots"
            }
            return "consistent hash by \(key); \(table)"
        }
    }

    var connectionPoolText: String {
        let pool = connectionPool
        func limit(_ value: Int) -> String { value == ConnectionPoolSettings.unlimited ? "unlimited" : "\(value)" }
        var parts = ["maxConnections \(limit(pool.maxConnections))", "http1MaxPendingRequests \(limit(pool.maxPendingRequests))",
                     "http2MaxRequests \(limit(pool.maxRequests))",
                     "maxRequestsPerConnection \(pool.maxRequestsPerConnection.map(String.init) ?? "unlimited")",
                     "maxRetries \(limit(pool.maxRetries))", "connectTimeout \(Self.duration(pool.connectTimeoutMilliseconds))",
                     "idleTimeout \(Self.duration(pool.idleTimeoutMilliseconds))"]
        if let lifetime = pool.maxConnectionDurationMilliseconds { parts.append("maxConnectionDuration \(Self.duration(lifetime))") }
        return parts.joined(separator: ", ") + "; overflow answers 503 (flag UO)"
    }

    var outlierDetectionText: String {
        guard let outlier = outlierDetection else { return "off (no endpoint is ever ejected)" }
        var triggers: [String] = []
        if let count = outlier.consecutive5xxErrors { triggers.append("\(count) consecutive 5xx") }
        if let count = outlier.consecutiveGatewayErrors { triggers.append("\(count) consecutive gateway errors") }
        if let count = outlier.consecutiveLocalOriginFailures { triggers.append("\(count) consecutive connection failures") }
        let when = triggers.isEmpty ? "never ejects (every trigger is 0)" : "eject after " + triggers.joined(separator: " or ")
        let base = Self.duration(outlier.baseEjectionTimeMilliseconds)
        let cap = Self.duration(max(outlier.baseEjectionTimeMilliseconds, outlier.maxEjectionTimeMilliseconds))
        return "\(when); sweep every \(Self.duration(outlier.intervalMilliseconds)); ejected for \(base) × times ejected "
            + "(at most \(cap)); at most \(outlier.maxEjectionPercent)% of endpoints ejected; "
            + "all endpoints used below \(outlier.minHealthPercent)% healthy"
    }

    var tlsText: String {
        switch tls {
        case .disable: return "DISABLE (plain text)"
        case .simple(let settings):
            var parts = ["SIMPLE", settings.caCertificatesFile.map { "CA \($0)" } ?? "the system's CAs"]
            if let sni = settings.sni { parts.append("SNI \(sni)") }
            if !settings.subjectAltNames.isEmpty { parts.append("subjectAltNames \(settings.subjectAltNames.joined(separator: ", "))") }
            if settings.insecureSkipVerify { parts.append("certificate not verified (insecureSkipVerify)") }
            return parts.joined(separator: ", ")
        }
    }

    /// Milliseconds as Istio writes durations: `500ms`, `10s`, `1m30s`, `1h`.
    static func duration(_ milliseconds: Int64) -> String {
        if milliseconds % 1000 != 0 || milliseconds == 0 { return "\(milliseconds)ms" }
        var seconds = milliseconds / 1000
        var text = ""
        if seconds >= 3600 { text += "\(seconds / 3600)h"; seconds %= 3600 }
        if seconds >= 60 { text += "\(seconds / 60)m"; seconds %= 60 }
        if seconds > 0 { text += "\(seconds)s" }
        return text
    }
}
