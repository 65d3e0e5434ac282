import KanariaHTTP

/// A route that answers with a redirect (Istio's `HTTPRedirect`, as Istio configures Envoy's redirect action).
public struct RedirectAction: Sendable, Equatable {
    /// Where the port of the new URL comes from.
    public enum Port: Sendable, Equatable {
        /// No `port` or `derivePort: FROM_PROTOCOL_DEFAULT`: no port of its own (the request's port is kept
        /// unless it is the default of the request's scheme and the scheme changes, as Envoy does).
        case protocolDefault
        /// `derivePort: FROM_REQUEST_PORT`: the gateway port the request arrived on.
        case fromRequestPort
        /// `port: N`.
        case number(Int)
    }

    /// `uri`: the new path (with a query of its own when it has `?`); nil keeps the request's path.
    public let uri: [UInt8]?
    /// `authority`: the new host (the whole authority); nil keeps the request's.
    public let authority: [UInt8]?
    public let port: Port
    /// `scheme`: the new scheme; nil keeps the request's.
    public let scheme: [UInt8]?
    /// `redirectCode`: 301 (the default), 302, 303, 307 or 308.
    public let code: Int

    public init(uri: String? = nil, authority: String? = nil, port: Port = .protocolDefault, scheme: String? = nil,
                code: Int = 301) {
        self.uri = uri.flatMap { $0.isEmpty ? nil : Array($0.utf8) }
        self.authority = authority.flatMap { $0.isEmpty ? nil : Array($0.utf8) }
        self.port = port
        self.scheme = scheme.flatMap { $0.isEmpty ? nil : Array($0.utf8) }
        self.code = code
    }
}
