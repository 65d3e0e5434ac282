import KanariaHTTP
import KanariaHTTP2
import Testing

/// A client session and a server session joined in memory, as a socket pair would join them: `pump()` moves
/// output from one to the other until neither has anything more to say, handing every event to the handlers.
final class Wire {
    let client: HTTP2Session
    let server: HTTP2Session
    var onClientEvent: (HTTP2Event) throws -> Void = { _ in }
    var onServerEvent: (HTTP2Event) throws -> Void = { _ in }
    /// Most bytes one simulated write takes (to exercise partial writes).
    var writeLimit = Int.max
    private var chunks: [UnsafeRawBufferPointer] = []

    init(client: HTTP2Configuration = HTTP2Configuration(), server: HTTP2Configuration = HTTP2Configuration()) {
        self.client = HTTP2Session(role: .client, configuration: client)
        self.server = HTTP2Session(role: .server, configuration: server)
    }

    /// Moves bytes both ways until both sides are quiet.
    func pump(maxRounds: Int = 10_000) throws {
        for _ in 0..<maxRounds {
            try drainEvents()
            let moved = try transfer(from: client, to: server) + transfer(from: server, to: client)
            try drainEvents()
            if moved == 0 && client.pendingOutputBytes == 0 && server.pendingOutputBytes == 0 { return }
        }
        Issue.record("pump did not settle")
    }

    func drainEvents() throws {
        while true {
            var any = false
            while let event = client.nextEvent() { any = true; try onClientEvent(event) }
            while let event = server.nextEvent() { any = true; try onServerEvent(event) }
            if !any { return }
        }
    }

    /// One write's worth of output from `source` into `destination`.
    @discardableResult
    func transfer(from source: HTTP2Session, to destination: HTTP2Session) throws -> Int {
        try source.prepareOutput()
        let total = source.gatherOutput(into: &chunks)
        guard total > 0 else { return 0 }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(min(total, writeLimit))
        for chunk in chunks where bytes.count < writeLimit {
            bytes.append(contentsOf: chunk.prefix(writeLimit - bytes.count))
        }
        source.didWrite(bytes.count)
        try bytes.withUnsafeBytes { _ = try destination.receive($0) }
        return bytes.count
    }
}

/// Parses an HTTP/1.1 request head from text (the proxy's side of a conversion), keeping its bytes alive.
final class ParsedRequest {
    let bytes: [UInt8]
    let head: RequestHead

    init(_ text: String) throws {
        bytes = Array(text.utf8)
        var parser = RequestHeadParser()
        var head = RequestHead()
        let complete = try bytes.withUnsafeBytes { try parser.parse($0, into: &head) }
        precondition(complete)
        self.head = head
    }

    func withMessage<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try bytes.withUnsafeBytes { try body($0) }
    }
}

/// Parses an HTTP/1.1 response head from text.
final class ParsedResponse {
    let bytes: [UInt8]
    let head: ResponseHead

    init(_ text: String, requestMethod: HTTPMethod = .get) throws {
        bytes = Array(text.utf8)
        var parser = ResponseHeadParser()
        var head = ResponseHead()
        let complete = try bytes.withUnsafeBytes { try parser.parse($0, requestMethod: requestMethod, into: &head) }
        precondition(complete)
        self.head = head
    }

    func withMessage<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try bytes.withUnsafeBytes { try body($0) }
    }
}

/// Memory that stays at one address for a test's length: what a connection's read buffer is to the proxy.
final class Source {
    let pointer: UnsafeMutableRawBufferPointer

    init(count: Int, seed: UInt8 = 0) {
        pointer = .allocate(byteCount: count, alignment: 16)
        for i in 0..<count { pointer[i] = UInt8(truncatingIfNeeded: i &* 31 &+ Int(seed)) }
    }

    init(_ text: String) {
        let utf8 = Array(text.utf8)
        pointer = .allocate(byteCount: max(utf8.count, 1), alignment: 16)
        for i in utf8.indices { pointer[i] = utf8[i] }
        count = utf8.count
    }

    private var count = -1
    var bytes: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: pointer.baseAddress, count: count < 0 ? pointer.count : count)
    }

    func slice(_ range: Range<Int>) -> UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: bytes[range]) }

    deinit { pointer.deallocate() }
}

extension HTTP2Session {
    /// Takes all buffered body bytes of a stream as an array and consumes them.
    func takeBody(stream: Int32) -> [UInt8] {
        var out: [UInt8] = []
        while receivedBodyCount(stream: stream) > 0 {
            let run = receivedBody(stream: stream)
            out.append(contentsOf: run)
            consume(stream: stream, count: run.count)
        }
        return out
    }
}

extension RequestView {
    func string(_ bytes: UnsafeRawBufferPointer) -> String { String(decoding: bytes, as: UTF8.self) }
    var pathString: String { string(path) }
    var authorityString: String { string(authority) }
    var methodString: String { string(methodName) }
    func fieldString(_ name: String) -> String? {
        var name = name
        return name.withUTF8 { value(ofField: UnsafeRawBufferPointer($0)) }.map { string($0) }
    }
}
