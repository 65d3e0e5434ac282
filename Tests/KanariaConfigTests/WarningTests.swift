import KanariaConfig
import KanariaRouting
import Testing

/// Valid Istio that Kanaria does not act on yet is a warning naming it: never silently ignored, never an error.
@Suite struct WarningTests {
    /// headers on a destination, retries, timeout and fault on a route: honoured, so nothing is warned about.
    @Test func honouredRouteFieldsAreNotWarnedAbout() throws {
        let vs = virtualService("""
          - route:
            - destination:
                host: nodejs
                subset: v1
              weight: 80
              headers:
                response:
                  set: {x-canary: "no"}
            - destination:
                host: nodejs
                subset: v2
              weight: 20
            retries:
              attempts: 3
              perTryTimeout: 2s
            timeout: 10s
            fault:
              delay:
                fixedDelay: 5s
                percentage: {value: 10}
        """)
        let text = istioWith(vs)
        let config = load(("app.yaml", try configText("node-app.yaml")), ("vs.yaml", text), ("workloads.yaml", try configText("workloads.yaml")))
        #expect(printed(config) == [])
        #expect(!config.hasErrors)
        #expect(config.table?.routes.count == 1)
    }

    /// Inside a route's retries, typos and bad values are errors (Istio would reject them).
    @Test func unimplementedFieldsAreStillChecked() throws {
        let vs = virtualService("""
          - route:
            - destination: {host: nodejs}
            retries:
              atempts: 3
              perTryTimeout: 2 seconds
        """)
        let text = istioWith(vs)
        let config = load(("app.yaml", try configText("node-app.yaml")), ("vs.yaml", text), ("workloads.yaml", try configText("workloads.yaml")))
        #expect(printed(config) == [
            "vs.yaml:\(line(of: "atempts", in: text)): VirtualService/nodejs: unknown field \"atempts\"; did you mean \"attempts\"? [IST0106]",
            "vs.yaml:\(line(of: "perTryTimeout", in: text)): VirtualService/nodejs: field \"perTryTimeout\" must be a duration like \"1.5s\" or \"500ms\", got 2 seconds [IST0106]",
        ])
    }

    /// A DestinationRule's traffic policy is warned about once, at the policy.
    @Test func trafficPolicy() throws {
        let istio = try configText("node-istio.yaml").replacingOccurrences(of: "  host: nodejs\n  subsets:", with: """
          host: nodejs
          trafficPolicy:
            loadBalancer:
              simple: LEAST_REQUEST
            outlierDetection:
              consecutive5xxErrors: 5
              interval: 10s
          subsets:
        """)
        let config = try loadSeed(istio: istio)
        #expect(printed(config) == [
            "node-istio.yaml:\(line(of: "trafficPolicy:", in: istio)): DestinationRule/nodejs: warning: field \"trafficPolicy\" is valid Istio but not implemented yet; it is ignored",
        ])
    }

    /// The mesh gateway is ignored with a warning; a VirtualService with no gateways is ignored with a warning.
    @Test func meshGateway() throws {
        let both = try configText("node-istio.yaml").replacingOccurrences(of: "  - nodejs-gateway\n", with: "  - nodejs-gateway\n  - mesh\n")
        let config = try loadSeed(istio: both)
        #expect(printed(config) == [
            "node-istio.yaml:\(line(of: "- mesh", in: both)): VirtualService/nodejs: warning: gateway \"mesh\" (the sidecars) is ignored: Kanaria serves gateways only",
        ])
        #expect(config.table?.routes.count == 1)

        let none = try configText("node-istio.yaml").replacingOccurrences(of: "  gateways:\n  - nodejs-gateway\n", with: "")
        let meshOnly = try loadSeed(istio: none)
        #expect(printed(meshOnly) == [
            "node-istio.yaml:\(line(of: "name: nodejs", in: none, after: "kind: VirtualService")): VirtualService/nodejs: warning: no gateways: this VirtualService applies to the mesh (sidecars) only, which Kanaria does not serve; it is ignored",
        ])
        #expect(meshOnly.table?.routes.count == 0)
        #expect(meshOnly.table?.listeners.count == 1)
    }

    /// A subset with no endpoints is a warning, not an error: at run time it answers 503 no healthy upstream.
    @Test func subsetWithoutEndpoints() throws {
        let workloads = try configText("workloads.yaml").components(separatedBy: "---\n")[0]
        let istio = try configText("node-istio.yaml")
        let config = try loadSeed(workloads: workloads)
        #expect(printed(config) == [
            "node-istio.yaml:\(line(of: "subset: v2", in: istio)): VirtualService/nodejs: warning: no endpoints for subset \"v2\" of nodejs.default.svc.cluster.local:8080; requests routed there get 503 \"no healthy upstream\"",
        ])
        let table = try #require(config.table)
        #expect(table.clusters.map(\.endpoints.count) == [1, 0])
    }

    /// WorkloadEntry weight and locality change load balancing in Istio: warned about.
    @Test func workloadEntryFields() throws {
        let workloads = try configText("workloads.yaml").replacingOccurrences(of: "  address: 127.0.0.1\n  ports:\n    http: 9082", with: """
          address: 127.0.0.1
          weight: 3
          locality: eu-west/zone-a
          serviceAccount: sharks
          ports:
            http: 9082
        """)
        let config = try loadSeed(workloads: workloads)
        #expect(printed(config) == [
            "workloads.yaml:\(line(of: "weight: 3", in: workloads)): WorkloadEntry/nodejs-v2: warning: field \"weight\" is valid Istio but not implemented yet; it is ignored",
            "workloads.yaml:\(line(of: "locality:", in: workloads)): WorkloadEntry/nodejs-v2: warning: field \"locality\" is valid Istio but not implemented yet; it is ignored",
        ])
    }

    /// Warnings alone leave the configuration usable.
    @Test func warningsDoNotBlockTheTable() throws {
        let istio = try configText("node-istio.yaml").replacingOccurrences(of: "  - nodejs-gateway\n", with: "  - nodejs-gateway\n  - mesh\n")
        let config = try loadSeed(istio: istio)
        #expect(config.warnings.count == 1)
        #expect(config.errors.isEmpty)
        #expect(!config.hasErrors)
        #expect(config.table != nil)
    }

    /// A route that only redirects is compiled into the table, as a redirect, without a warning.
    @Test func redirectOnlyRoute() throws {
        let vs = virtualService("""
          - match:
            - uri: {prefix: /old}
            redirect:
              uri: /new
          - route:
            - destination: {host: nodejs}
        """)
        let text = istioWith(vs)
        let config = try loadVS(text)
        #expect(printed(config) == [])
        #expect(config.table?.routes.map(\.name) == ["nodejs.0", "nodejs.1"])
        #expect(config.table?.routes[0].action == .redirect(RedirectAction(uri: "/new")))
    }
}
