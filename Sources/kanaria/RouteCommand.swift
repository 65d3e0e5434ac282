import ArgumentParser
import KanariaConfig
import KanariaHTTP
import KanariaRouting

struct Route: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Inspect routing decisions.",
        subcommands: [Explain.self]
    )

    struct Explain: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Say which route a request matches, which destination it is drawn to, and why.",
            discussion: "Example: kanaria route explain -f config/ --path /sharks -H 'x-canary: yes'"
        )

        @Option(name: [.customShort("f"), .customLong("file")], help: "A YAML file or a folder of them (repeatable).")
        var files: [String]

        @Option(help: "The request method.")
        var method: String = "GET"

        @Option(help: "The Host (authority) of the request.")
        var host: String = "localhost"

        @Option(help: "The request path, with its query string if any.")
        var path: String = "/"

        @Option(name: [.customShort("H"), .customLong("header")], help: "A request header, 'name: value' (repeatable).")
        var headers: [String] = []

        @Option(help: "The Gateway port the request arrives on (default: the first).")
        var port: Int?

        @Option(help: "How destinations are picked: exact or random.")
        var split: SplitMode = .exact

        func run() throws {
            let loaded = ConfigLoader.load(paths: files)
            guard report(loaded), let table = loaded.table else { throw ExitCode(1) }
            guard !table.listeners.isEmpty else {
                complain("kanaria route explain: the configuration has no Gateway server")
                throw ExitCode(1)
            }
            let listener: Int
            if let port {
                guard let index = table.listenerIndex(port: port) else {
                    complain("kanaria route explain: no Gateway server has port \(port) (ports: \(table.listeners.map { String($0.port) }.joined(separator: ", ")))")
                    throw ExitCode(1)
                }
                listener = index
            } else {
                listener = 0
            }
            var raw = "\(method) \(path) HTTP/1.1\r\nHost: \(host)\r\n"
            for header in headers {
                guard header.contains(":") else { throw ValidationError("-H \(header): expected 'name: value'") }
                raw += header + "\r\n"
            }
            raw += "\r\n"
            let bytes = Array(raw.utf8)
            var parser = RequestHeadParser()
            var head = RequestHead()
            let parsed: Result<Bool, HTTPParseError> = bytes.withUnsafeBytes { message in
                do throws(HTTPParseError) { return .success(try parser.parse(message, into: &head)) } catch { return .failure(error) }
            }
            if case .failure(let error) = parsed {
                complain("kanaria route explain: this request would be refused with \(error.status): \(error.reason)")
                throw ExitCode(1)
            }
            let lines = bytes.withUnsafeBytes { message in
                RouteExplainer(table: table, split: split).explain(RequestView(message: message, head: head), listener: listener)
            }
            for line in lines { say(line) }
        }
    }
}

/// Turns a `RouteExplanation` into the lines `kanaria route explain` prints.
struct RouteExplainer {
    let table: RouteTable
    let split: SplitMode

    func explain(_ request: RequestView, listener: Int) -> [String] {
        let explanation = table.explain(request, listener: listener)
        let served = table.listeners[listener]
        var lines = ["listener: gateway port \(served.port) (Gateway \(served.gateway))"]
        guard let host = explanation.virtualHost else {
            lines.append("virtual host: none serves \"\(String(decoding: request.authority, as: UTF8.self))\"; hosts: \(served.virtualHosts.flatMap(\.domains).joined(separator: ", "))")
            lines.append("answer: 404 (no route; response flag NR)")
            return lines
        }
        lines.append("virtual host: \(served.virtualHosts[host].domains.joined(separator: ", "))")
        for attempt in explanation.attempts {
            let route = table.routes[attempt.route]
            let label = "route \(attempt.route) \"\(route.name)\" of VirtualService \(route.virtualService)"
            if let mismatch = attempt.mismatch {
                lines.append("  \(label): no match: \(mismatch)")
            } else {
                lines.append("  \(label): matches\(route.matches.isEmpty ? " (no conditions: catches everything)" : "")")
            }
        }
        guard let chosen = explanation.route else {
            lines.append("answer: 404 (no route matched; response flag NR)")
            return lines
        }
        let route = table.routes[chosen]
        lines.append("policies:")
        lines += route.policyLines { table.clusters[$0].name }.map { "  " + $0 }
        let isTLS = served.tls != nil
        let matched = route.matches.first { $0.firstMismatch(request, listenerPort: served.port, isTLS: isTLS) == nil }
        switch route.action {
        case .redirect(let redirect):
            var location = ByteBuffer(capacity: 256)
            defer { location.deallocate() }
            Array((isTLS ? "https" : "http").utf8).withUnsafeBytes { scheme in
                redirect.location(requestScheme: scheme, authority: request.authority, path: request.path,
                                  listenerPort: served.port, listenerIsTLS: isTLS, into: &location)
            }
            lines.append("answer: \(redirect.code) with Location: \(String(decoding: location.readable, as: UTF8.self))")
            return lines
        case .directResponse(let answer):
            lines.append("answer: \(answer.status) (direct response) with body \"\(String(decoding: answer.body, as: UTF8.self))\"")
            return lines
        case .forward:
            lines += requestEffects(route, request, matched: matched)
        }
        lines.append("destinations (share = weight / \(route.totalWeight)):")
        for destination in route.destinations {
            let share = Double(destination.weight) * 100 / Double(route.totalWeight)
            lines.append("  \(table.clusters[destination.cluster].name)  weight \(destination.weight)  share \(formatPercent(share))")
        }
        var state = RoutingState(table: table, split: split, seed: 1)
        let period = route.totalWeight / route.destinations.map(\.weight).reduce(0, gcd)
        let draws = (0..<min(period, 20)).map { _ in state.pickDestination(of: route) }
        let first = route.destinations[draws[0]].cluster
        switch split {
        case .exact:
            let names = draws.map { draw -> String in
                let cluster = table.clusters[route.destinations[draw].cluster]
                return cluster.subset ?? cluster.serviceName
            }
            lines.append("draw: smooth weighted round-robin; a fresh worker sends its first requests to "
                + names.joined(separator: " ") + (period <= 20 ? " (then repeats)" : " …"))
        case .random:
            lines.append("draw: random, each request on its own (Envoy's way); this draw picked \(table.clusters[first].name)")
        }
        lines.append("first request goes to: \(table.clusters[first].name)")
        let endpoints = table.clusters[first].endpoints
        if endpoints.isEmpty {
            lines.append("endpoints: none → 503 no healthy upstream (response flag UH)")
        } else {
            let list = endpoints.map { index -> String in
                let endpoint = table.endpoints[index]
                return "\(endpoint.address):\(endpoint.port) (workload \(endpoint.workload), version \(endpoint.version))"
            }
            lines.append("endpoints (round-robin): \(list.joined(separator: ", "))")
        }
        lines.append(contentsOf: trafficPolicyLines(of: table.clusters[first]))
        return lines
    }

    /// The DestinationRule traffic policy the cluster gets (merged for its subset and port, defaults filled in).
    private func trafficPolicyLines(of cluster: Cluster) -> [String] {
        ["traffic policy of \(cluster.name):"] + cluster.trafficPolicy.explanationLines.map { "  \($0)" }
    }

    /// What the route's rewrite and CORS policy do to this request.
    private func requestEffects(_ route: HTTPRoute, _ request: RequestView, matched: RequestMatch?) -> [String] {
        var lines: [String] = []
        if let rewrite = route.rewrite {
            var path = ByteBuffer(capacity: 256)
            defer { path.deallocate() }
            if rewrite.rewritePath(request.path, pathWithoutQuery: request.pathWithoutQuery, matchedBy: matched, into: &path) {
                lines.append("upstream path: \(String(decoding: path.readable, as: UTF8.self))")
            }
        }
        for (index, authority) in route.authorityRewrites.enumerated() {
            guard let authority else { continue }
            let which = route.authorityRewrites.count > 1 ? " (to \(table.clusters[route.destinations[index].cluster].name))" : ""
            lines.append("upstream authority\(which): \(String(decoding: authority, as: UTF8.self))")
        }
        if let cors = route.corsPolicy {
            let verdict = switch cors.verdict(request) {
            case .notCors: "no CORS headers (no Origin, or an origin not allowed)"
            case .answerPreflight: "preflight from an allowed origin: answered 200 by the proxy"
            case .answerUnmatchedPreflight: "preflight from another origin: answered 200 without CORS headers"
            case .forwardUnmatchedPreflight: "preflight from another origin: forwarded"
            case .forwardAllowed: "allowed origin: forwarded, CORS headers added to the answer"
            }
            lines.append("cors for this request: \(verdict)")
        }
        return lines
    }

    private func formatPercent(_ value: Double) -> String {
        let tenths = Int((value * 10).rounded())
        return tenths % 10 == 0 ? "\(tenths / 10)%" : "\(tenths / 10).\(tenths % 10)%"
    }

    private func gcd(_ a: Int, _ b: Int) -> Int { b == 0 ? a : gcd(b, a % b) }
}
