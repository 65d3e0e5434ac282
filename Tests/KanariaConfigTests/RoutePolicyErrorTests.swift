import KanariaConfig
import KanariaRouting
import Testing

/// Bad route policies get Istio's answer, at the line of the field, naming the file and the VirtualService.
@Suite struct RoutePolicyErrorTests {
    /// The errors (warnings left out) for a VirtualService with `http` as its routes.
    func errors(_ http: String) throws -> (errors: [String], text: String) {
        let text = istioWith(virtualService(http))
        let config = try loadVS(text)
        #expect(config.table == nil)
        return (config.errors.map(\.description), text)
    }

    /// Out-of-range percentages, statuses, codes and too-fine durations.
    @Test func ranges() throws {
        let (errors, text) = try errors("""
          - match:
            - uri: {prefix: /a}
            fault:
              abort:
                httpStatus: 700
                percentage: {value: 150}
              delay:
                fixedDelay: 0.5ms
                percentage: {value: 10}
            route:
            - destination: {host: nodejs, subset: v1}
            timeout: 1500us
          - match:
            - uri: {prefix: /b}
            redirect:
              uri: /c
              redirectCode: 305
          - directResponse:
              status: 99
        """)
        func at(_ marker: String) -> String { "vs.yaml:\(line(of: marker, in: text)): VirtualService/nodejs:" }
        #expect(errors == [
            "\(at("httpStatus: 700")) httpStatus 700 is not in range 200-599 [IST0106]",
            "\(at("value: 150")) percentage 150 is neither 0 nor between 0.0001 and 100 [IST0106]",
            "\(at("fixedDelay: 0.5ms")) fixedDelay 0.5ms: duration must be at least 1ms [IST0106]",
            "\(at("timeout: 1500us")) timeout 1500us: only durations to ms precision are supported [IST0106]",
            "\(at("redirectCode: 305")) redirectCode 305 is not supported: use 301, 302, 303, 307 or 308 [IST0106]",
            "\(at("status: 99")) status 99 is not in range 200-599 [IST0106]",
        ])
    }

    /// retryOn parts are checked one by one, with a suggestion; attempts: 0 with other settings is refused.
    @Test func retries() throws {
        let (errors, text) = try errors("""
          - match:
            - uri: {prefix: /a}
            route:
            - destination: {host: nodejs, subset: v1}
            retries:
              attempts: 2
              retryOn: 5xx,gateway-eror,299
          - route:
            - destination: {host: nodejs, subset: v1}
            retries:
              attempts: 0
              perTryTimeout: 1s
        """)
        #expect(errors == [
            "vs.yaml:\(line(of: "retryOn:", in: text)): VirtualService/nodejs: \"gateway-eror\" is not a valid retryOn policy; did you mean \"gateway-error\"? [IST0106]",
            "vs.yaml:\(line(of: "retryOn:", in: text)): VirtualService/nodejs: \"299\" is not a valid retryOn policy [IST0106]",
            "vs.yaml:\(line(of: "attempts: 0", in: text)): VirtualService/nodejs: http retry policy configured when attempts are set to 0 (disabled) [IST0106]",
        ])
    }

    /// Exclusive fields and conflicts, with Istio's words.
    @Test func conflicts() throws {
        let (errors, text) = try errors("""
          - match:
            - uri: {prefix: /a}
            redirect:
              uri: /b
              port: 8080
              derivePort: FROM_REQUEST_PORT
            fault:
              abort: {httpStatus: 500, percentage: {value: 1}}
          - match:
            - uri: {prefix: /c}
            rewrite:
              uri: /d
              uriRegexRewrite: {match: "^/c", rewrite: /e}
            route:
            - destination: {host: nodejs, subset: v1}
            mirror: {host: nodejs, subset: v2}
            mirrors:
            - destination: {host: nodejs, subset: v2}
          - fault:
              abort:
                grpcStatus: UNAVAILBLE
            headers:
              request:
                set: {":path": /x, host: a.example}
              response:
                remove: [host]
            rewrite: {authority: b.example}
            route:
            - destination: {host: nodejs, subset: v1}
        """)
        func at(_ marker: String, after: String? = nil) -> String {
            "vs.yaml:\(line(of: marker, in: text, after: after)): VirtualService/nodejs:"
        }
        #expect(errors == [
            "\(at("derivePort:")) only one of \"port\" or \"derivePort\" may be set [IST0106]",
            "\(at("fault:")) HTTP route cannot contain both fault and redirect [IST0106]",
            "\(at("uriRegexRewrite:")) rewrite may only contain one of uri or uriRegexRewrite [IST0106]",
            "\(at("mirrors:")) HTTP route cannot contain both mirror and mirrors [IST0106]",
            "\(at("grpcStatus: UNAVAILBLE")) gRPC status \"UNAVAILBLE\" is not supported; did you mean \"UNAVAILABLE\"? [IST0106]",
            "\(at("set: {\":path\"")) invalid header \":path\": header cannot have \":\" prefix [IST0106]",
            "\(at("set: {\":path\"")) authority header cannot be set multiple times: have \"b.example\", attempting to set \"a.example\" [IST0106]",
            "\(at("remove: [host]")) invalid header \"host\": cannot set Host header [IST0106]",
        ])
    }
}
