import Testing
@testable import KanariaLoad

@Suite struct LoadReportTests {
    private func tally(_ sequence: [String], status: Int = 200, expected: ExpectedSplit?) -> LoadTally {
        var tally = LoadTally(expected: expected, lanes: 1)
        for name in sequence {
            let version = Array(name.utf8).withUnsafeBytes { tally.version(of: $0) }
            tally.recordAnswer(version: version, status: status, latencyMicroseconds: 1500, lane: 0)
        }
        return tally
    }

    private func eightyTwenty(_ cycles: Int) -> [String] {
        Array([[String]](repeating: ["v1", "v1", "v2", "v1", "v1"], count: cycles).joined())
    }

    /// 800/200 in round-robin order against 80/20: no deviation, p = 1, exact windows, the gate passes.
    @Test func exactSplitPassesEveryGate() throws {
        let expected = try ExpectedSplit(parsing: "v1=80,v2=20")
        let report = LoadReport(tally: tally(eightyTwenty(200), expected: expected), expected: expected,
                                limits: GateLimits(maxDeviationPoints: 1, maxErrorRatePercent: 0), durationSeconds: 2, targetRate: nil)
        #expect(report.requests == 1000 && report.errors == 0 && report.achievedRate == 500)
        #expect(report.versions.map(\.name) == ["v1", "v2"])
        #expect(report.versions.map(\.count) == [800, 200])
        #expect(report.versions[0].deviationPoints == 0)
        #expect(report.pValue == 1)
        #expect(report.windows == LoadReport.Windows(size: 5, maxDeviation: 0, checked: 996))
        #expect(report.versions[0].latency.p50 == 1.5)
        #expect(report.gatePassed)
    }

    /// 700/300 against an expected 80/20 with --max-deviation 1 fails, naming v1 and v2.
    @Test func deviationGateNamesTheVersion() throws {
        let expected = try ExpectedSplit(parsing: "v1=80,v2=20")
        let sequence = Array([[String]](repeating: ["v1", "v2", "v1", "v2", "v1", "v1", "v1", "v1", "v2", "v1"], count: 100).joined())
        let report = LoadReport(tally: tally(sequence, expected: expected), expected: expected,
                                limits: GateLimits(maxDeviationPoints: 1), durationSeconds: 1, targetRate: nil)
        #expect(!report.gatePassed)
        #expect(report.gateFailures == [
            "v1: observed 70.0%, expected 80.0%, deviation -10.00 pp exceeds --max-deviation 1 pp",
            "v2: observed 30.0%, expected 20.0%, deviation +10.00 pp exceeds --max-deviation 1 pp",
        ])
    }

    /// 5xx answers and transport errors both count against --max-error-rate.
    @Test func errorRateCountsAnswersAndTransportErrors() {
        var tally = tally(["v1", "v1"], expected: nil)
        tally.merge(self.tally(["other"], status: 503, expected: nil))
        tally.recordError(.reset)
        let report = LoadReport(tally: tally, expected: nil, limits: GateLimits(maxErrorRatePercent: 10), durationSeconds: 1, targetRate: nil)
        #expect(report.requests == 4 && report.errors == 2)
        #expect(report.gateFailures == ["error rate 50.00% (2 of 4) exceeds --max-error-rate 10%"])
        #expect(report.windows == nil && report.pValue == nil)
    }

    /// The JSON has every field the contract names, with shares as fractions.
    @Test func jsonHasTheContractsFields() throws {
        let expected = try ExpectedSplit(parsing: "v1=80,v2=20")
        let report = LoadReport(tally: tally(eightyTwenty(2), expected: expected), expected: expected,
                                limits: GateLimits(), durationSeconds: 0.5, targetRate: 100)
        let json = report.json
        #expect(json.hasPrefix("{\"requests\":10,\"errors\":0,"))
        #expect(json.contains("\"duration_s\":0.5,\"rate\":{\"target\":100,\"achieved\":20}"))
        #expect(json.contains("\"v1\":{\"count\":8,\"share\":0.8,\"expected\":0.8,\"deviation_pp\":0,\"ci99\":["))
        #expect(json.contains("\"latency_ms\":{\"p50\":1.5,\"p90\":1.5,\"p99\":1.5,\"p99_9\":1.5,\"max\":1.5},\"status\":{\"200\":8}}"))
        #expect(json.contains("\"windows\":{\"size\":5,\"max_deviation\":0,\"checked\":6},\"p_value\":1"))
        #expect(json.hasSuffix("\"gate\":{\"passed\":true,\"failures\":[]}}"))
    }

    /// Threads' tallies merge by version name, whatever order each saw the versions in.
    @Test func talliesMergeByName() {
        var first = tally(["v2", "v1"], expected: nil)
        first.merge(tally(["v1", "v3"], expected: nil))
        #expect(first.versions.names == ["other", "v2", "v1", "v3"])
        #expect(first.perVersion.map(\.count) == [0, 1, 2, 1])
    }

    /// Decimals are rounded half away from zero without Foundation.
    @Test func fixedDecimals() {
        #expect(Fixed.string(0.125, digits: 2) == "0.13")
        #expect(Fixed.string(-3.5, digits: 0) == "-4")
        #expect(Fixed.string(0.0000001, digits: 3) == "0.000")
        #expect(Fixed.string(12.5, digits: 3) == "12.500")
        #expect(Fixed.trimmed(0.25) == "0.25")
        #expect(LoadReport.string("a\"b\n") == "\"a\\\"b\\n\"")
    }
}
