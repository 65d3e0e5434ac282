import Foundation
import KanariaRouting
import Yams

/// Reads a DestinationRule's `trafficPolicy` (the top-level one, or a subset's) into a `TrafficPolicyLayer`, with
/// Istio's validation: each problem is reported on the line of its field, and a part with an error is left out
/// (the configuration does not load anyway). The schema check has run first, so types are right here; what is
/// checked is ranges, durations, fields that need each other, and the files `tls` names.
struct TrafficPolicyReader {
    let report: Reporter
    /// The folder of the YAML file, against which relative file paths are resolved.
    let folder: URL

    init(report: Reporter, file: String) {
        self.report = report
        self.folder = URL(fileURLWithPath: file).deletingLastPathComponent()
    }

    /// The policy of `node`, the value of a `trafficPolicy` field on `keyLine`.
    func layer(_ node: Node, keyLine: Int) -> TrafficPolicyLayer {
        let fields = ["loadBalancer", "connectionPool", "outlierDetection", "tls", "portLevelSettings", "tunnel",
                      "proxyProtocol", "retryBudget"]
        if !fields.contains(where: { node.value($0) != nil }) {
            report.error(keyLine, "trafficPolicy must have at least one field", code: IstioCode.schema)
        }
        if node.value("tunnel") != nil && node.value("proxyProtocol") != nil {
            report.error(node.keyLine("proxyProtocol"), "tunnel and proxyProtocol cannot be set together", code: IstioCode.schema)
        }
        var layer = TrafficPolicyLayer(parts: parts(node))
        for (index, entry) in (node.value("portLevelSettings")?.items ?? []).enumerated() {
            guard let number = portNumber(entry, index: index) else { continue }
            if layer.portLevel[number] != nil {
                report.warning(entry.line, "portLevelSettings[\(index)] is for port \(number) again; only the first entry for a port applies")
                continue
            }
            if !["loadBalancer", "connectionPool", "outlierDetection", "tls"].contains(where: { entry.value($0) != nil }) {
                report.error(entry.line, "portLevelSettings[\(index)] must set at least one of loadBalancer, connectionPool, outlierDetection or tls",
                             code: IstioCode.schema)
            }
            layer.portLevel[number] = parts(entry)
        }
        return layer
    }

    /// The four parts of a policy or of a port-level entry.
    private func parts(_ node: Node) -> TrafficPolicyLayer.Parts {
        TrafficPolicyLayer.Parts(loadBalancer: node.value("loadBalancer").flatMap(loadBalancer),
                                 connectionPool: node.value("connectionPool").flatMap(connectionPool),
                                 outlierDetection: node.value("outlierDetection").flatMap(outlierDetection),
                                 tls: node.value("tls").flatMap(upstreamTLS))
    }

    private func portNumber(_ entry: Node, index: Int) -> Int? {
        guard let port = entry.value("port") else {
            report.error(entry.line, "portLevelSettings[\(index)] needs \"port\" with the number of a service port", code: IstioCode.schema)
            return nil
        }
        guard let number = port.value("number")?.integer else {
            report.error(port.line, "portLevelSettings[\(index)].port needs \"number\"", code: IstioCode.schema)
            return nil
        }
        guard (1...65535).contains(number) else {
            report.error(port.value("number")!.line, "port number \(number) is out of range 1-65535", code: IstioCode.schema)
            return nil
        }
        return number
    }

    // MARK: Values

    /// A non-negative int32 field of `node`; nil when absent or reported.
    func count(_ node: Node, _ name: String) -> Int? {
        guard let field = node.value(name), let value = field.integer else { return nil }
        guard value >= 0 else {
            report.error(field.line, "\(name) must not be negative, got \(value)", code: IstioCode.schema)
            return nil
        }
        guard value <= Int(Int32.max) else {
            report.error(field.line, "\(name) \(value) is larger than \(Int32.max), the largest Istio accepts", code: IstioCode.schema)
            return nil
        }
        return value
    }

    /// A percentage field (0 to 100); nil when absent or reported.
    func percent(_ node: Node, _ name: String) -> Int? {
        guard let field = node.value(name), let value = field.integer else { return nil }
        guard (0...100).contains(value) else {
            report.error(field.line, "\(name) must be between 0 and 100, got \(value)", code: IstioCode.schema)
            return nil
        }
        return value
    }

    /// A duration field in milliseconds, as Istio validates durations: at least 1 ms, in whole milliseconds. nil
    /// when absent or reported (a malformed one was reported by the schema check).
    func duration(_ node: Node, _ name: String, allowZero: Bool = false) -> Int64? {
        guard let field = node.value(name), let text = field.text,
              let nanoseconds = GoDuration.nanoseconds(text) else { return nil }
        if allowZero && nanoseconds == 0 { return 0 }
        guard nanoseconds >= 1_000_000 else {
            report.error(field.line, "\(name) \(text) must be at least 1ms", code: IstioCode.schema)
            return nil
        }
        guard nanoseconds % 1_000_000 == 0 else {
            report.error(field.line, "\(name) \(text) is finer than a millisecond; Istio supports durations to ms precision only",
                         code: IstioCode.schema)
            return nil
        }
        return nanoseconds / 1_000_000
    }
}

extension GoDuration {
    /// The duration `text` in nanoseconds (`1.5s` → 1_500_000_000); nil when it is not a valid Go duration, is
    /// negative, or does not fit.
    static func nanoseconds(_ text: String) -> Int64? {
        guard isValid(text), !text.hasPrefix("-") else { return nil }
        var rest = Substring(text.hasPrefix("+") ? String(text.dropFirst()) : text)
        if rest == "0" { return 0 }
        let units: [String: Int64] = ["ns": 1, "us": 1_000, "µs": 1_000, "ms": 1_000_000, "s": 1_000_000_000,
                                      "m": 60_000_000_000, "h": 3_600_000_000_000]
        var total: Int64 = 0
        while !rest.isEmpty {
            let number = rest.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
            rest = rest.dropFirst(number.count)
            let unit = String(rest.prefix { $0.isLetter })
            rest = rest.dropFirst(unit.count)
            guard let scale = units[unit], let part = scaled(number, by: scale) else { return nil }
            let (sum, overflow) = total.addingReportingOverflow(part)
            if overflow { return nil }
            total = sum
        }
        return total
    }

    /// `digits` (with at most one `.`) times `scale`, exactly, dropping what falls below one unit of `scale`.
    private static func scaled(_ digits: Substring, by scale: Int64) -> Int64? {
        let parts = digits.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard let whole = Int64(parts[0].isEmpty ? "0" : parts[0]) else { return nil }
        let (product, overflow) = whole.multipliedReportingOverflow(by: scale)
        if overflow { return nil }
        var fraction: Int64 = 0
        var unit = scale
        for digit in parts.count > 1 ? parts[1] : "" {
            unit /= 10
            fraction += Int64(digit.wholeNumberValue!) * unit
        }
        return product + fraction
    }
}
