import KanariaHTTP
import KanariaRouting
import Testing

/// A request parsed from real bytes by `RequestHeadParser`, kept together with those bytes so routing can read it.
struct TestRequest {
    let bytes: [UInt8]
    let head: RequestHead

    /// Parses `raw` (a complete head) or fails the test.
    init(raw: String) throws {
        bytes = Array(raw.utf8)
        var parser = RequestHeadParser()
        var head = RequestHead()
        let complete = try bytes.withUnsafeBytes { try parser.parse($0, into: &head) }
        try #require(complete, "incomplete request head: \(raw)")
        self.head = head
    }

    /// An HTTP/1.1 request with a Host field and the given extra fields.
    init(_ method: String = "GET", _ target: String = "/", host: String = "example.com", headers: [(String, String)] = []) throws {
        let fields = headers.map { "\($0.0): \($0.1)\r\n" }.joined()
        try self.init(raw: "\(method) \(target) HTTP/1.1\r\nHost: \(host)\r\n\(fields)\r\n")
    }

    func withView<R>(_ body: (RequestView) throws -> R) rethrows -> R {
        try bytes.withUnsafeBytes { try body(RequestView(message: $0, head: head)) }
    }
}

extension RequestMatch {
    func matches(_ request: TestRequest, listenerPort: Int = 80) -> Bool {
        request.withView { matches($0, listenerPort: listenerPort) }
    }
}

extension HostMatcher {
    func match(_ authority: String) -> Int? {
        Array(authority.utf8).withUnsafeBytes { match($0) }
    }
}

extension RouteTable {
    func route(_ request: TestRequest, listener: Int = 0, state: inout RoutingState) -> RouteDecision {
        request.withView { route($0, listener: listener, state: &state) }
    }

    func matchRoute(_ request: TestRequest, listener: Int = 0) -> Int? {
        request.withView { matchRoute($0, listener: listener) }
    }
}

/// A cluster of the `nodejs` service for `subset`, with the given endpoint indices.
func nodejsCluster(_ subset: String?, endpoints: [Int] = []) -> Cluster {
    Cluster(serviceHost: "nodejs.default.svc.cluster.local", serviceName: "nodejs", namespace: "default",
            subset: subset, port: 8080, endpoints: endpoints)
}

func endpoint(_ address: String, version: String) -> Endpoint {
    Endpoint(address: address, port: 8080, labels: ["app": "nodejs", "version": version], workload: "nodejs-\(version)", namespace: "default")
}

/// One route with the given destination weights, each to its own cluster (cluster i for weight i).
func weightedTable(_ weights: [Int]) -> RouteTable {
    let route = HTTPRoute(name: "split", virtualService: "default/split", matches: [],
                          destinations: weights.enumerated().map { WeightedCluster(cluster: $0.offset, weight: $0.element) })
    return RouteTable(
        listeners: [Listener(port: 80, gateway: "default/gw", virtualHosts: [VirtualHost(domains: ["*"], routes: [0])])],
        routes: [route],
        clusters: weights.indices.map { nodejsCluster("s\($0)") }
    )
}

/// The first `count` destination picks of route 0 of `table`.
func picks(_ table: RouteTable, _ count: Int, split: SplitMode = .exact, seed: UInt64 = 0) -> [Int] {
    var state = RoutingState(table: table, split: split, seed: seed)
    return (0..<count).map { _ in state.pickDestination(of: table.routes[0]) }
}

/// How often each of `destinations` occurs in `picks`.
func counts(_ picks: some Collection<Int>, destinations: Int) -> [Int] {
    var counts = [Int](repeating: 0, count: destinations)
    for pick in picks { counts[pick] += 1 }
    return counts
}

func gcd(_ a: Int, _ b: Int) -> Int { b == 0 ? a : gcd(b, a % b) }
