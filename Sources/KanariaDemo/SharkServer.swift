import KanariaHTTP
import KanariaPosix

/// Serves one version of the shark app on its own event-loop thread: `/` (landing page), `/sharks` (facts),
/// anything else 404. Every answer carries `x-version`; pages carry an ETag and answer 304 to a matching
/// `If-None-Match`, as the tutorial's Node app (through Express) does, so the demo shows 200s and 304s.
public final class SharkServer: @unchecked Sendable {
    public let version: SharkVersion
    public let address: SocketAddress
    private let listenFD: Int32
    private var thread: PosixThread?
    private let stopper: EventNotifier

    /// Binds `address` (port 0 picks a free port; `address` then holds the real one).
    public init(version: SharkVersion, listen: SocketAddress) throws(Errno) {
        self.version = version
        self.listenFD = try Socket.listen(on: listen)
        self.address = try Socket.localAddress(of: listenFD)
        self.stopper = try EventNotifier()
    }

    /// Starts serving on a new thread.
    public func start() {
        let loop = SharkLoop(version: version, listenFD: listenFD, stopFD: stopper.fd)
        let box = LoopBox(loop: loop)
        thread = PosixThread.spawn(name: "shark-\(version.rawValue)") { box.loop.run() }
    }

    /// Stops serving and waits for the thread.
    public func stop() {
        stopper.signal()
        thread?.join()
        thread = nil
    }
}

private struct LoopBox: @unchecked Sendable { let loop: SharkLoop }

/// The responses, rendered once.
private struct SharkResponses {
    let landing: [UInt8]
    let facts: [UInt8]
    let landingETag: [UInt8]
    let factsETag: [UInt8]
    let version: SharkVersion

    init(version: SharkVersion) {
        self.version = version
        let landingPage = Array(SharkPages.landing(version).utf8)
        let factsPage = Array(SharkPages.facts(version).utf8)
        landingETag = Array("\"\(version.rawValue)-\(Self.hash(landingPage))\"".utf8)
        factsETag = Array("\"\(version.rawValue)-\(Self.hash(factsPage))\"".utf8)
        landing = Self.response(200, page: landingPage, etag: landingETag, version: version)
        facts = Self.response(200, page: factsPage, etag: factsETag, version: version)
    }

    static func hash(_ bytes: [UInt8]) -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        return String(h, radix: 16)
    }

    static func response(_ status: Int, page: [UInt8], etag: [UInt8], version: SharkVersion) -> [UInt8] {
        var head = "HTTP/1.1 \(status) \(status == 200 ? "OK" : status == 304 ? "Not Modified" : "Not Found")\r\n"
        head += "content-type: text/html; charset=utf-8\r\n"
        head += "x-version: \(version.rawValue)\r\n"
        if !etag.isEmpty { head += "etag: \(String(decoding: etag, as: UTF8.self))\r\n" }
        head += "content-length: \(status == 304 ? 0 : page.count)\r\n\r\n"
        return Array(head.utf8) + (status == 304 ? [] : page)
    }

    func notModified(etag: [UInt8]) -> [UInt8] { Self.response(304, page: [], etag: etag, version: version) }

    var notFound: [UInt8] { Self.response(404, page: Array("not found\n".utf8), etag: [], version: version) }
}

/// One shark app's event loop: level-triggered epoll, one request at a time per connection, keep-alive.
private final class SharkLoop {
    let responses: SharkResponses
    let listenFD: Int32
    let stopFD: Int32
    var clients: [Int32: SharkClient] = [:]

    init(version: SharkVersion, listenFD: Int32, stopFD: Int32) {
        self.responses = SharkResponses(version: version)
        self.listenFD = listenFD
        self.stopFD = stopFD
    }

    func run() {
        guard let epoll = try? Epoll(capacity: 64) else { return }
        try? epoll.add(listenFD, events: [.readable], token: UInt64(UInt32(bitPattern: listenFD)))
        try? epoll.add(stopFD, events: [.readable], token: UInt64(UInt32(bitPattern: stopFD)))
        running: while true {
            let count = epoll.wait(timeoutMilliseconds: -1)
            for i in 0..<count {
                let (token, events) = epoll.event(at: i)
                let fd = Int32(truncatingIfNeeded: token)
                if fd == stopFD { break running }
                if fd == listenFD {
                    while case .success(let (client, _)) = Socket.accept(listenFD) {
                        Socket.setNoDelay(client)
                        clients[client] = SharkClient()
                        try? epoll.add(client, events: [.readable], token: UInt64(UInt32(bitPattern: client)))
                    }
                } else if let client = clients[fd] {
                    if !serve(fd, client, events) {
                        clients[fd] = nil
                        client.buffer.deallocate()
                        Syscall.close(fd)
                    }
                }
            }
        }
        for (fd, client) in clients {
            client.buffer.deallocate()
            Syscall.close(fd)
        }
        Syscall.close(listenFD)
    }

    /// Reads and answers what the client sent; false when the connection should close.
    private func serve(_ fd: Int32, _ client: SharkClient, _ events: EpollEvents) -> Bool {
        client.buffer.reserve(4096)
        switch Syscall.read(fd, into: client.buffer.writable) {
        case .success(let n) where n > 0: client.buffer.didWrite(n)
        case .failure(let error) where error == .wouldBlock: return true
        default: return false
        }
        while true {
            if client.bodyToDiscard > 0 {
                let n = min(client.bodyToDiscard, client.buffer.readableCount)
                client.buffer.consume(n)
                client.bodyToDiscard -= n
                if client.bodyToDiscard > 0 { return true }
            }
            guard !client.buffer.isEmpty else { return true }
            let complete: Bool
            do {
                complete = try client.parser.parse(client.buffer.readable, into: &client.head)
            } catch {
                let answer = Array("HTTP/1.1 \(error.status) Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n".utf8)
                _ = answer.withUnsafeBytes { writeAll(fd, $0) }
                return false
            }
            guard complete else { return true }
            let message = client.buffer.readable
            let answer = respond(to: client.head, message: message)
            let keepAlive = client.head.keepAlive
            switch client.head.framing {
            case .contentLength(let n): client.bodyToDiscard = n
            case .chunked: return false  // the demo app takes no chunked uploads
            default: break
            }
            client.buffer.consume(client.head.headLength)
            client.parser.reset()
            let written = answer.withUnsafeBytes { writeAll(fd, $0) }
            if !written || !keepAlive { return false }
        }
    }

    private func respond(to head: RequestHead, message: UnsafeRawBufferPointer) -> [UInt8] {
        let path = RequestView(message: message, head: head).pathWithoutQuery
        let isLanding = path.count == 1 || (path.count == 11 && String(decoding: path, as: UTF8.self) == "/index.html")
        let isFacts = path.count == 7 && path.elementsEqual("/sharks".utf8)
        guard isLanding || isFacts else { return responses.notFound }
        let etag = isLanding ? responses.landingETag : responses.factsETag
        if let field = head.headers.first(where: { field in
            field.name.bytes(in: message).elementsEqual("if-none-match".utf8, by: { ($0 | 0x20) == $1 })
        }), field.value.bytes(in: message).elementsEqual(etag) {
            return responses.notModified(etag: etag)
        }
        var answer = isLanding ? responses.landing : responses.facts
        if head.method == .head, let end = headEnd(answer) { answer.removeSubrange(end...) }
        return answer
    }

    private func headEnd(_ bytes: [UInt8]) -> Int? {
        for i in 3..<bytes.count where bytes[i] == 10 && bytes[i - 1] == 13 && bytes[i - 2] == 10 && bytes[i - 3] == 13 {
            return i + 1
        }
        return nil
    }

    /// Blocking-style write on a non-blocking socket: the demo's answers are small, so retrying is fine.
    private func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Bool {
        var offset = 0
        var spins = 0
        while offset < bytes.count {
            switch Syscall.write(fd, UnsafeRawBufferPointer(rebasing: bytes[offset...])) {
            case .success(let n): offset += n
            case .failure(let error):
                guard error == .wouldBlock, spins < 10_000 else { return false }
                spins += 1
            }
        }
        return true
    }
}

private final class SharkClient {
    var buffer = ByteBuffer(capacity: 8192)
    var parser = RequestHeadParser()
    var head = RequestHead()
    var bodyToDiscard = 0
}
