import Foundation

/// Endpoint addresses Kanaria can connect to without resolving names.
enum EndpointAddress {
    /// The IP literal to connect to for `text`: an IPv4 or IPv6 literal as is (brackets removed), `localhost` as
    /// 127.0.0.1; nil for anything else (a DNS name, a Unix socket).
    static func literal(_ text: String) -> String? {
        if text == "localhost" { return "127.0.0.1" }
        if isIPv4(text) { return text }
        let unbracketed = text.hasPrefix("[") && text.hasSuffix("]") ? String(text.dropFirst().dropLast()) : text
        return isIPv6(unbracketed) ? unbracketed : nil
    }

    /// Whether `text` is an IPv4 or IPv6 literal.
    static func isIP(_ text: String) -> Bool {
        text != "localhost" && literal(text) != nil
    }

    static func isIPv4(_ text: String) -> Bool {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { part in
            !part.isEmpty && part.count <= 3 && part.allSatisfy(\.isASCIIDigit) && Int(part)! <= 255
        }
    }

    /// Eight groups of up to four hex digits, at most one `::` standing for missing groups, and optionally an
    /// IPv4 literal in place of the last two groups.
    static func isIPv6(_ text: String) -> Bool {
        guard text.contains(":") else { return false }
        let halves = text.components(separatedBy: "::")
        guard halves.count <= 2 else { return false }
        var groups = 0
        for (index, half) in halves.enumerated() where !half.isEmpty {
            let parts = half.split(separator: ":", omittingEmptySubsequences: false)
            for (position, part) in parts.enumerated() {
                let isLast = index == halves.count - 1 && position == parts.count - 1
                if isLast && part.contains(".") {
                    guard isIPv4(String(part)) else { return false }
                    groups += 2
                } else {
                    guard (1...4).contains(part.count), part.allSatisfy(\.isHexDigit) else { return false }
                    groups += 1
                }
            }
        }
        return halves.count == 2 ? groups < 8 : groups == 8
    }
}

private extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}
