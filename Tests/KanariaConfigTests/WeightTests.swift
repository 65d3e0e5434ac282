import KanariaConfig
import KanariaRouting
import Testing

/// Weights as Istio reads them: share = weight / sum; none negative; several destinations need a positive sum.
@Suite struct WeightTests {
    private func routeWith(weights: [Int?]) -> String {
        let destinations = weights.enumerated().map { index, weight in
            "    - destination:\n        host: nodejs\n        subset: v\(index + 1)\n" + (weight.map { "      weight: \($0)\n" } ?? "")
        }.joined()
        return virtualService("  - route:\n" + destinations)
    }

    private func loadWith(weights: [Int?]) throws -> (LoadedConfiguration, String) {
        let text = istioWith(routeWith(weights: weights)).replacingOccurrences(of: """
              - name: v2
                labels:
                  version: v2
            """, with: """
              - name: v2
                labels:
                  version: v2
              - name: v3
                labels:
                  version: v3
            """)
        let workloads = try configText("workloads.yaml") + """
        ---
        apiVersion: networking.istio.io/v1
        kind: WorkloadEntry
        metadata:
          name: nodejs-v3
        spec:
          address: 127.0.0.1
          ports: {http: 9083}
          labels: {app: nodejs, version: v3}
        """
        return (load(("app.yaml", try configText("node-app.yaml")), ("istio.yaml", text), ("workloads.yaml", workloads)), text)
    }

    /// 1:3 sends one request in four to v1, spread evenly.
    @Test func oneToThree() throws {
        let (config, _) = try loadWith(weights: [1, 3])
        let table = try #require(config.table)
        #expect(subsets(of: 4, in: table) == ["v2", "v1", "v2", "v2"])
        let many = subsets(of: 400, in: table)
        #expect(many.filter { $0 == "v1" }.count == 100)
    }

    /// 33:33:34 over 100 requests gives exactly 33, 33 and 34.
    @Test func thirtyThreeThirtyThreeThirtyFour() throws {
        let (config, _) = try loadWith(weights: [33, 33, 34])
        let table = try #require(config.table)
        let hundred = subsets(of: 100, in: table)
        #expect(["v1", "v2", "v3"].map { name in hundred.filter { $0 == name }.count } == [33, 33, 34])
    }

    /// Weights need not add up to 100: 2:1 is two thirds to v1.
    @Test func weightsAreRelative() throws {
        let (config, _) = try loadWith(weights: [2, 1])
        #expect(printed(config) == [])
        #expect(subsets(of: 3, in: try #require(config.table)) == ["v1", "v2", "v1"])
    }

    /// With several destinations a missing weight is 0: that destination gets nothing.
    @Test func missingWeightAmongSeveralIsZero() throws {
        let (config, _) = try loadWith(weights: [100, nil])
        let table = try #require(config.table)
        #expect(table.routes[0].destinations.map(\.weight) == [100, 0])
        #expect(Set(subsets(of: 10, in: table)) == ["v1"])
    }

    /// One destination takes all traffic without a weight.
    @Test func singleDestinationNeedsNoWeight() throws {
        let (config, _) = try loadWith(weights: [nil])
        #expect(printed(config) == [])
        #expect(config.table?.routes[0].destinations.map(\.weight) == [100])
    }

    /// A negative weight is a schema error on its line.
    @Test func negativeWeight() throws {
        let (config, text) = try loadWith(weights: [120, -20])
        #expect(printed(config) == [
            "istio.yaml:\(line(of: "weight: -20", in: text)): VirtualService/nodejs: weight -20 is negative [IST0106]",
        ])
    }

    /// Istio's weights are int32: larger ones are a schema error, not an overflow while adding them up.
    @Test func weightBeyondInt32() throws {
        let (config, text) = try loadWith(weights: [Int.max, Int.max])
        let line = line(of: "weight: \(Int.max)", in: text)
        #expect(printed(config) == [
            "istio.yaml:\(line): VirtualService/nodejs: weight \(Int.max) is larger than 2147483647, the largest Istio accepts [IST0106]",
            "istio.yaml:\(line + 4): VirtualService/nodejs: weight \(Int.max) is larger than 2147483647, the largest Istio accepts [IST0106]",
        ])
    }

    /// Several destinations whose weights add up to 0 can take no request.
    @Test func totalWeightZero() throws {
        let (config, text) = try loadWith(weights: [0, 0])
        #expect(printed(config) == [
            "istio.yaml:\(line(of: "- route:", in: text)): VirtualService/nodejs: the weights of http[0]'s 2 destinations add up to 0; at least one must be positive [IST0106]",
        ])
        #expect(config.table == nil)
    }
}
