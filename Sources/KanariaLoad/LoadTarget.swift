/// Where the load goes, from the URL on the command line: `http://127.0.0.1:8080/sharks?x=1`. The host is an IP
/// literal or a name (resolved once, at the start); the port defaults to 80 (http) or 443 (https).
public struct LoadTarget: Sendable, Equatable {
    public enum Scheme: String, Sendable { case http, https }

    public var scheme: Scheme
    /// The host as written (for Host, :authority and SNI).
    public var host: String
    public var port: Int
    /// Path and query, `/` when the URL has none.
    public var path: String

    public init(scheme: Scheme, host: String, port: Int, path: String) {
        self.scheme = scheme
        self.host = host
        self.port = port
        self.path = path
    }

    public init(parsing url: String) throws(UsageError) {
        let parts = url.split(separator: "://", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, let scheme = Scheme(rawValue: parts[0].lowercased()) else {
            throw UsageError("\(url): expected a URL such as http://127.0.0.1:8080/ (http or https)")
        }
        let rest = parts[1]
        let slash = rest.firstIndex { $0 == "/" || $0 == "?" } ?? rest.endIndex
        let authority = rest[..<slash]
        var path = String(rest[slash...])
        if path.isEmpty { path = "/" } else if path.hasPrefix("?") { path = "/" + path }
        var host = String(authority)
        var port = scheme == .http ? 80 : 443
        if let colon = authority.lastIndex(of: ":"), !authority.hasSuffix("]") {
            guard let parsed = Int(authority[authority.index(after: colon)...]), (1...65535).contains(parsed) else {
                throw UsageError("\(url): the port is not a number from 1 to 65535")
            }
            port = parsed
            host = String(authority[..<colon])
        }
        guard !host.isEmpty else { throw UsageError("\(url): the URL has no host") }
        self.init(scheme: scheme, host: host, port: port, path: path)
    }

    /// The Host header / :authority: the host, with the port unless it is the scheme's default.
    public var authority: String {
        let defaultPort = scheme == .http ? 80 : 443
        return port == defaultPort ? host : "\(host):\(port)"
    }
}
