/// A share of requests, as Istio's `Percent` (`percentage: {value: 0.1}`), held exactly in millionths of all
/// requests so that fractional percentages count exactly: 100% = 1,000,000, 20% = 200,000, 0.1% = 1,000.
public struct Percentage: Sendable, Equatable, CustomStringConvertible {
    /// Millionths of all requests, 0...1,000,000.
    public let millionths: Int

    public static let all = Percentage(millionths: 1_000_000)
    public static let zero = Percentage(millionths: 0)

    public init(millionths: Int) {
        precondition((0...1_000_000).contains(millionths), "a percentage is between 0 and 100")
        self.millionths = millionths
    }

    /// `percent` (0...100) rounded to the nearest millionth: 12.5 → 125,000; 0.0001 → 1.
    public init(percent: Double) {
        self.init(millionths: Int((percent * 10_000).rounded()))
    }

    /// `20%`, `0.1%`, `33.3333%`.
    public var description: String {
        let whole = millionths / 10_000
        var fraction = millionths % 10_000
        guard fraction > 0 else { return "\(whole)%" }
        var digits = 4
        while fraction % 10 == 0 { fraction /= 10; digits -= 1 }
        let text = String(fraction)
        return "\(whole).\(String(repeating: "0", count: digits - text.count))\(text)%"
    }
}
