import KanariaConfig
import KanariaRouting
import Testing

/// Istio's task pages' route policies, in the YAML users write, compiled into the model.
@Suite struct RoutePolicyConfigTests {
    /// The seed's configuration with `http` as the VirtualService's routes; the test fails on any error.
    func compiled(_ http: String) throws -> RouteTable {
        let config = try loadVS(istioWith(virtualService(http)))
        #expect(config.errors.map(\.description) == [])
        return try #require(config.table)
    }

    /// Request timeouts task: `timeout: 0.5s`; no timeout and Istio's default retries when unset.
    @Test func requestTimeout() throws {
        let table = try compiled("""
          - match:
            - uri: {prefix: /slow}
            route:
            - destination: {host: nodejs, subset: v2}
            timeout: 0.5s
          - route:
            - destination: {host: nodejs, subset: v1}
        """)
        #expect(table.routes[0].timeout == .milliseconds(500))
        #expect(table.routes[0].retries == .istioDefault)
        #expect(table.routes[1].timeout == nil)
    }

    /// Retries: attempts, perTryTimeout, retryOn with a status code, as in Istio's reference example.
    @Test func retries() throws {
        let table = try compiled("""
          - match:
            - method: {exact: GET}
            route:
            - destination: {host: nodejs, subset: v1}
            retries:
              attempts: 3
              perTryTimeout: 2s
              retryOn: gateway-error,connect-failure,refused-stream,503
          - route:
            - destination: {host: nodejs, subset: v1}
            retries:
              attempts: 0
        """)
        let policy = table.routes[0].retries
        #expect(policy.retries == 3 && policy.perTryTimeout == .seconds(2))
        #expect(policy.retryOn == [.gatewayError, .connectFailure, .refusedStream, .retriableStatusCodes])
        #expect(policy.retriableStatusCodes == [503])
        #expect(policy.avoidPreviousHosts)
        #expect(table.routes[1].retries == .off)
    }

    /// Fault injection task: a 7 s delay for jason, a 500 abort for everyone else, both at 100%.
    @Test func faultInjection() throws {
        let table = try compiled("""
          - match:
            - headers:
                end-user:
                  exact: jason
            fault:
              delay:
                percentage:
                  value: 100.0
                fixedDelay: 7s
            route:
            - destination: {host: nodejs, subset: v2}
          - fault:
              abort:
                percentage:
                  value: 0.1
                httpStatus: 500
            route:
            - destination: {host: nodejs, subset: v1}
        """)
        #expect(table.routes[0].fault == FaultPolicy(delay: FaultDelay(fixedDelay: .seconds(7), percentage: .all)))
        #expect(table.routes[1].fault == FaultPolicy(abort: FaultAbort(status: .http(500), percentage: Percentage(millionths: 1_000))))
    }

    /// A gRPC abort names its status; a fault without percentage injects into no request (Istio's default), which
    /// a warning points out.
    @Test func grpcAbortAndMissingPercentage() throws {
        let text = istioWith(virtualService("""
          - fault:
              abort:
                grpcStatus: UNAVAILABLE
            route:
            - destination: {host: nodejs, subset: v1}
        """))
        let config = try loadVS(text)
        #expect(config.warnings.map(\.description).contains(
            "vs.yaml:\(line(of: "grpcStatus:", in: text)): VirtualService/nodejs: warning: abort has no percentage: Istio aborts no request (add percentage: {value: 100} for all)"))
        #expect(config.table?.routes[0].fault?.abort == FaultAbort(status: .grpc(14), percentage: .zero))
    }

    /// Mirroring task: all of v1's traffic copied to v2; `mirrors` and `mirror_percent` fold into one list.
    @Test func mirroring() throws {
        let table = try compiled("""
          - match:
            - uri: {prefix: /m}
            route:
            - destination: {host: nodejs, subset: v1}
              weight: 100
            mirror:
              host: nodejs
              subset: v2
            mirrorPercentage:
              value: 100.0
          - match:
            - uri: {prefix: /a}
            route:
            - destination: {host: nodejs, subset: v1}
            mirrors:
            - destination: {host: nodejs, subset: v2}
              percentage: {value: 25}
            - destination: {host: nodejs, subset: v1}
        """)
        let v2 = table.clusters.firstIndex { $0.subset == "v2" }!, v1 = table.clusters.firstIndex { $0.subset == "v1" }!
        #expect(table.routes[0].mirrors == [MirrorPolicy(cluster: v2, percentage: .all)])
        #expect(table.routes[1].mirrors == [MirrorPolicy(cluster: v2, percentage: Percentage(percent: 25)), MirrorPolicy(cluster: v1)])
    }

    /// CORS as in Istio's reference example.
    @Test func corsPolicy() throws {
        let table = try compiled("""
          - route:
            - destination: {host: nodejs, subset: v1}
            corsPolicy:
              allowOrigins:
              - exact: https://example.com
              - regex: "https://.*\\\\.example\\\\.org"
              allowMethods:
              - POST
              - GET
              allowCredentials: false
              allowHeaders:
              - X-Foo-Bar
              maxAge: "24h"
              unmatchedPreflights: IGNORE
        """)
        let cors = try #require(table.routes[0].corsPolicy)
        #expect(cors.allowMethods == Array("POST,GET".utf8))
        #expect(cors.allowHeaders == Array("X-Foo-Bar".utf8))
        #expect(cors.maxAge == Array("86400".utf8))
        #expect(!cors.forwardUnmatchedPreflights && !cors.allowCredentials)
        #expect(Array("https://a.example.org".utf8).withUnsafeBytes { cors.allows(origin: $0) })
        #expect(!Array("https://example.org".utf8).withUnsafeBytes { cors.allows(origin: $0) })
    }

    /// Redirect, direct response and rewrite routes, as in Istio's reference.
    @Test func actions() throws {
        let table = try compiled("""
          - match:
            - uri: {exact: /v1/getProductRatings}
            redirect:
              uri: /v1/bookRatings
              authority: newratings.default.svc.cluster.local
              redirectCode: 302
          - match:
            - uri: {prefix: /old}
            redirect:
              scheme: https
              derivePort: FROM_REQUEST_PORT
          - match:
            - uri: {exact: /teapot}
            directResponse:
              status: 418
              body:
                bytes: "SSdtIGEgdGVhcG90"
          - match:
            - uri: {prefix: /ratings}
            rewrite:
              uri: /v1/bookRatings
              authority: ratings.internal
            headers:
              request:
                set: {X-Route: ratings}
                remove: [x-debug]
              response:
                add: {x-served-by: kanaria}
            route:
            - destination: {host: nodejs, subset: v1}
              headers:
                request:
                  set: {x-subset: v1}
        """)
        #expect(table.routes[0].action == .redirect(RedirectAction(uri: "/v1/bookRatings", authority: "newratings.default.svc.cluster.local", code: 302)))
        #expect(table.routes[1].action == .redirect(RedirectAction(port: .fromRequestPort, scheme: "https")))
        #expect(table.routes[2].action == .directResponse(DirectResponse(status: 418, body: Array("I'm a teapot".utf8))))
        #expect(table.routes[0].destinations.isEmpty)
        let rewrite = try #require(table.routes[3].rewrite)
        #expect(rewrite.authority == Array("ratings.internal".utf8))
        guard case .prefix(let uri)? = rewrite.path else { Issue.record("no uri rewrite"); return }
        #expect(uri == Array("/v1/bookRatings".utf8))
        let edit = table.routes[3].requestHeaderEdits[0]
        #expect(edit.drop == ["x-debug", "x-route", "x-subset"].map { Array($0.utf8) })
        #expect(edit.append == [.init("x-route", "ratings"), .init("x-subset", "v1")])
        #expect(table.routes[3].responseHeaderEdits[0].append == [.init("x-served-by", "kanaria")])
    }

    /// A redirect route answers instead of routing.
    @Test func redirectDecision() throws {
        let table = try compiled("""
          - match:
            - uri: {prefix: /old}
            redirect: {uri: /new}
          - route:
            - destination: {host: nodejs, subset: v1}
        """)
        var state = RoutingState(table: table)
        #expect(route("GET /old HTTP/1.1\nHost: a\n\n", in: table, state: &state) == .answer(route: 0))
        #expect(route("GET /x HTTP/1.1\nHost: a\n\n", in: table, state: &state) == .cluster(route: 1, cluster: 0))
    }
}
