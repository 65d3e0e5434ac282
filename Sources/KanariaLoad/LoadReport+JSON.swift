import KanariaJSON

/// The report as one JSON object, for CI:
/// `{"requests", "errors", "errors_by_kind", "duration_s", "rate": {"target", "achieved"}, "versions": {NAME: {"count",
/// "share", "expected", "deviation_pp", "ci99": [lo, hi], "latency_ms": {"p50", "p90", "p99", "p99_9", "max"},
/// "status": {CODE: n}}}, "windows": {"size", "max_deviation", "checked"}, "p_value", "gate": {"passed", "failures"}}`.
/// Shares are fractions (0.8), deviations percentage points; absent values are `null`.
extension LoadReport {
    public var json: String {
        var out = "{"
        out += "\"requests\":\(requests),\"errors\":\(errors),\"errors_by_kind\":{"
        out += (errorsByKind.map { "\"\($0.kind.name)\":\($0.count)" } + ["\"http\":\(errorAnswers)"]).joined(separator: ",")
        out += "},\"duration_s\":\(Self.number(durationSeconds, digits: 3))"
        out += ",\"rate\":{\"target\":\(targetRate.map { Self.number($0, digits: 3) } ?? "null"),\"achieved\":\(Self.number(achievedRate, digits: 3))}"
        out += ",\"versions\":{"
        out += versions.map { line in
            var item = "\(Self.string(line.name)):{\"count\":\(line.count),\"share\":\(Self.number(line.share, digits: 6))"
            item += ",\"expected\":\(line.expected.map { Self.number($0, digits: 6) } ?? "null")"
            item += ",\"deviation_pp\":\(line.deviationPoints.map { Self.number($0, digits: 4) } ?? "null")"
            item += ",\"ci99\":[\(Self.number(line.ci99.low, digits: 6)),\(Self.number(line.ci99.high, digits: 6))]"
            let l = line.latency
            item += ",\"latency_ms\":{\"p50\":\(Self.number(l.p50, digits: 3)),\"p90\":\(Self.number(l.p90, digits: 3))"
            item += ",\"p99\":\(Self.number(l.p99, digits: 3)),\"p99_9\":\(Self.number(l.p999, digits: 3)),\"max\":\(Self.number(l.max, digits: 3))}"
            item += ",\"status\":{" + line.statuses.map { "\"\($0.status)\":\($0.count)" }.joined(separator: ",") + "}}"
            return item
        }.joined(separator: ",")
        out += "},\"windows\":"
        if let windows {
            out += "{\"size\":\(windows.size),\"max_deviation\":\(windows.maxDeviation),\"checked\":\(windows.checked)}"
        } else {
            out += "null"
        }
        out += ",\"p_value\":\(pValue.map { Self.number($0, digits: 6) } ?? "null")"
        out += ",\"gate\":{\"passed\":\(gatePassed),\"failures\":[" + gateFailures.map(Self.string).joined(separator: ",") + "]}}"
        return out
    }

    /// A JSON number with at most `digits` decimals (trailing zeros dropped); non-finite values become null.
    static func number(_ value: Double, digits: Int) -> String {
        guard value.isFinite else { return "null" }
        var text = Fixed.string(value, digits: digits)
        if text.contains(".") {
            while text.hasSuffix("0") { text.removeLast() }
            if text.hasSuffix(".") { text.removeLast() }
        }
        return text == "-0" ? "0" : text
    }

    /// A JSON string literal.
    static func string(_ text: String) -> String {
        var out = ""
        appendJSONString(text, to: &out)
        return out
    }
}
