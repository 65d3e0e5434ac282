import Foundation
import KanariaTelemetry
import Testing
@testable import KanariaAdmin

/// The dashboard chart's history, stepped with a manual clock over a real metric registry.
@Suite struct SplitHistoryTests {
    static let second: UInt64 = 1_000_000_000
    let registry = TelemetryRegistry(workers: 1)
    let v1: Int32
    let v2: Int32

    init() {
        v1 = registry.destinationID(for: DestinationLabels(
            serviceHost: "nodejs.default.svc.cluster.local", serviceName: "nodejs", serviceNamespace: "default",
            workload: "nodejs-v1", workloadNamespace: "default", labels: ["app": "nodejs", "version": "v1"]))
        v2 = registry.destinationID(for: DestinationLabels(
            serviceHost: "nodejs.default.svc.cluster.local", serviceName: "nodejs", serviceNamespace: "default",
            workload: "nodejs-v2", workloadNamespace: "default", labels: ["app": "nodejs", "version": "v2"]))
    }

    func send(_ count: Int, to destination: Int32, code: Int = 200) {
        for _ in 0..<count {
            registry.shard(forWorker: 0).recordRequest(destination: destination, protocol: .http, responseCode: code,
                                                       grpcStatus: -1, flags: [], durationMicroseconds: 1000,
                                                       requestBytes: 100, responseBytes: 100)
        }
    }

    func key(_ version: String) -> VersionKey { VersionKey(service: "nodejs.default.svc.cluster.local", version: version) }

    /// The first poll only takes the counts a step starts from: what was sent before the page opened is no step.
    @Test func firstPollOnlyTakesTheBase() {
        var history = SplitHistory()
        send(5, to: v1)
        history.record(registry.snapshot(), at: 0)
        #expect(history.steps.isEmpty)
    }

    /// A step counts, per version, the requests and the 5xx answers between two polls.
    @Test func stepCountsRequestsAndErrorsPerVersion() {
        var history = SplitHistory()
        history.record(registry.snapshot(), at: 0)
        send(8, to: v1)
        send(1, to: v2)
        send(1, to: v2, code: 503)
        history.record(registry.snapshot(), at: Self.second)
        #expect(history.steps.count == 1)
        #expect(history.steps[0].seconds == 1.0)
        #expect(history.steps[0].requests == [key("v1"): 8, key("v2"): 2])
        #expect(history.steps[0].errors == [key("v2"): 1])
    }

    /// Polls less than a second apart extend the step; polls at 0, 1.0, 2.1 and 9.0 s give steps of 1.0, 1.1
    /// and 6.9 s (the last one spans a pause).
    @Test func stepsLastAtLeastASecond() {
        var history = SplitHistory()
        for time: UInt64 in [0, 500_000_000, 1_000_000_000, 2_100_000_000, 2_600_000_000, 9_000_000_000] {
            send(1, to: v1)
            history.record(registry.snapshot(), at: time)
        }
        #expect(history.steps.map(\.seconds) == [1.0, 1.1, 6.9])
        #expect(history.steps.map { $0.requests[key("v1")] } == [2, 1, 2])
    }

    /// Steps that ended more than five minutes ago are dropped: polled every second for 400 s, 301 remain.
    @Test func keepsFiveMinutes() {
        var history = SplitHistory()
        for second in 0...400 {
            send(1, to: v1)
            history.record(registry.snapshot(), at: UInt64(second) * Self.second)
        }
        #expect(history.steps.count == 301)
        #expect(history.steps.first?.end == 100 * Self.second)
    }

    /// The JSON lists the versions once, and each step's counts in that order, with its age.
    @Test func jsonAlignsCountsWithVersions() throws {
        var history = SplitHistory()
        history.record(registry.snapshot(), at: 0)
        send(3, to: v2, code: 503)
        history.record(registry.snapshot(), at: Self.second)
        send(4, to: v1)
        history.record(registry.snapshot(), at: 2 * Self.second)
        var json = JSONWriter()
        history.json(now: 3 * Self.second, &json)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.text.utf8)) as? [String: Any])
        let versions = try #require(object["versions"] as? [[String: String]])
        #expect(versions.map { $0["version"] } == ["v1", "v2"])
        let steps = try #require(object["steps"] as? [[String: Any]])
        #expect(steps.map { $0["age"] as? Double } == [2.0, 1.0])
        #expect(steps.map { $0["requests"] as? [Int] } == [[0, 3], [4, 0]])
        #expect(steps.map { $0["errors"] as? [Int] } == [[0, 3], [0, 0]])
    }
}
