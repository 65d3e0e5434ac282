import Foundation
import KanariaConfig
import Testing

/// What `kanaria validate` says it checked: resources by kind, listeners, routes, endpoints per subset, counts.
@Suite struct ValidationSummaryTests {
    /// The tutorial's files: every kind counted, the one listener, the route, and each subset's endpoint.
    @Test func seedSummaryNamesEverythingChecked() throws {
        let config = try loadSeed()
        #expect(config.summary.lines == [
            "checked 3 files: node-app.yaml, node-istio.yaml, workloads.yaml",
            "resources: 8 (1 Gateway, 1 VirtualService, 1 DestinationRule, 1 Service, 2 Deployment, 2 WorkloadEntry)",
            "listeners: 1",
            "  gateway port 80 HTTP (Gateway default/nodejs-gateway): hosts *; 1 route",
            "routes: 1 (VirtualService default/nodejs: 1)",
            "clusters: 2, with 2 endpoints",
            "  outbound|8080|v1|nodejs.default.svc.cluster.local: 1 endpoint (127.0.0.1:9081)",
            "  outbound|8080|v2|nodejs.default.svc.cluster.local: 1 endpoint (127.0.0.1:9082)",
            "configuration is valid: 0 errors, 0 warnings",
        ])
    }

    /// A subset whose labels select three endpoints lists them; one that selects none says what requests get.
    @Test func endpointsAreCountedPerSubset() throws {
        let workloads = try configText("workloads.yaml")
            .replacingOccurrences(of: "version: v2", with: "version: v1")
        let config = try loadSeed(workloads: workloads + """
        ---
        apiVersion: networking.istio.io/v1beta1
        kind: WorkloadEntry
        metadata:
          name: nodejs-v1-b
        spec:
          address: 127.0.0.1
          ports: {http: 9083}
          labels: {app: nodejs, version: v1}
        """)
        let summary = config.summary
        #expect(summary.clusters.map(\.endpoints) == [["127.0.0.1:9081", "127.0.0.1:9082", "127.0.0.1:9083"], []])
        #expect(summary.counts.endpoints == 3)
        #expect(summary.counts.warnings == 1)
        #expect(summary.lines.contains("  outbound|8080|v1|nodejs.default.svc.cluster.local: 3 endpoints (127.0.0.1:9081, 127.0.0.1:9082, 127.0.0.1:9083)"))
        #expect(summary.lines.contains("  outbound|8080|v2|nodejs.default.svc.cluster.local: 0 endpoints (answers 503 no healthy upstream)"))
        #expect(summary.lines.last == "configuration is valid: 0 errors, 1 warning")
    }

    /// With errors nothing is compiled: the summary counts the resources read and the problems, nothing more.
    @Test func invalidConfigurationCountsResourcesAndProblems() throws {
        let config = try loadSeed(istio: try configText("node-istio.yaml").replacingOccurrences(of: "weight: 80", with: "wieght: 80"))
        #expect(config.summary.lines == [
            "checked 3 files: node-app.yaml, node-istio.yaml, workloads.yaml",
            "resources: 8 (1 Gateway, 1 VirtualService, 1 DestinationRule, 1 Service, 2 Deployment, 2 WorkloadEntry)",
            "configuration is invalid: 1 error, 0 warnings",
        ])
        #expect(config.summary.listeners.isEmpty && config.summary.clusters.isEmpty)
    }

    /// `--json`'s diagnostics carry file, line, severity, code, resource, message and the printed line.
    @Test func diagnosticEncodesEveryField() throws {
        let config = try loadSeed(istio: try configText("node-istio.yaml").replacingOccurrences(of: "weight: 80", with: "wieght: 80"))
        let diagnostic = try #require(config.diagnostics.first)
        let object = try #require(try JSONSerialization.jsonObject(with: JSONEncoder().encode(diagnostic)) as? [String: Any])
        #expect(object["file"] as? String == "node-istio.yaml")
        #expect(object["line"] as? Int == 30)
        #expect(object["severity"] as? String == "error")
        #expect(object["code"] as? String == "IST0106")
        #expect(object["resource"] as? String == "VirtualService/nodejs")
        #expect(object["message"] as? String == "unknown field \"wieght\"; did you mean \"weight\"?")
        #expect(object["text"] as? String == diagnostic.description)
    }

    /// `--json`'s summary carries the counts beside the lists, resources counted by kind.
    @Test func summaryEncodesCounts() throws {
        let data = try JSONEncoder().encode(try loadSeed().summary)
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let counts = try #require(object["counts"] as? [String: Any])
        #expect(counts["errors"] as? Int == 0)
        #expect(counts["warnings"] as? Int == 0)
        #expect(counts["resources"] as? Int == 8)
        #expect(counts["byKind"] as? [String: Int] == ["Gateway": 1, "VirtualService": 1, "DestinationRule": 1,
                                                     "Service": 1, "Deployment": 2, "WorkloadEntry": 2])
        #expect(counts["listeners"] as? Int == 1)
        #expect(counts["routes"] as? Int == 1)
        #expect(counts["clusters"] as? Int == 2)
        #expect(counts["endpoints"] as? Int == 2)
        #expect((object["resources"] as? [[String: Any]])?.map { $0["kind"] as? String } ==
                ["Gateway", "VirtualService", "DestinationRule", "Service", "Deployment", "WorkloadEntry"])
        #expect((object["listeners"] as? [[String: Any]])?.first?["port"] as? Int == 80)
        #expect((object["clusters"] as? [[String: Any]])?.map { $0["subset"] as? String } == ["v1", "v2"])
    }
}
