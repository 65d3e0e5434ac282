/// Header fields the proxy acts on, recognised once while parsing so that forwarding never compares names again.
///
/// The hop-by-hop set is RFC 9110 §7.6.1's plus the de-facto `keep-alive` and `proxy-connection`, the same set
/// Envoy strips before forwarding.
public enum HeaderKind: UInt8, Sendable {
    case other
    case host
    case contentLength
    case transferEncoding
    case connection
    case keepAlive
    case proxyConnection
    case te
    case upgrade
    case trailer
    case expect
    case xForwardedFor
    case xForwardedProto
    case xRequestId

    /// True for fields that describe one connection and must not be forwarded as they are.
    @inlinable public var isHopByHop: Bool {
        switch self {
        case .connection, .keepAlive, .proxyConnection, .te, .upgrade, .transferEncoding: true
        default: false
        }
    }

    /// Classifies a field name, case-insensitively.
    public init(name: UnsafeRawBufferPointer) {
        switch name.count {
        case 2: self = HTTPBytes.equalsIgnoringCase(name, "te") ? .te : .other
        case 4: self = HTTPBytes.equalsIgnoringCase(name, "host") ? .host : .other
        case 6: self = HTTPBytes.equalsIgnoringCase(name, "expect") ? .expect : .other
        case 7:
            if HTTPBytes.equalsIgnoringCase(name, "upgrade") { self = .upgrade }
            else if HTTPBytes.equalsIgnoringCase(name, "trailer") { self = .trailer }
            else { self = .other }
        case 10:
            if HTTPBytes.equalsIgnoringCase(name, "connection") { self = .connection }
            else if HTTPBytes.equalsIgnoringCase(name, "keep-alive") { self = .keepAlive }
            else { self = .other }
        case 12: self = HTTPBytes.equalsIgnoringCase(name, "x-request-id") ? .xRequestId : .other
        case 14: self = HTTPBytes.equalsIgnoringCase(name, "content-length") ? .contentLength : .other
        case 15: self = HTTPBytes.equalsIgnoringCase(name, "x-forwarded-for") ? .xForwardedFor : .other
        case 16: self = HTTPBytes.equalsIgnoringCase(name, "proxy-connection") ? .proxyConnection : .other
        case 17:
            if HTTPBytes.equalsIgnoringCase(name, "transfer-encoding") { self = .transferEncoding }
            else if HTTPBytes.equalsIgnoringCase(name, "x-forwarded-proto") { self = .xForwardedProto }
            else { self = .other }
        default: self = .other
        }
    }
}

/// One header field of a parsed head: where its name and value are, and what it is.
public struct HeaderField: Sendable, Equatable {
    public var name: ByteSpan
    /// The value with leading and trailing whitespace removed.
    public var value: ByteSpan
    /// The whole line, from the first byte of the name to the end of its CRLF, for forwarding it unchanged.
    public var line: ByteSpan
    public var kind: HeaderKind

    public init(name: ByteSpan, value: ByteSpan, line: ByteSpan, kind: HeaderKind) {
        self.name = name
        self.value = value
        self.line = line
        self.kind = kind
    }
}
