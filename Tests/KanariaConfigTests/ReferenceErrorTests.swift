import KanariaConfig
import Testing

/// References between resources that do not resolve: what `istioctl analyze` reports as IST0101.
@Suite struct ReferenceErrorTests {
    /// A route to a subset that no DestinationRule for the host defines.
    @Test func undefinedSubset() throws {
        let istio = try configText("node-istio.yaml").replacingOccurrences(of: "subset: v2", with: "subset: v3")
        let config = try loadSeed(istio: istio)
        #expect(printed(config) == [
            "node-istio.yaml:\(line(of: "subset: v3", in: istio)): VirtualService/nodejs: referenced subset not found: \"v3\"; the DestinationRules for host nodejs.default.svc.cluster.local define \"v1\", \"v2\" [IST0101]",
        ])
        #expect(config.table == nil)
    }

    /// A subset on a host no DestinationRule covers at all.
    @Test func subsetWithoutDestinationRule() throws {
        let istio = try configText("node-istio.yaml").components(separatedBy: "---\napiVersion: networking.istio.io/v1alpha3\nkind: DestinationRule")[0]
        let config = try loadSeed(istio: istio)
        #expect(printed(config) == [
            "node-istio.yaml:\(line(of: "subset: v1", in: istio)): VirtualService/nodejs: referenced subset not found: \"v1\"; no DestinationRule defines subsets for host nodejs.default.svc.cluster.local [IST0101]",
            "node-istio.yaml:\(line(of: "subset: v2", in: istio)): VirtualService/nodejs: referenced subset not found: \"v2\"; no DestinationRule defines subsets for host nodejs.default.svc.cluster.local [IST0101]",
        ])
    }

    /// A destination host that is no Service or ServiceEntry, with the nearest service name.
    @Test func unknownHostSuggestsService() throws {
        let istio = try configText("node-istio.yaml").replacingOccurrences(of: "host: nodejs\n        subset: v2", with: "host: nodjs\n        subset: v2")
        let config = try loadSeed(istio: istio)
        #expect(printed(config) == [
            "node-istio.yaml:\(line(of: "host: nodjs", in: istio)): VirtualService/nodejs: referenced host not found: \"nodjs\" (nodjs.default.svc.cluster.local) is no Service or ServiceEntry; did you mean \"nodejs\"? [IST0101]",
        ])
    }

    /// Without node-app.yaml there is no Service `nodejs`: both destinations and the DestinationRule say so.
    @Test func missingServiceFile() throws {
        let istio = try configText("node-istio.yaml")
        let config = load(("node-istio.yaml", istio))
        #expect(printed(config) == [
            "node-istio.yaml:\(line(of: "host: nodejs", in: istio)): VirtualService/nodejs: referenced host not found: \"nodejs\" (nodejs.default.svc.cluster.local) is no Service or ServiceEntry [IST0101]",
            "node-istio.yaml:\(line(of: "host: nodejs", in: istio, after: "subset: v1")): VirtualService/nodejs: referenced host not found: \"nodejs\" (nodejs.default.svc.cluster.local) is no Service or ServiceEntry [IST0101]",
            "node-istio.yaml:\(line(of: "host: nodejs", in: istio, after: "kind: DestinationRule")): DestinationRule/nodejs: warning: host \"nodejs\" matches no Service or ServiceEntry; this DestinationRule applies to nothing",
        ])
    }

    /// A VirtualService gateway that names no Gateway, with the nearest Gateway name.
    @Test func unknownGateway() throws {
        let istio = try configText("node-istio.yaml").replacingOccurrences(of: "  - nodejs-gateway", with: "  - nodejs-gatway")
        let config = try loadSeed(istio: istio)
        #expect(printed(config) == [
            "node-istio.yaml:\(line(of: "- nodejs-gatway", in: istio)): VirtualService/nodejs: referenced gateway not found: \"nodejs-gatway\" (no Gateway default/nodejs-gatway); did you mean \"nodejs-gateway\"? [IST0101]",
        ])
    }

    /// A Gateway in another namespace is named `namespace/name`.
    @Test func gatewayInAnotherNamespace() throws {
        let istio = try configText("node-istio.yaml")
            .replacingOccurrences(of: "  name: nodejs-gateway\n", with: "  name: nodejs-gateway\n  namespace: ingress\n")
        let wrong = try loadSeed(istio: istio)
        #expect(printed(wrong).first?.hasSuffix("referenced gateway not found: \"nodejs-gateway\" (no Gateway default/nodejs-gateway) [IST0101]") == true)
        let right = try loadSeed(istio: istio.replacingOccurrences(of: "  - nodejs-gateway", with: "  - ingress/nodejs-gateway"))
        #expect(printed(right) == [])
        #expect(right.table?.listeners.map(\.gateway) == ["ingress/nodejs-gateway"])
    }

    /// A destination port the Service does not have.
    @Test func destinationPortTheServiceLacks() throws {
        let istio = try configText("node-istio.yaml").replacingOccurrences(of: "subset: v2\n", with: "subset: v2\n        port:\n          number: 9090\n")
        let config = try loadSeed(istio: istio)
        #expect(printed(config) == [
            "node-istio.yaml:\(line(of: "number: 9090", in: istio)): VirtualService/nodejs: host nodejs.default.svc.cluster.local has no port 9090; its ports are 8080 [IST0101]",
        ])
    }

    /// With several service ports, a destination must choose one; naming it compiles a cluster for that port.
    @Test func severalServicePortsNeedAChoice() throws {
        let app = try configText("node-app.yaml").replacingOccurrences(of: "  - name: http\n    port: 8080\n", with: """
          - name: http
            port: 8080
          - name: http-admin
            port: 9000

        """)
        let istio = try configText("node-istio.yaml")
        let config = load(("node-app.yaml", app), ("node-istio.yaml", istio), ("workloads.yaml", try configText("workloads.yaml")))
        #expect(printed(config) == [
            "node-istio.yaml:\(line(of: "host: nodejs", in: istio)): VirtualService/nodejs: host nodejs.default.svc.cluster.local has several ports (8080, 9000); choose one with \"port: {number: …}\"",
            "node-istio.yaml:\(line(of: "host: nodejs", in: istio, after: "subset: v1")): VirtualService/nodejs: host nodejs.default.svc.cluster.local has several ports (8080, 9000); choose one with \"port: {number: …}\"",
        ])
        let chosen = istio.replacingOccurrences(of: "        subset: v1\n", with: "        subset: v1\n        port:\n          number: 9000\n")
            .replacingOccurrences(of: "        subset: v2\n", with: "        subset: v2\n        port: {number: 9000}\n")
        let fixed = load(("node-app.yaml", app), ("node-istio.yaml", chosen), ("workloads.yaml", try configText("workloads.yaml")))
        #expect(printed(fixed) == [])
        let table = try #require(fixed.table)
        #expect(table.clusters.map(\.name) == ["outbound|9000|v1|nodejs.default.svc.cluster.local",
                                               "outbound|9000|v2|nodejs.default.svc.cluster.local"])
        // The WorkloadEntries map only `http`, so port 9000 goes to the service port number.
        #expect(table.endpoints.map(\.port) == [9000])
    }
}
