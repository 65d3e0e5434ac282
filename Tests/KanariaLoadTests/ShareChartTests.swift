import Testing
@testable import KanariaLoad

@Suite struct ShareChartTests {
    private func sample(_ elapsed: Double, _ v1: Int, _ v2: Int) -> ProgressSampler.Sample {
        var snapshot = ProgressBoard.Snapshot()
        snapshot.answers = ["v1": v1, "v2": v2]
        return ProgressSampler.Sample(elapsed: elapsed, snapshot: snapshot)
    }

    /// Shares are per interval, not cumulative: 80/20 in the first second, 50/50 in the next.
    @Test func sharesArePerInterval() throws {
        let chart = ShareChart(samples: [sample(0, 0, 0), sample(1, 80, 20), sample(2, 130, 70)],
                               expected: try ExpectedSplit(parsing: "v1=80,v2=20"))
        let intervals = chart.intervals
        #expect(intervals.map(\.end) == [1, 2])
        #expect(intervals[0].shares == ["v1": 0.8, "v2": 0.2])
        #expect(intervals[1].shares == ["v1": 0.5, "v2": 0.5])
    }

    /// Long runs are cut into at most 60 intervals of whole ticks.
    @Test func longRunsAreMergedIntoSixtyIntervals() {
        let samples = (0...600).map { sample(Double($0) / 10, $0 * 4, $0) }
        let intervals = ShareChart(samples: samples, expected: nil).intervals
        #expect(intervals.count == 60)
        #expect(intervals.allSatisfy { $0.shares["v1"] == 0.8 })
    }

    /// The SVG has a line per version and a dashed expected line per expected version, and escapes names.
    @Test func svgDrawsObservedAgainstExpected() throws {
        var odd = ProgressBoard.Snapshot()
        odd.answers = ["v1": 8, "v2": 2, "<b>": 1]
        let chart = ShareChart(samples: [sample(0, 0, 0), ProgressSampler.Sample(elapsed: 1, snapshot: odd)],
                               expected: try ExpectedSplit(parsing: "v1=80,v2=20"))
        let svg = chart.svg
        #expect(svg.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\""))
        #expect(svg.hasSuffix("</svg>\n"))
        #expect(svg.ranges(of: "class=\"observed\"").count == 3)
        #expect(svg.ranges(of: "class=\"expected\"").count == 2)
        #expect(svg.contains("data-version=\"&lt;b&gt;\""))
        #expect(!svg.contains("<b>"))
    }
}
