import KanariaHTTP
import KanariaPosix

/// The event loop of a `LocalHTTPServer`: level-triggered epoll; a connection reads a whole request, answers it,
/// and waits for writability when the answer does not fit the socket at once.
final class LocalServerLoop: @unchecked Sendable {
    private let listenFD: Int32
    private let stopFD: Int32
    private let handler: LocalHTTPServer.Handler
    private var clients: [Int32: LocalClient] = [:]

    init(listenFD: Int32, stopFD: Int32, handler: @escaping LocalHTTPServer.Handler) {
        self.listenFD = listenFD
        self.stopFD = stopFD
        self.handler = handler
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
                        clients[client] = LocalClient()
                        try? epoll.add(client, events: [.readable], token: UInt64(UInt32(bitPattern: client)))
                    }
                } else if let client = clients[fd] {
                    let keep = events.contains(.writable) && !client.pending.isEmpty
                        ? flush(fd, client, epoll) && serve(fd, client, epoll, read: false)
                        : serve(fd, client, epoll, read: true)
                    if !keep {
                        clients[fd] = nil
                        client.release()
                        Syscall.close(fd)
                    }
                }
            }
        }
        for (fd, client) in clients {
            client.release()
            Syscall.close(fd)
        }
        Syscall.close(listenFD)
    }

    /// Reads what arrived and answers every complete request; false when the connection should close.
    private func serve(_ fd: Int32, _ client: LocalClient, _ epoll: borrowing Epoll, read: Bool) -> Bool {
        if read {
            client.buffer.reserve(4096)
            switch Syscall.read(fd, into: client.buffer.writable) {
            case .success(let n) where n > 0: client.buffer.didWrite(n)
            case .failure(let error) where error == .wouldBlock: return true
            default: return false
            }
        }
        while client.pending.isEmpty {
            switch client.nextRequest() {
            case .incomplete:
                return true
            case .failed(let status):
                let answer = LocalResponse(status: status, contentType: "text/plain", "bad request\n")
                client.pending = answer.serialized(headRequest: false, close: true)
                client.closeAfterWrite = true
            case .request(let request, let keepAlive):
                let answer = handler(request)
                client.pending = answer.serialized(headRequest: request.method == .head, close: !keepAlive)
                client.closeAfterWrite = !keepAlive
            }
            guard flush(fd, client, epoll) else { return false }
        }
        return true
    }

    /// Writes the pending answer; waits for writability when the socket is full. False when done with the client.
    private func flush(_ fd: Int32, _ client: LocalClient, _ epoll: borrowing Epoll) -> Bool {
        while !client.pending.isEmpty {
            let result = client.pending.withUnsafeBytes { Syscall.write(fd, $0) }
            switch result {
            case .success(let n):
                client.pending.removeFirst(n)
            case .failure(let error):
                guard error == .wouldBlock else { return false }
                try? epoll.modify(fd, events: [.readable, .writable], token: UInt64(UInt32(bitPattern: fd)))
                return true
            }
        }
        try? epoll.modify(fd, events: [.readable], token: UInt64(UInt32(bitPattern: fd)))
        return !client.closeAfterWrite
    }
}

/// One connection's parsing state.
private final class LocalClient {
    enum Next {
        case incomplete
        case failed(status: Int)
        case request(LocalRequest, keepAlive: Bool)
    }

    var buffer = ByteBuffer(capacity: 8192)
    var parser = RequestHeadParser()
    var head = RequestHead()
    var headParsed = false
    var body = BodyTracker(framing: .none)
    var bodyBytes: [UInt8] = []
    var pending: [UInt8] = []
    var closeAfterWrite = false

    func release() { buffer.deallocate() }

    func nextRequest() -> Next {
        do {
            if !headParsed {
                guard !buffer.isEmpty, try parser.parse(buffer.readable, into: &head) else { return .incomplete }
                headParsed = true
                body = BodyTracker(framing: head.framing, dechunk: true)
                bodyBytes = []
                if case .contentLength(let n) = head.framing, n > LocalHTTPServer.maxBodyBytes { return .failed(status: 413) }
                let message = buffer.readable
                let view = RequestView(message: message, head: head)
                pendingRequest = LocalRequest(
                    method: head.method,
                    methodName: head.methodSpan.string(in: message),
                    path: String(decoding: view.pathWithoutQuery, as: UTF8.self),
                    query: queryString(view),
                    headers: head.headers.map { ($0.name.string(in: message).lowercased(), $0.value.string(in: message)) },
                    body: [])
                buffer.consume(head.headLength)
                parser.reset()
            }
            while !body.isComplete {
                let drop = try body.identify(in: buffer.readable)
                if drop > 0 { buffer.consume(drop); continue }
                let n = body.identified
                if n == 0 {
                    if body.endIdentified { continue }
                    return .incomplete
                }
                bodyBytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer.readable[0..<n]))
                buffer.consume(n)
                body.forwarded(n)
                if bodyBytes.count > LocalHTTPServer.maxBodyBytes { return .failed(status: 413) }
            }
        } catch {
            return .failed(status: error.status)
        }
        headParsed = false
        var request = pendingRequest!
        request.body = bodyBytes
        pendingRequest = nil
        return .request(request, keepAlive: head.keepAlive)
    }

    private var pendingRequest: LocalRequest?

    private func queryString(_ view: RequestView) -> String {
        let path = view.path
        let cut = view.pathWithoutQuery.count
        return cut + 1 < path.count ? String(decoding: path[(cut + 1)...], as: UTF8.self) : ""
    }
}
