#if canImport(Glibc)
import Glibc
#endif

/// The statistics of an observed split, without Foundation: Wilson score intervals for each share and Pearson's
/// chi-square goodness-of-fit test against the expected shares.
public enum SplitStatistics {
    /// z for a two-sided 99% interval (the normal distribution's 99.5th percentile).
    public static let z99 = 2.5758293035489004

    /// The Wilson score interval of a share: `successes` of `trials`, at confidence `z`.
    ///
    /// 200 of 1000 at 99% gives [0.1694, 0.2345]; 0 of 1000 gives [0, 0.0066] (never below 0 or above 1, unlike
    /// the normal approximation). 0 trials gives [0, 1].
    public static func wilsonInterval(successes: Int, trials: Int, z: Double = z99) -> (low: Double, high: Double) {
        guard trials > 0 else { return (0, 1) }
        let n = Double(trials)
        let p = Double(successes) / n
        let z2 = z * z
        let centre = p + z2 / (2 * n)
        let spread = z * (p * (1 - p) / n + z2 / (4 * n * n)).squareRoot()
        let denominator = 1 + z2 / n
        return (max(0, (centre - spread) / denominator), min(1, (centre + spread) / denominator))
    }

    /// Pearson's chi-square statistic: Σ (observed − expected)² / expected over the categories with an expected
    /// count above 0. A category expected never but observed makes the statistic infinite.
    public static func chiSquare(observed: [Int], expectedShares: [Double]) -> Double {
        let total = Double(observed.reduce(0, +))
        var statistic = 0.0
        for (count, share) in zip(observed, expectedShares) {
            let expected = share * total
            if expected > 0 {
                let difference = Double(count) - expected
                statistic += difference * difference / expected
            } else if count > 0 {
                return .infinity
            }
        }
        return statistic
    }

    /// The goodness-of-fit p-value: the chance of a statistic at least this large if the answers were drawn at
    /// random with the expected shares. `degreesOfFreedom` is the number of categories less one.
    ///
    /// 80/20 expected, 800/200 observed: statistic 0, p = 1. 780/220: statistic 2.5, p = 0.114. 700/300: statistic 62.5, p = 2.7e-15.
    public static func pValue(chiSquare statistic: Double, degreesOfFreedom: Int) -> Double {
        guard degreesOfFreedom > 0 else { return 1 }
        guard statistic.isFinite else { return 0 }
        return regularizedGammaQ(Double(degreesOfFreedom) / 2, statistic / 2)
    }

    /// Q(a, x) = Γ(a, x) / Γ(a), the regularized upper incomplete gamma function (Numerical Recipes' method: the
    /// series for x < a + 1, the continued fraction, by Lentz's method, above). Accurate to about 1e-14.
    public static func regularizedGammaQ(_ a: Double, _ x: Double) -> Double {
        guard x > 0 else { return 1 }
        if x < a + 1 { return 1 - lowerSeries(a, x) }
        return upperContinuedFraction(a, x)
    }

    /// P(a, x) by its power series.
    private static func lowerSeries(_ a: Double, _ x: Double) -> Double {
        var term = 1 / a
        var sum = term
        var n = a
        for _ in 0..<10_000 {
            n += 1
            term *= x / n
            sum += term
            if abs(term) < abs(sum) * 1e-16 { break }
        }
        return sum * exp(-x + a * log(x) - lgamma(a))
    }

    /// Q(a, x) by its continued fraction.
    private static func upperContinuedFraction(_ a: Double, _ x: Double) -> Double {
        let tiny = 1e-300
        var b = x + 1 - a
        var c = 1 / tiny
        var d = 1 / b
        var h = d
        for i in 1...10_000 {
            let an = -Double(i) * (Double(i) - a)
            b += 2
            d = an * d + b
            if abs(d) < tiny { d = tiny }
            c = b + an / c
            if abs(c) < tiny { c = tiny }
            d = 1 / d
            let delta = d * c
            h *= delta
            if abs(delta - 1) < 1e-16 { break }
        }
        return exp(-x + a * log(x) - lgamma(a)) * h
    }
}
