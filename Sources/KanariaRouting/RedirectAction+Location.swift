import KanariaHTTP

extension RedirectAction {
    /// Appends the `Location` of the redirect for a request to `output`: `scheme://host[:port]path`, as Envoy's
    /// redirect action builds it with the fields Istio sets.
    ///
    /// - scheme: `scheme`, else the request's (`requestScheme`, `http` or `https` from the listener).
    /// - port: `port: N` or `FROM_REQUEST_PORT` (`listenerPort`) set one, except that Istio drops 80 for `http`
    ///   and 443 for `https` (the redirect's scheme, else the listener's, `listenerIsTLS`).
    /// - host: `authority` as written; else the request's authority, without its port when a port is set, or
    ///   when the scheme changes and the port is the request scheme's default (`:80` for http, `:443` for https).
    /// - path: `uri` replaces the path; the request's query is kept unless `uri` has its own (`?`). No `uri`
    ///   keeps path and query.
    ///
    /// For `GET /old?x=1` with `Host: shop.example:8080`: `uri: /new` gives `http://shop.example:8080/new?x=1`;
    /// `scheme: https, port: 8443` gives `https://shop.example:8443/old?x=1`.
    public func location(requestScheme: UnsafeRawBufferPointer, authority requestAuthority: UnsafeRawBufferPointer,
                         path requestPath: UnsafeRawBufferPointer, listenerPort: Int, listenerIsTLS: Bool,
                         into output: inout ByteBuffer) {
        let newPort = portNumber(listenerPort: listenerPort, listenerIsTLS: listenerIsTLS)
        withScheme(requestScheme) { scheme in
            output.append(scheme)
            output.append("://")
            if let authority {
                authority.withUnsafeBytes { output.append($0) }
            } else {
                output.append(Self.host(requestAuthority, requestScheme: requestScheme, newScheme: scheme,
                                        stripPort: newPort != nil))
            }
        }
        if let newPort {
            output.append(byte: UInt8(ascii: ":"))
            output.append(decimal: newPort)
        }
        guard let uri else { return output.append(requestPath) }
        uri.withUnsafeBytes { output.append($0) }
        if uri.contains(UInt8(ascii: "?")) { return }
        if let query = requestPath.firstIndex(of: UInt8(ascii: "?")) {
            output.append(UnsafeRawBufferPointer(rebasing: requestPath[query...]))
        }
    }

    /// The explicit port of the new URL, nil for none (Istio's normalisation of 80/http and 443/https included).
    func portNumber(listenerPort: Int, listenerIsTLS: Bool) -> Int? {
        let number: Int
        switch port {
        case .protocolDefault: return nil
        case .fromRequestPort: number = listenerPort
        case .number(let n): number = n
        }
        let isHTTP = scheme.map { $0.elementsEqual("http".utf8) } ?? !listenerIsTLS
        let isHTTPS = scheme.map { $0.elementsEqual("https".utf8) } ?? listenerIsTLS
        if (number == 80 && isHTTP) || (number == 443 && isHTTPS) { return nil }
        return number
    }

    private func withScheme<R>(_ requestScheme: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        guard let scheme else { return body(requestScheme) }
        return scheme.withUnsafeBytes(body)
    }

    /// The request's authority without its port when `stripPort`, or when the scheme changes and the port is the
    /// request scheme's default (Envoy's `processRequestHost`).
    static func host(_ authority: UnsafeRawBufferPointer, requestScheme: UnsafeRawBufferPointer,
                     newScheme: UnsafeRawBufferPointer, stripPort: Bool) -> UnsafeRawBufferPointer {
        guard let colon = portColon(authority) else { return authority }
        let port = UnsafeRawBufferPointer(rebasing: authority[colon...])
        var remove = stripPort
        if !newScheme.elementsEqual(requestScheme) {
            remove = remove || (requestScheme.elementsEqual("https".utf8) && port.elementsEqual(":443".utf8))
            remove = remove || (requestScheme.elementsEqual("http".utf8) && port.elementsEqual(":80".utf8))
        }
        return remove ? UnsafeRawBufferPointer(rebasing: authority[..<colon]) : authority
    }

    /// The index of the `:` before the port of `authority` (`[::1]:8080` included), nil without a port.
    static func portColon(_ authority: UnsafeRawBufferPointer) -> Int? {
        guard let last = authority.lastIndex(of: UInt8(ascii: ":")) else { return nil }
        if authority.first == UInt8(ascii: "[") {
            return last > 0 && authority[last - 1] == UInt8(ascii: "]") ? last : nil
        }
        return last
    }
}
