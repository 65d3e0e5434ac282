/// Host names as Istio reads them in a resource of a given namespace.
enum HostName {
    static let clusterSuffix = "svc.cluster.local"

    /// `nodejs` in namespace `shop` → `nodejs.shop.svc.cluster.local`, as Istio interprets a short name (by the
    /// namespace of the rule, not of the service). Wildcards, IP addresses and dotted names stay as they are.
    static func qualified(_ host: String, namespace: String) -> String {
        let host = host.lowercased()
        guard !host.contains("."), !host.contains("*"), EndpointAddress.literal(host) == nil else { return host }
        return "\(host).\(namespace).\(clusterSuffix)"
    }

    /// The names a destination host may stand for, most literal first: `nodejs` → itself (a ServiceEntry may
    /// use it) and `nodejs.N.svc.cluster.local`; `nodejs.shop` → itself and `nodejs.shop.svc.cluster.local`
    /// (as the cluster's DNS search path resolves it).
    static func candidates(_ host: String, namespace: String) -> [String] {
        let host = host.lowercased()
        guard !host.contains("*"), EndpointAddress.literal(host) == nil else { return [host] }
        switch host.filter({ $0 == "." }).count {
        case 0: return [host, "\(host).\(namespace).\(clusterSuffix)"]
        case 1: return [host, "\(host).\(clusterSuffix)"]
        default: return [host]
        }
    }

    /// Whether `pattern` (`*`, `*.example.com` or a name) accepts `host` (a name or itself a wildcard).
    static func matches(pattern: String, host: String) -> Bool {
        if pattern == "*" { return true }
        if pattern.hasPrefix("*") {
            let suffix = pattern.dropFirst()  // ".example.com"
            return host.hasSuffix(suffix) && host.count > suffix.count
        }
        return pattern == host
    }

    /// The names both a VirtualService host and a Gateway server host accept, as the more specific of the two
    /// (`*` and `shop.example.com` → `shop.example.com`); nil when they have none in common.
    static func intersection(_ a: String, _ b: String) -> String? {
        let (a, b) = (a.lowercased(), b.lowercased())
        if matches(pattern: b, host: a) { return a }
        if matches(pattern: a, host: b) { return b }
        return nil
    }

    /// A Gateway server host `namespace/host` (`*/host`, `./host`) split into the namespaces whose
    /// VirtualServices it admits (nil for any) and the host; a plain `host` admits any namespace.
    static func serverHost(_ text: String, gatewayNamespace: String) -> (namespace: String?, host: String) {
        guard let slash = text.firstIndex(of: "/") else { return (nil, text) }
        let namespace = String(text[..<slash])
        let host = String(text[text.index(after: slash)...])
        switch namespace {
        case "*": return (nil, host)
        case ".": return (gatewayNamespace, host)
        default: return (namespace, host)
        }
    }
}
