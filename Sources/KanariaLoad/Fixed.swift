/// Decimal formatting without Foundation: fixed digits after the point, rounded half away from zero.
enum Fixed {
    /// 0.12345 with 2 digits: "0.12"; -3.5 with 0: "-4"; 1e-7 with 3: "0.000".
    static func string(_ value: Double, digits: Int) -> String {
        guard value.isFinite else { return value.isNaN ? "nan" : (value > 0 ? "inf" : "-inf") }
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let scaled = (abs(value) * scale).rounded(.toNearestOrAwayFromZero)
        guard scaled < 9e18 else { return String(value) }
        let units = UInt64(scaled)
        let whole = units / UInt64(scale)
        var text = (value < 0 && units > 0 ? "-" : "") + String(whole)
        if digits > 0 {
            let fraction = String(units % UInt64(scale))
            text += "." + String(repeating: "0", count: digits - fraction.count) + fraction
        }
        return text
    }

    /// With a sign always: "+0.40", "-10.00".
    static func signed(_ value: Double, digits: Int) -> String {
        let text = string(value, digits: digits)
        return text.hasPrefix("-") ? text : "+" + text
    }

    /// A share as a percentage with one decimal: 0.8 → "80.0%".
    static func percent(_ share: Double) -> String { string(share * 100, digits: 1) + "%" }

    /// Without trailing zeros: 1.0 → "1", 0.25 → "0.25".
    static func trimmed(_ value: Double) -> String {
        var text = string(value, digits: 6)
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        return text
    }
}
