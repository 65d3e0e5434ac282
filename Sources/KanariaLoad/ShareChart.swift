/// `--chart FILE.svg`: one self-contained SVG of each version's share over time, against its expected share.
///
/// The run is cut into at most `maxIntervals` equal intervals of whole sampling ticks (100 ms); a version's share in
/// an interval is its answers there over all answers there. Each version is a solid line, its expected share a
/// dashed line of the same colour; the y axis is 0–100%, the x axis seconds since the start.
public struct ShareChart {
    public static let maxIntervals = 60
    static let palette = ["#1d7fb8", "#d9480f", "#2b8a3e", "#862e9c", "#e67700", "#495057"]

    public let samples: [ProgressSampler.Sample]
    public let expected: ExpectedSplit?

    public init(samples: [ProgressSampler.Sample], expected: ExpectedSplit?) {
        self.samples = samples
        self.expected = expected
    }

    /// Per interval: its end (seconds) and each version's share (0…1); intervals without answers are left out.
    public var intervals: [(end: Double, shares: [String: Double])] {
        guard samples.count >= 2 else { return [] }
        let step = max(1, (samples.count - 1 + Self.maxIntervals - 1) / Self.maxIntervals)
        var result: [(end: Double, shares: [String: Double])] = []
        var from = 0
        while from < samples.count - 1 {
            let to = min(from + step, samples.count - 1)
            let before = samples[from].snapshot.answers, after = samples[to].snapshot.answers
            var counts: [String: Int] = [:]
            for (name, count) in after { counts[name] = count - (before[name] ?? 0) }
            let total = counts.values.reduce(0, +)
            if total > 0 { result.append((samples[to].elapsed, counts.mapValues { Double($0) / Double(total) })) }
            from = to
        }
        return result
    }

    /// The versions drawn: the expected ones first, then the others by name.
    var versions: [String] {
        var names = expected?.entries.map(\.version) ?? []
        let seen = Set(samples.last?.snapshot.answers.keys.map { $0 } ?? [])
        names += seen.subtracting(names).sorted()
        return names
    }

    public var svg: String {
        let (width, height, left, right, top, bottom) = (720.0, 360.0, 56.0, 120.0, 24.0, 40.0)
        let plotWidth = width - left - right, plotHeight = height - top - bottom
        let points = intervals
        let duration = max(points.last?.end ?? 1, 0.001)
        let x = { (t: Double) in left + t / duration * plotWidth }
        let y = { (share: Double) in top + (1 - share) * plotHeight }
        var out = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" "
        out += "viewBox=\"0 0 \(Int(width)) \(Int(height))\" font-family=\"sans-serif\" font-size=\"12\">\n"
        out += "<title>Shares over time: observed (solid) against expected (dashed)</title>\n"
        out += "<rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>\n"
        for tick in stride(from: 0.0, through: 1.0, by: 0.2) {
            let ty = Fixed.string(y(tick), digits: 1)
            out += "<line x1=\"\(Int(left))\" y1=\"\(ty)\" x2=\"\(Int(left + plotWidth))\" y2=\"\(ty)\" stroke=\"#ddd\"/>"
            out += "<text x=\"\(Int(left - 6))\" y=\"\(ty)\" text-anchor=\"end\" dominant-baseline=\"middle\">\(Int(tick * 100))%</text>\n"
        }
        out += "<text x=\"\(Int(left + plotWidth / 2))\" y=\"\(Int(height - 8))\" text-anchor=\"middle\">seconds (0–\(Fixed.string(duration, digits: 1)))</text>\n"
        for (index, name) in versions.enumerated() {
            let colour = Self.palette[index % Self.palette.count]
            let label = LoadReport.escapedXML(name)
            if let share = expected.map({ $0.share(of: name) }), expected?.entries.contains(where: { $0.version == name }) == true {
                let ey = Fixed.string(y(share), digits: 1)
                out += "<line class=\"expected\" data-version=\"\(label)\" x1=\"\(Int(left))\" y1=\"\(ey)\" x2=\"\(Int(left + plotWidth))\" y2=\"\(ey)\" "
                out += "stroke=\"\(colour)\" stroke-dasharray=\"6 4\" opacity=\"0.7\"/>\n"
            }
            let line = points.map { "\(Fixed.string(x($0.end), digits: 1)),\(Fixed.string(y($0.shares[name] ?? 0), digits: 1))" }
            out += "<polyline class=\"observed\" data-version=\"\(label)\" fill=\"none\" stroke=\"\(colour)\" stroke-width=\"2\" points=\"\(line.joined(separator: " "))\"/>\n"
            let legend = expected?.entries.contains { $0.version == name } == true
                ? "\(label) (expected \(Fixed.percent(expected!.share(of: name))))" : label
            out += "<text x=\"\(Int(left + plotWidth + 10))\" y=\"\(Int(top + 16 + Double(index) * 18))\" fill=\"\(colour)\">\(legend)</text>\n"
        }
        return out + "</svg>\n"
    }
}

extension LoadReport {
    /// Text safe inside XML attributes and elements.
    static func escapedXML(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default: out.append(character)
            }
        }
        return out
    }
}
