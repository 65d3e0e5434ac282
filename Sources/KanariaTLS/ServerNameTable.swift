import COpenSSL

/// The certificates of the TLS servers that share a Gateway port, by host name, for OpenSSL's SNI callback.
///
/// A Gateway may list several servers on port 443, each with its `hosts` and its own certificate: the client's SNI
/// picks one, as Envoy's filter chains match `server_names`. The most specific pattern wins: an exact name, then the
/// longest `*.suffix` wildcard (which, as in Envoy, matches any depth: `*.example.com` covers `a.b.example.com`), then
/// `*`. A client that sends no SNI, or a name no pattern covers, gets the first server's certificate (nginx's default
/// server), so that curl to an IP address still completes a handshake.
struct ServerNameTable {
    /// Exact names, lowercased, and the `SSL_CTX` of their certificate.
    var exact: [(name: String, context: OpaquePointer)] = []
    /// `*.suffix` patterns as their suffix with its dot (".example.com"), longest first.
    var wildcards: [(suffix: String, context: OpaquePointer)] = []
    /// The context for `*`, if a server lists it.
    var any: OpaquePointer?

    mutating func add(host pattern: String, context: OpaquePointer) {
        let pattern = pattern.lowercased()
        if pattern == "*" {
            if any == nil { any = context }
        } else if pattern.hasPrefix("*.") {
            wildcards.append((String(pattern.dropFirst()), context))
            wildcards.sort { $0.suffix.utf8.count > $1.suffix.utf8.count }
        } else if !exact.contains(where: { $0.name == pattern }) {
            exact.append((pattern, context))
        }
    }

    /// The context whose pattern covers `name` best; nil when none does.
    func context(for name: String) -> OpaquePointer? {
        let name = name.lowercased()
        if let match = exact.first(where: { $0.name == name }) { return match.context }
        if let match = wildcards.first(where: { name.hasSuffix($0.suffix) && name.utf8.count > $0.suffix.utf8.count }) {
            return match.context
        }
        return any
    }

    /// OpenSSL's servername callback; `argument` points at a `ServerNameTable`. Switches the connection to the
    /// certificate for its SNI, before the certificate and ALPN are chosen.
    static let select: @convention(c) (OpaquePointer?, UnsafeMutablePointer<Int32>?, UnsafeMutableRawPointer?) -> Int32 = {
        ssl, _, argument in
        guard let ssl, let argument, let name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name) else {
            return SSL_TLSEXT_ERR_OK
        }
        let table = argument.assumingMemoryBound(to: ServerNameTable.self)
        if let context = table.pointee.context(for: String(cString: name)), context != SSL_get_SSL_CTX(ssl) {
            _ = SSL_set_SSL_CTX(ssl, context)
        }
        return SSL_TLSEXT_ERR_OK
    }
}
