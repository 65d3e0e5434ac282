import KanariaConfig
import Testing

/// Routes and matches that can never be used, as `istioctl analyze` reports them: IST0130 for a route, IST0131
/// for a single match. Only certain cases are reported.
@Suite struct ReachabilityTests {
    private func check(_ http: String) throws -> (LoadedConfiguration, String) {
        let text = istioWith(virtualService(http))
        return (load(("app.yaml", try configText("node-app.yaml")), ("istio.yaml", text),
                     ("workloads.yaml", try configText("workloads.yaml"))), text)
    }

    /// A route without match conditions catches everything: the routes after it are never used.
    @Test func routeAfterCatchAll() throws {
        let (config, text) = try check("""
          - name: everyone
            route:
            - destination: {host: nodejs, subset: v1}
          - name: testers
            match:
            - headers:
                x-tester: {exact: "yes"}
            route:
            - destination: {host: nodejs, subset: v2}
        """)
        #expect(printed(config) == [
            "istio.yaml:\(line(of: "- name: testers", in: text)): VirtualService/nodejs: http[1] \"testers\" can never match: http[0] \"everyone\" before it catches every request [IST0130]",
        ])
    }

    /// A longer prefix (with no other condition) after a shorter one is never reached.
    @Test func longerPrefixAfterShorter() throws {
        let (config, text) = try check("""
          - match:
            - uri: {prefix: /sharks}
            route:
            - destination: {host: nodejs, subset: v1}
          - match:
            - uri: {prefix: /sharks/great-white}
            - uri: {exact: /sharks/tiger}
            route:
            - destination: {host: nodejs, subset: v2}
          - route:
            - destination: {host: nodejs, subset: v1}
        """)
        #expect(printed(config) == [
            "istio.yaml:\(line(of: "- match:", in: text, after: "subset: v1")): VirtualService/nodejs: http[1] can never match: every request it matches is caught first by http[0] [IST0130]",
        ])
    }

    /// One covered match among others is reported on its own line; the route stays usable.
    @Test func coveredMatchAmongOthers() throws {
        let (config, text) = try check("""
          - match:
            - uri: {prefix: /api}
              headers:
                x-canary: {exact: "true"}
            route:
            - destination: {host: nodejs, subset: v2}
          - match:
            - uri: {prefix: /web}
            - uri: {exact: /api/sharks}
              headers:
                x-canary: {exact: "true"}
                x-user: {prefix: a}
            route:
            - destination: {host: nodejs, subset: v1}
        """)
        #expect(printed(config) == [
            "istio.yaml:\(line(of: "- uri: {exact: /api/sharks}", in: text)): VirtualService/nodejs: http[1].match[1] can never match: http[0].match[0] catches every request it matches [IST0131]",
        ])
    }

    /// A match that repeats an earlier match of the same route.
    @Test func duplicateMatchInOneRoute() throws {
        let (config, text) = try check("""
          - match:
            - method: {exact: GET}
            - method: {exact: GET}
            route:
            - destination: {host: nodejs, subset: v1}
        """)
        #expect(printed(config) == [
            "istio.yaml:\(line(of: "- method", in: text) + 1): VirtualService/nodejs: http[0].match[1] can never match: http[0].match[0] catches every request it matches [IST0131]",
        ])
    }

    /// Not reported: a narrower earlier route, different headers, different ports, a regex against a prefix,
    /// case-insensitive after case-sensitive.
    @Test func reachableRoutesAreNotReported() throws {
        let (config, _) = try check("""
          - match:
            - uri: {prefix: /sharks/great-white}
            route:
            - destination: {host: nodejs, subset: v2}
          - match:
            - uri: {prefix: /sharks}
              headers:
                x-canary: {exact: "true"}
            route:
            - destination: {host: nodejs, subset: v2}
          - match:
            - uri: {prefix: /sharks}
              port: 8080
            route:
            - destination: {host: nodejs, subset: v2}
          - match:
            - uri: {regex: "/sharks/.*"}
            route:
            - destination: {host: nodejs, subset: v1}
          - match:
            - uri: {prefix: /SHARKS}
              ignoreUriCase: true
            route:
            - destination: {host: nodejs, subset: v1}
          - match:
            - uri: {exact: /whales}
              withoutHeaders:
                x-canary: {}
            route:
            - destination: {host: nodejs, subset: v1}
          - route:
            - destination: {host: nodejs, subset: v1}
        """)
        #expect(printed(config) == [])
    }

    /// An exact path a regex of an earlier route matches is covered; so is a case-insensitive prefix's subject.
    @Test func regexAndIgnoreCaseCoverage() throws {
        let (config, text) = try check("""
          - match:
            - uri: {regex: "/sharks/[a-z]+"}
            route:
            - destination: {host: nodejs, subset: v2}
          - match:
            - uri: {prefix: /Sharks}
              ignoreUriCase: true
            route:
            - destination: {host: nodejs, subset: v2}
          - match:
            - uri: {exact: /sharks/tiger}
            route:
            - destination: {host: nodejs, subset: v1}
          - match:
            - uri: {prefix: /sharks/fins}
            route:
            - destination: {host: nodejs, subset: v1}
        """)
        #expect(printed(config) == [
            "istio.yaml:\(line(of: "exact: /sharks/tiger", in: text) - 1): VirtualService/nodejs: http[2] can never match: every request it matches is caught first by http[0] [IST0130]",
            "istio.yaml:\(line(of: "prefix: /sharks/fins", in: text) - 1): VirtualService/nodejs: http[3] can never match: every request it matches is caught first by http[1] [IST0130]",
        ])
    }
}
