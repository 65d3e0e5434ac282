/// The request every connection sends, built once: its HTTP/1.1 bytes, and its HTTP/2 fields.
public struct RequestTemplate: Sendable {
    public var method: String
    public var target: LoadTarget
    /// Extra fields, `name: value`, as given with `--header` (names lowercased for HTTP/2).
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public init(method: String = "GET", target: LoadTarget, headers: [(name: String, value: String)] = [], body: [UInt8] = []) {
        self.method = method
        self.target = target
        self.headers = headers
        self.body = body
    }

    /// Parses `--header 'name: value'`.
    public static func header(parsing text: String) throws(UsageError) -> (name: String, value: String) {
        guard let colon = text.firstIndex(of: ":"), colon != text.startIndex else {
            throw UsageError("--header \(text): expected 'name: value'")
        }
        let value = text[text.index(after: colon)...].drop { $0 == " " || $0 == "\t" }
        return (String(text[..<colon]), String(value))
    }

    private func has(_ name: String) -> Bool { headers.contains { $0.name.lowercased() == name } }

    /// `GET /path HTTP/1.1`, Host (unless given), User-Agent, the extra fields, Content-Length when there is a body,
    /// and the body: the whole request as sent on the wire.
    public var http1Bytes: [UInt8] {
        var text = "\(method) \(target.path) HTTP/1.1\r\n"
        if !has("host") { text += "Host: \(target.authority)\r\n" }
        if !has("user-agent") { text += "User-Agent: kanaria-loadtest\r\n" }
        for field in headers { text += "\(field.name): \(field.value)\r\n" }
        if !body.isEmpty && !has("content-length") { text += "Content-Length: \(body.count)\r\n" }
        return Array((text + "\r\n").utf8) + body
    }

    /// The HTTP/2 pseudo-header fields and fields, names lowercased; a `host` field becomes `:authority`.
    public var http2Fields: [(name: String, value: String)] {
        let authority = headers.first { $0.name.lowercased() == "host" }?.value ?? target.authority
        var fields = [(":method", method), (":scheme", target.scheme.rawValue), (":authority", authority), (":path", target.path)]
        if !has("user-agent") { fields.append(("user-agent", "kanaria-loadtest")) }
        for field in headers where field.name.lowercased() != "host" { fields.append((field.name.lowercased(), field.value)) }
        if !body.isEmpty && !has("content-length") { fields.append(("content-length", String(body.count))) }
        return fields
    }
}
