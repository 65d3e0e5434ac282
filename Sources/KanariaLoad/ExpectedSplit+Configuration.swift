import KanariaConfig
import KanariaHTTP
import KanariaRouting

/// `--expect-from PATH`: the split a configuration makes for the run's request, as `kanaria route explain` finds it.
extension ExpectedSplit {
    /// Loads the Istio/Kubernetes YAML at `paths` with KanariaConfig, routes `template`'s request (method, path, Host
    /// or :authority, headers) on the Gateway port `gatewayPort` (default: a server on the URL's port, else the
    /// first), and takes the weights of the route it matches. Each destination's version is the `version` label its
    /// subset selects (the label all of its endpoints carry; the subset's name when they carry none or several);
    /// destinations of one version add up.
    ///
    /// Returns the split and a line saying where it came from (`route 0 "nodejs.0" of VirtualService default/nodejs`).
    /// - Throws: a `UsageError` naming the problem: the configuration has errors (the first is quoted), no Gateway,
    ///   no such port, no route matches the request. Configuration errors are listed one a line, as `validate` does.
    public static func from(configuration paths: [String], request template: RequestTemplate,
                            gatewayPort: Int? = nil) throws(UsageError) -> (split: ExpectedSplit, origin: String) {
        let loaded = ConfigLoader.load(paths: paths)
        if loaded.hasErrors {
            throw UsageError("--expect-from: the configuration has errors:\n" + loaded.errors.map(\.description).joined(separator: "\n"))
        }
        guard let table = loaded.table, !table.listeners.isEmpty else {
            throw UsageError("--expect-from \(paths.joined(separator: " ")): the configuration has no Gateway server")
        }
        let listener: Int
        if let gatewayPort {
            guard let index = table.listenerIndex(port: gatewayPort) else {
                throw UsageError("--gateway-port \(gatewayPort): no Gateway server has this port (ports: \(table.listeners.map { String($0.port) }.joined(separator: ", ")))")
            }
            listener = index
        } else {
            listener = table.listenerIndex(port: template.target.port) ?? 0
        }
        var raw = "\(template.method) \(template.target.path) HTTP/1.1\r\n"
        if !template.headers.contains(where: { $0.name.lowercased() == "host" }) { raw += "Host: \(template.target.authority)\r\n" }
        for field in template.headers { raw += "\(field.name): \(field.value)\r\n" }
        let bytes = Array((raw + "\r\n").utf8)
        let explained: RouteExplanation? = bytes.withUnsafeBytes { message in
            var parser = RequestHeadParser()
            var head = RequestHead()
            guard (try? parser.parse(message, into: &head)) == true else { return nil }
            return table.explain(RequestView(message: message, head: head), listener: listener)
        }
        guard let explained else { throw UsageError("--expect-from: the request \(template.method) \(template.target.path) is not valid HTTP") }
        guard let chosen = explained.route else {
            throw UsageError("--expect-from: no route of Gateway port \(table.listeners[listener].port) matches \(template.method) \(template.target.authority)\(template.target.path) (see kanaria route explain)")
        }
        let route = table.routes[chosen]
        var entries: [Entry] = []
        for destination in route.destinations {
            let version = versionName(of: table.clusters[destination.cluster], in: table)
            if let index = entries.firstIndex(where: { $0.version == version }) {
                entries[index].weight += destination.weight
            } else {
                entries.append(Entry(version: version, weight: destination.weight))
            }
        }
        guard entries.reduce(0, { $0 + $1.weight }) > 0 else {
            throw UsageError("--expect-from: route \(chosen) \"\(route.name)\" has no weighted destination")
        }
        return (ExpectedSplit(entries), "route \(chosen) \"\(route.name)\" of VirtualService \(route.virtualService)")
    }

    /// The `version` label every endpoint of the cluster carries; else the subset's name; else the service's.
    static func versionName(of cluster: Cluster, in table: RouteTable) -> String {
        let labels = Set(cluster.endpoints.compactMap { table.endpoints[$0].labels["version"] })
        if labels.count == 1, let only = labels.first { return only }
        return cluster.subset ?? cluster.serviceName
    }
}
