import Testing
@testable import KanariaLoad

@Suite struct SplitStatisticsTests {
    /// The 99% Wilson interval of 200 answers in 1000 is [16.94%, 23.45%].
    @Test func wilsonIntervalOfTwentyPercentOverAThousand() {
        let (low, high) = SplitStatistics.wilsonInterval(successes: 200, trials: 1000)
        #expect(abs(low - 0.169443) < 1e-6)
        #expect(abs(high - 0.234512) < 1e-6)
    }

    /// No answer of a version still gives an interval above zero, and never below 0 or above 1.
    @Test func wilsonIntervalStaysWithinZeroAndOne() {
        let none = SplitStatistics.wilsonInterval(successes: 0, trials: 1000)
        #expect(none.low == 0)
        #expect(abs(none.high - 0.006589) < 1e-5)
        let all = SplitStatistics.wilsonInterval(successes: 1000, trials: 1000)
        #expect(abs(all.high - 1) < 1e-12 && abs(all.low - 0.993411) < 1e-5)
        #expect(SplitStatistics.wilsonInterval(successes: 0, trials: 0) == (0, 1))
    }

    /// An exact 800/200 against 80/20 has statistic 0 and p-value 1.
    @Test func exactSplitHasPValueOne() {
        let statistic = SplitStatistics.chiSquare(observed: [800, 200], expectedShares: [0.8, 0.2])
        #expect(statistic == 0)
        #expect(SplitStatistics.pValue(chiSquare: statistic, degreesOfFreedom: 1) == 1)
    }

    /// 780/220 against 80/20: statistic 2.5, p = erfc(√1.25) = 0.11385 (one degree of freedom).
    @Test func pValueOfOneDegreeOfFreedomMatchesErfc() {
        let statistic = SplitStatistics.chiSquare(observed: [780, 220], expectedShares: [0.8, 0.2])
        #expect(abs(statistic - 2.5) < 1e-12)
        #expect(abs(SplitStatistics.pValue(chiSquare: statistic, degreesOfFreedom: 1) - 0.113846298) < 1e-8)
    }

    /// 700/300 against 80/20 is far off: p = 2.66e-15, through the continued fraction.
    @Test func pValueOfAFarOffSplitIsTiny() {
        let statistic = SplitStatistics.chiSquare(observed: [700, 300], expectedShares: [0.8, 0.2])
        let p = SplitStatistics.pValue(chiSquare: statistic, degreesOfFreedom: 1)
        #expect(abs(p - 2.66444638923592e-15) / 2.66444638923592e-15 < 1e-6)
    }

    /// With two and three degrees of freedom the textbook 5% critical values give p = 0.05.
    @Test func criticalValuesGiveFivePercent() {
        #expect(abs(SplitStatistics.pValue(chiSquare: 5.99, degreesOfFreedom: 2) - 0.050036627) < 1e-8)
        #expect(abs(SplitStatistics.pValue(chiSquare: 7.815, degreesOfFreedom: 3) - 0.049993903) < 1e-8)
    }

    /// Answers of a version that was expected never make the fit impossible: p = 0.
    @Test func unexpectedVersionGivesPValueZero() {
        let statistic = SplitStatistics.chiSquare(observed: [0, 800, 200, 1], expectedShares: [0, 0.8, 0.2, 0])
        #expect(statistic == .infinity)
        #expect(SplitStatistics.pValue(chiSquare: statistic, degreesOfFreedom: 1) == 0)
    }
}
