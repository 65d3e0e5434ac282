/// The request methods a route can match on (Istio's `method` StringMatch compares the method's name), with the
/// ones whose semantics the proxy must know (HEAD has no response body; CONNECT is not proxied).
public enum HTTPMethod: UInt8, Sendable, CaseIterable {
    case get, head, post, put, delete, connect, options, trace, patch
    /// A syntactically valid method the proxy has no special knowledge of; its name is in the head's `methodSpan`.
    case other

    /// The method's name as it appears on the wire (uppercase); empty for `.other`.
    public var name: StaticString {
        switch self {
        case .get: "GET"
        case .head: "HEAD"
        case .post: "POST"
        case .put: "PUT"
        case .delete: "DELETE"
        case .connect: "CONNECT"
        case .options: "OPTIONS"
        case .trace: "TRACE"
        case .patch: "PATCH"
        case .other: ""
        }
    }

    /// Recognises a method token (case-sensitive, as RFC 9110 §9.1 requires).
    @inlinable public init(token: UnsafeRawBufferPointer) {
        self = .other
        switch token.count {
        case 3:
            if token[0] == 0x47, token[1] == 0x45, token[2] == 0x54 { self = .get }  // GET
            else if token[0] == 0x50, token[1] == 0x55, token[2] == 0x54 { self = .put }  // PUT
        case 4:
            if Self.matches(token, "HEAD") { self = .head } else if Self.matches(token, "POST") { self = .post }
        case 5:
            if Self.matches(token, "PATCH") { self = .patch } else if Self.matches(token, "TRACE") { self = .trace }
        case 6:
            if Self.matches(token, "DELETE") { self = .delete }
        case 7:
            if Self.matches(token, "OPTIONS") { self = .options } else if Self.matches(token, "CONNECT") { self = .connect }
        default:
            break
        }
    }

    @usableFromInline static func matches(_ token: UnsafeRawBufferPointer, _ name: StaticString) -> Bool {
        let p = name.utf8Start
        for i in 0..<token.count where token[i] != p[i] { return false }
        return true
    }
}
