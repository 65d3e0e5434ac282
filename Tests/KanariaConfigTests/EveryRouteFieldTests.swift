@testable import KanariaConfig
import KanariaRouting
import Testing

/// A VirtualService using every HTTPRoute field Kanaria reads: the proxy honours them all, so it validates with no
/// "not implemented" warning (only the deprecation Istio itself gives for `mirror_percent`).
@Suite struct EveryRouteFieldTests {
    @Test func everyFieldValidatesWithoutANotImplementedWarning() throws {
        let text = istioWith(virtualService("""
          - name: everything
            match:
            - name: api
              uri: {prefix: /api}
              scheme: {exact: http}
              method: {regex: "GET|POST"}
              authority: {prefix: shark}
              headers:
                x-canary: {exact: "yes"}
              withoutHeaders:
                x-legacy: {}
              queryParams:
                debug: {regex: "*"}
              ignoreUriCase: true
              port: 80
            rewrite:
              uriRegexRewrite: {match: "^/api/(.*)$", rewrite: "/v2/\\\\1"}
              authority: api.internal
            timeout: 3s
            retries:
              attempts: 3
              perTryTimeout: 1s
              retryOn: 5xx,reset,retriable-4xx,deadline-exceeded,429
              retryIgnorePreviousHosts: false
              backoff: 50ms
            fault:
              delay: {fixedDelay: 100ms, percentage: {value: 0.5}}
              abort: {grpcStatus: DEADLINE_EXCEEDED, percentage: {value: 1}}
            mirrors:
            - destination: {host: nodejs, subset: v2}
              percentage: {value: 12.5}
            corsPolicy:
              allowOrigins: [{exact: "https://a.example"}, {prefix: "https://b."}, {regex: "https://.*\\\\.c\\\\.example"}]
              allowMethods: [GET, POST, OPTIONS]
              allowHeaders: [x-token]
              exposeHeaders: [x-trace]
              maxAge: 10m
              allowCredentials: true
              unmatchedPreflights: FORWARD
            headers:
              request: {set: {x-route: api}, add: {x-seen: "1"}, remove: [x-debug]}
              response: {set: {x-gateway: kanaria}, remove: [server]}
            route:
            - destination: {host: nodejs, subset: v1}
              weight: 90
              headers: {response: {add: {x-subset: v1}}}
            - destination: {host: nodejs, subset: v2}
              weight: 10
          - match:
            - uri: {exact: /gone}
            directResponse: {status: 410, body: {string: gone}}
          - match:
            - uri: {prefix: /old}
            redirect: {authority: new.example, port: 8080, scheme: https, redirectCode: 307}
          - route:
            - destination: {host: nodejs, subset: v1}
            mirror: {host: nodejs, subset: v2}
            mirror_percent: 5
        """))
        let config = try loadVS(text)
        let messages = config.diagnostics.map(\.message)
        #expect(config.errors.isEmpty, "\(config.errors)")
        let allowed = messages.allSatisfy {
            $0 == "using deprecated setting \"mirror_percent\", use \"mirrorPercentage\" instead"
        }
        #expect(allowed, "\(messages)")
        let routes = try #require(config.table).routes
        #expect(routes.count == 4)
        #expect(routes[0].retries == RetryPolicy(retries: 3, retryOn: [.fiveXX, .reset, .retriable4xx, .deadlineExceeded, .retriableStatusCodes],
                                                retriableStatusCodes: [429], perTryTimeout: .seconds(1), avoidPreviousHosts: false,
                                                backoffBase: .milliseconds(50)))
        #expect(routes[0].fault == FaultPolicy(delay: FaultDelay(fixedDelay: .milliseconds(100), percentage: Percentage(percent: 0.5)),
                                               abort: FaultAbort(status: .grpc(4), percentage: Percentage(percent: 1))))
        #expect(routes[0].matches[0].queryParams.count == 1 && routes[0].matches[0].scheme != nil)
        #expect(routes[3].mirrors.map(\.percentage) == [Percentage(percent: 5)])
    }

    /// Go's duration syntax, to the nanosecond.
    @Test(arguments: [("1.5s", 1_500_000_000), ("300ms", 300_000_000), ("1h2m", 3_720_000_000_000), ("0.001s", 1_000_000),
                      ("250us", 250_000), ("1m0.5s", 60_500_000_000), ("0", 0)])
    func parsesGoDurations(text: String, nanoseconds: Int) {
        #expect(GoDuration.parse(text) == .nanoseconds(nanoseconds))
    }

    /// Durations print as Istio users write them.
    @Test func printsDurations() {
        #expect([Duration.milliseconds(500), .seconds(2), .milliseconds(1500), .milliseconds(90_000), .milliseconds(1250)].map(\.istioText)
                == ["500ms", "2s", "1.5s", "90s", "1.25s"])
    }
}
