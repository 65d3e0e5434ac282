/// The report as people read it: a table of versions, then the split's verdict, the errors and the gate.
extension LoadReport {
    /// - Parameter title: the first line (what was run).
    public func text(title: String) -> String {
        var lines = [title]
        lines.append("\(requests) requests in \(Fixed.string(durationSeconds, digits: 2)) s: "
                     + "\(Fixed.string(achievedRate, digits: 1))/s" + (targetRate.map { " (asked \(Fixed.trimmed($0))/s)" } ?? ""))
        var table = [["version", "count", "share", "expected", "deviation", "99% CI", "p50 ms", "p90 ms", "p99 ms", "p99.9 ms", "max ms", "status"]]
        for line in versions {
            table.append([
                line.name, String(line.count), Fixed.string(line.share * 100, digits: 2) + "%",
                line.expected.map { Fixed.string($0 * 100, digits: 2) + "%" } ?? "-",
                line.deviationPoints.map { Fixed.signed($0, digits: 2) + " pp" } ?? "-",
                "[" + Fixed.string(line.ci99.low * 100, digits: 1) + ", " + Fixed.string(line.ci99.high * 100, digits: 1) + "]",
                ms(line.latency.p50), ms(line.latency.p90), ms(line.latency.p99), ms(line.latency.p999), ms(line.latency.max),
                line.statuses.map { "\($0.status)×\($0.count)" }.joined(separator: " "),
            ])
        }
        lines += Self.aligned(table)
        if let verdict = splitVerdict { lines.append(verdict) }
        let kinds = errorsByKind.map { "\($0.kind.name) \($0.count)" }.joined(separator: ", ")
        let rate = requests > 0 ? Double(errors) * 100 / Double(requests) : 0
        lines.append("errors: \(errors) (\(Fixed.string(rate, digits: 2))%): \(kinds), 4xx/5xx answers \(errorAnswers)")
        if gatePassed {
            lines.append("gate: passed")
        } else {
            lines.append("gate: FAILED")
            lines += gateFailures.map { "  " + $0 }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Says whether the split is right on average (chi-square) and whether it is exact per window, which tells a
    /// deterministic split (smooth weighted round-robin) from a random one that is merely right on average.
    var splitVerdict: String? {
        guard let windows, let pValue else { return nil }
        let fit = pValue >= 0.01 ? "consistent with the expected split" : "NOT consistent with the expected split"
        var text = "split: chi-square p = \(Fixed.string(pValue, digits: 4)) (\(fit))"
        if windows.checked == 0 {
            text += "; windows of \(windows.size): none complete (fewer answers than a window per connection)"
        } else if windows.maxDeviation == 0 {
            text += "; windows of \(windows.size): exact in all \(windows.checked) (max deviation 0)"
        } else {
            text += "; windows of \(windows.size): not exact per window (max deviation \(windows.maxDeviation) over \(windows.checked))"
        }
        return text
    }

    private func ms(_ value: Double) -> String { Fixed.string(value, digits: 3) }

    /// Left-aligned columns, two spaces apart.
    static func aligned(_ rows: [[String]]) -> [String] {
        var widths = [Int](repeating: 0, count: rows.map(\.count).max() ?? 0)
        for row in rows { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
        return rows.map { row in
            var line = ""
            for (i, cell) in row.enumerated() {
                line += cell
                if i < row.count - 1 { line += String(repeating: " ", count: widths[i] - cell.count + 2) }
            }
            return line
        }
    }
}
