import KanariaHTTP
import KanariaRouting
import Testing

/// Header operations and CORS decisions, as Envoy applies them.
@Suite struct HeaderCorsTests {
    /// Envoy's order: removals, then set (replacing), then add (appending); names lowercased; host left out.
    @Test func operationsEditFields() {
        let ops = HeaderOperations(set: [.init("X-Set", "1"), .init("host", "evil")], add: [.init("x-add", "2")], remove: ["X-Gone", ":path"])
        #expect(ops.remove == [Array("x-gone".utf8)])
        let fields = [("X-Set", "old"), ("x-add", "kept"), ("x-gone", "g"), ("x-other", "o")]
        let edited = ops.edit.applied(to: fields)
        #expect(edited.map { "\($0.name): \($0.value)" } == ["x-add: kept", "x-other: o", "x-set: 1", "x-add: 2"])
    }

    /// Route-level then destination-level: the destination's remove and set win over the route's add.
    @Test func routeThenDestination() {
        let routeOps = HeaderOperations(set: [.init("x-a", "1")], add: [.init("x-b", "2")])
        let destination = HeaderOperations(set: [.init("x-c", "3")], remove: ["x-b"])
        let edit = routeOps.edit.then(destination.edit)
        #expect(edit.drop == ["x-a", "x-b", "x-c"].map { Array($0.utf8) })
        #expect(edit.append == [.init("x-a", "1"), .init("x-c", "3")])
        let route = HTTPRoute(name: "r", virtualService: "default/vs", matches: [],
                              destinations: [WeightedCluster(cluster: 0, weight: 1, headers: HeaderPolicy(request: destination)),
                                             WeightedCluster(cluster: 1, weight: 1)],
                              headers: HeaderPolicy(request: routeOps))
        #expect(route.requestHeaderEdits == [edit, routeOps.edit])
        #expect(route.responseHeaderEdits == [.none, .none])
    }

    /// The authority rewrite: the route's wins over a single destination's, a weighted destination's over the route's.
    @Test func authorityRewrites() {
        let routeLevel = URIRewrite(authority: "route.example")
        let destinationLevel = HeaderPolicy(request: HeaderOperations(), authority: "destination.example")
        let single = HTTPRoute(name: "s", virtualService: "default/vs", matches: [],
                               destinations: [WeightedCluster(cluster: 0, weight: 1, headers: destinationLevel)], rewrite: routeLevel)
        #expect(single.authorityRewrites == [Array("route.example".utf8)])
        let weighted = HTTPRoute(name: "w", virtualService: "default/vs", matches: [],
                                 destinations: [WeightedCluster(cluster: 0, weight: 1, headers: destinationLevel), WeightedCluster(cluster: 1, weight: 1)],
                                 headers: HeaderPolicy(authority: "headers.example"))
        #expect(weighted.authorityRewrites == [Array("destination.example".utf8), Array("headers.example".utf8)])
        let plain = HTTPRoute(name: "p", virtualService: "default/vs", matches: [], destinations: [WeightedCluster(cluster: 0, weight: 1)])
        #expect(plain.authorityRewrites == [nil])
    }

    let cors = CorsPolicy(allowOrigins: [.exact("https://a.example"), .prefix("https://dev.")], allowMethods: ["GET", "POST"],
                          allowHeaders: ["x-token"], exposeHeaders: ["x-trace"], maxAgeSeconds: 86400, allowCredentials: true)

    /// A preflight needs OPTIONS, an Origin and Access-Control-Request-Method; the origin decides the answer.
    @Test func verdicts() throws {
        let preflight = [("Origin", "https://a.example"), ("Access-Control-Request-Method", "POST")]
        #expect(try TestRequest("OPTIONS", "/", headers: preflight).withView { cors.verdict($0) } == .answerPreflight)
        #expect(try TestRequest("GET", "/", headers: [("Origin", "https://dev.x")]).withView { cors.verdict($0) } == .forwardAllowed)
        #expect(try TestRequest("OPTIONS", "/", headers: [("Origin", "https://a.example")]).withView { cors.verdict($0) } == .forwardAllowed)
        #expect(try TestRequest("GET", "/").withView { cors.verdict($0) } == .notCors)
        let stranger = [("Origin", "https://b.example"), ("Access-Control-Request-Method", "GET")]
        #expect(try TestRequest("OPTIONS", "/", headers: stranger).withView { cors.verdict($0) } == .forwardUnmatchedPreflight)
        #expect(try TestRequest("GET", "/", headers: [("Origin", "https://b.example")]).withView { cors.verdict($0) } == .notCors)
        let ignoring = CorsPolicy(allowOrigins: [.exact("https://a.example")], forwardUnmatchedPreflights: false)
        #expect(try TestRequest("OPTIONS", "/", headers: stranger).withView { ignoring.verdict($0) } == .answerUnmatchedPreflight)
        let anyOrigin = CorsPolicy(allowOrigins: [.exact("*")])
        #expect(try TestRequest("GET", "/", headers: [("Origin", "https://z.example")]).withView { anyOrigin.verdict($0) } == .forwardAllowed)
    }

    /// The preflight answer and the actual answer carry Envoy's headers, with the request's origin echoed.
    @Test func responseHeaders() {
        var preflight: [String] = [], actual: [String] = []
        Array("https://a.example".utf8).withUnsafeBytes { origin in
            cors.preflightHeaders(origin: origin) { preflight.append("\($0): \(String(decoding: $1, as: UTF8.self))") }
            cors.actualResponseHeaders(origin: origin) { actual.append("\($0): \(String(decoding: $1, as: UTF8.self))") }
        }
        #expect(preflight == ["access-control-allow-origin: https://a.example", "access-control-allow-credentials: true",
                              "access-control-allow-methods: GET,POST", "access-control-allow-headers: x-token",
                              "access-control-max-age: 86400"])
        #expect(actual == ["access-control-allow-origin: https://a.example", "access-control-allow-credentials: true",
                           "access-control-expose-headers: x-trace"])
    }
}
