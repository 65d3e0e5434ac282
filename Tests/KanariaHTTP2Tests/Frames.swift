import KanariaHTTP2

/// Hand-made HTTP/2 bytes, for feeding a server session what a misbehaving client would send: frames built field
/// by field and header blocks in HPACK's plainest form (literal fields, no indexing, no Huffman), so that any
/// name or value, however invalid, can be encoded.
enum Frames {
    static let data: UInt8 = 0x0
    static let headers: UInt8 = 0x1
    static let priority: UInt8 = 0x2
    static let rstStream: UInt8 = 0x3
    static let settings: UInt8 = 0x4
    static let ping: UInt8 = 0x6
    static let goAway: UInt8 = 0x7
    static let windowUpdate: UInt8 = 0x8
    static let continuation: UInt8 = 0x9

    static let endStream: UInt8 = 0x1
    static let ack: UInt8 = 0x1
    static let endHeaders: UInt8 = 0x4

    static var preface: [UInt8] { Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8) }

    /// The client's connection preface followed by an empty SETTINGS frame.
    static var clientStart: [UInt8] { preface + frame(settings, flags: 0, stream: 0, payload: []) }

    static func frame(_ type: UInt8, flags: UInt8, stream: Int32, payload: [UInt8]) -> [UInt8] {
        let n = payload.count
        var out: [UInt8] = [UInt8(n >> 16 & 0xFF), UInt8(n >> 8 & 0xFF), UInt8(n & 0xFF), type, flags]
        out += be32(UInt32(stream))
        return out + payload
    }

    static func be32(_ v: UInt32) -> [UInt8] {
        [UInt8(v >> 24 & 0xFF), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)]
    }

    /// HPACK integer with an n-bit prefix (RFC 7541 §5.1).
    static func integer(_ value: Int, prefixBits: Int, firstByte: UInt8 = 0) -> [UInt8] {
        let limit = (1 << prefixBits) - 1
        if value < limit { return [firstByte | UInt8(value)] }
        var out: [UInt8] = [firstByte | UInt8(limit)]
        var rest = value - limit
        while rest >= 128 {
            out.append(UInt8(rest % 128 + 128))
            rest /= 128
        }
        out.append(UInt8(rest))
        return out
    }

    /// A header block of literal fields without indexing, new names (RFC 7541 §6.2.2).
    static func block(_ fields: [(String, String)]) -> [UInt8] {
        var out: [UInt8] = []
        for (name, value) in fields {
            out.append(0x00)
            out += integer(name.utf8.count, prefixBits: 7) + Array(name.utf8)
            out += integer(value.utf8.count, prefixBits: 7) + Array(value.utf8)
        }
        return out
    }

    static func requestFields(path: String = "/", method: String = "GET", extra: [(String, String)] = []) -> [(String, String)] {
        [(":method", method), (":scheme", "http"), (":authority", "example.com"), (":path", path)] + extra
    }

    static func headersFrame(stream: Int32, fields: [(String, String)], endStream: Bool = true) -> [UInt8] {
        frame(headers, flags: endHeaders | (endStream ? Frames.endStream : 0), stream: stream, payload: block(fields))
    }

    static func rst(stream: Int32, code: UInt32 = 8) -> [UInt8] {
        frame(rstStream, flags: 0, stream: stream, payload: be32(code))
    }

    static func dataFrame(stream: Int32, _ bytes: [UInt8], endStream: Bool) -> [UInt8] {
        frame(data, flags: endStream ? Frames.endStream : 0, stream: stream, payload: bytes)
    }

    /// A PRIORITY frame: `stream` depends on `dependsOn` (not exclusive) with weight 16.
    static func priorityFrame(stream: Int32, dependsOn: Int32) -> [UInt8] {
        frame(priority, flags: 0, stream: stream, payload: be32(UInt32(dependsOn)) + [15])
    }

    /// A SETTINGS frame with these (identifier, value) entries.
    static func settingsFrame(_ entries: [(UInt16, UInt32)]) -> [UInt8] {
        frame(settings, flags: 0, stream: 0, payload: entries.flatMap { [UInt8($0.0 >> 8), UInt8($0.0 & 0xFF)] + be32($0.1) })
    }

    static var settingsAck: [UInt8] { frame(settings, flags: ack, stream: 0, payload: []) }

    /// One frame parsed from a session's output.
    struct Frame: CustomStringConvertible {
        var type: UInt8
        var flags: UInt8
        var stream: Int32
        var payload: [UInt8]

        /// The error code of a RST_STREAM or GOAWAY frame.
        var errorCode: UInt32? {
            switch type {
            case Frames.rstStream: return UInt32(payload[0]) << 24 | UInt32(payload[1]) << 16 | UInt32(payload[2]) << 8 | UInt32(payload[3])
            case Frames.goAway: return UInt32(payload[4]) << 24 | UInt32(payload[5]) << 16 | UInt32(payload[6]) << 8 | UInt32(payload[7])
            default: return nil
            }
        }

        var lastStreamID: Int32? {
            guard type == Frames.goAway else { return nil }
            return Int32(bitPattern: UInt32(payload[0]) << 24 | UInt32(payload[1]) << 16 | UInt32(payload[2]) << 8 | UInt32(payload[3]))
        }

        var description: String { "frame(type: \(type), flags: \(flags), stream: \(stream), \(payload.count) bytes)" }
    }

    static func parse(_ bytes: [UInt8]) -> [Frame] {
        var frames: [Frame] = []
        var i = 0
        while i + 9 <= bytes.count {
            let n = Int(bytes[i]) << 16 | Int(bytes[i + 1]) << 8 | Int(bytes[i + 2])
            guard i + 9 + n <= bytes.count else { break }
            let stream = Int32(bitPattern: UInt32(bytes[i + 5] & 0x7F) << 24 | UInt32(bytes[i + 6]) << 16 | UInt32(bytes[i + 7]) << 8 | UInt32(bytes[i + 8]))
            frames.append(Frame(type: bytes[i + 3], flags: bytes[i + 4], stream: stream, payload: Array(bytes[(i + 9)..<(i + 9 + n)])))
            i += 9 + n
        }
        return frames
    }
}

/// A server session fed hand-made bytes, recording its events and parsing its output frames.
final class ServerProbe {
    let session: HTTP2Session
    var events: [HTTP2Event] = []
    var frames: [Frames.Frame] = []
    private var chunks: [UnsafeRawBufferPointer] = []

    init(configuration: HTTP2Configuration = HTTP2Configuration()) {
        session = HTTP2Session(role: .server, configuration: configuration)
    }

    /// A probe of a session made elsewhere (an upgraded one); the events it has queued are recorded at once.
    init(session: HTTP2Session) {
        self.session = session
        flush()
    }

    /// Feeds `bytes`, drains events, and collects the output it produces. Returns the error receive threw, if any.
    @discardableResult
    func feed(_ bytes: [UInt8]) -> HTTP2Error? {
        var failure: HTTP2Error?
        do {
            try bytes.withUnsafeBytes { _ = try session.receive($0) }
        } catch {
            failure = error as? HTTP2Error
        }
        flush()
        return failure
    }

    func flush() {
        while let event = session.nextEvent() { events.append(event) }
        try? session.prepareOutput()
        while session.pendingOutputBytes > 0 {
            let total = session.gatherOutput(into: &chunks)
            var bytes: [UInt8] = []
            for chunk in chunks { bytes += chunk }
            session.didWrite(total)
            frames += Frames.parse(bytes)
            try? session.prepareOutput()
        }
        while let event = session.nextEvent() { events.append(event) }
    }

    var requests: [Int32] {
        events.compactMap { if case .request(let s) = $0 { s } else { nil } }
    }

    func resets(of stream: Int32) -> [UInt32] {
        frames.filter { $0.type == Frames.rstStream && $0.stream == stream }.compactMap(\.errorCode)
    }

    var goAway: Frames.Frame? { frames.first { $0.type == Frames.goAway } }

    func headers(on stream: Int32) -> [Frames.Frame] {
        frames.filter { $0.type == Frames.headers && $0.stream == stream }
    }
}
