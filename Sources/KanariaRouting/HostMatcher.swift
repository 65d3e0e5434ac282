import KanariaHTTP

/// Finds the virtual host for a request's authority as Envoy does: an exact name first, then the longest
/// `*.suffix` wildcard, then `*`. The port of the authority is ignored and letters compare case-insensitively.
public struct HostMatcher: Sendable {
    public let virtualHosts: [VirtualHost]
    private var exact: [(name: [UInt8], host: Int)] = []
    /// Suffix wildcards with their leading `*` removed (".example.com"), longest first.
    private var suffixes: [(suffix: [UInt8], host: Int)] = []
    private var catchAll: Int?

    public init(_ virtualHosts: [VirtualHost]) {
        self.virtualHosts = virtualHosts
        for (index, host) in virtualHosts.enumerated() {
            for domain in host.domains {
                let lower = Array(domain.lowercased().utf8)
                if domain == "*" {
                    if catchAll == nil { catchAll = index }
                } else if lower.first == UInt8(ascii: "*") {
                    suffixes.append((Array(lower.dropFirst()), index))
                } else if !exact.contains(where: { $0.name == lower }) {
                    exact.append((lower, index))
                }
            }
        }
        suffixes.sort { $0.suffix.count > $1.suffix.count }
    }

    /// The index of the virtual host serving `authority`, or nil when none does.
    public func match(_ authority: UnsafeRawBufferPointer) -> Int? {
        if exact.isEmpty && suffixes.isEmpty { return catchAll }
        let host = Self.stripPort(authority)
        for entry in exact where entry.name.count == host.count {
            if StringMatcher.hasPrefix(host, entry.name, ignoreCase: true) { return entry.host }
        }
        for entry in suffixes where entry.suffix.count < host.count {
            let tail = UnsafeRawBufferPointer(rebasing: host[(host.count - entry.suffix.count)...])
            if StringMatcher.hasPrefix(tail, entry.suffix, ignoreCase: true) { return entry.host }
        }
        return catchAll
    }

    /// `host:port` → `host`; `[v6]:port` → `[v6]`.
    static func stripPort(_ authority: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        var i = authority.count - 1
        while i >= 0 {
            let c = authority[i]
            if c == UInt8(ascii: ":") { return UnsafeRawBufferPointer(rebasing: authority[..<i]) }
            if c < UInt8(ascii: "0") || c > UInt8(ascii: "9") { break }
            i -= 1
        }
        return authority
    }
}
