import KanariaHTTP
import KanariaPosix

/// A request as a `LocalHTTPServer` handler sees it: whole, with its body read.
public struct LocalRequest: Sendable {
    public var method: HTTPMethod
    public var methodName: String
    /// The path without the query string.
    public var path: String
    /// The query string without its '?', or "".
    public var query: String
    /// Field names lowercased, in order.
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    /// The first value of a field, by lowercase name.
    public func header(_ name: String) -> String? {
        headers.first { $0.name == name }?.value
    }

    /// The value of a query parameter (no percent-decoding beyond '+' and %XX).
    public func queryParameter(_ name: String) -> String? {
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            if parts.first.map(String.init) == name { return parts.count > 1 ? percentDecoded(String(parts[1])) : "" }
        }
        return nil
    }
}

/// A response from a `LocalHTTPServer` handler.
public struct LocalResponse: Sendable {
    public var status: Int
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public init(status: Int, headers: [(name: String, value: String)] = [], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A text response with its content type.
    public init(status: Int = 200, contentType: String, _ text: String, headers: [(name: String, value: String)] = []) {
        self.init(status: status, headers: [("content-type", contentType)] + headers, body: Array(text.utf8))
    }

    /// The whole message on the wire (HEAD requests get the head only).
    func serialized(headRequest: Bool, close: Bool) -> [UInt8] {
        var head = "HTTP/1.1 \(status) \(HTTPStatus.reasonPhrase(status))\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        let bodiless = status == 304 || status == 204  // RFC 9110 §8.6: no Content-Length that would mislead
        if !bodiless { head += "content-length: \(body.count)\r\n" }
        if close { head += "connection: close\r\n" }
        head += "\r\n"
        return headRequest || bodiless ? Array(head.utf8) : Array(head.utf8) + body
    }
}

/// A small HTTP/1.1 server for Kanaria's own pages and APIs (the admin endpoints, the demo's shark apps): one
/// event-loop thread, keep-alive, whole requests and responses. It is not the proxy's data path; it favours
/// simplicity over speed, but never blocks its loop and never buffers more than `maxBodyBytes` of a request.
public final class LocalHTTPServer: @unchecked Sendable {
    public typealias Handler = @Sendable (LocalRequest) -> LocalResponse

    public let address: SocketAddress
    public let name: String
    private let listenFD: Int32
    private let handler: Handler
    private let stopper: EventNotifier
    private var thread: PosixThread?
    public static let maxBodyBytes = 1 << 20

    /// Binds `listen` (port 0 picks a free port; `address` then holds the real one).
    public init(listen: SocketAddress, name: String, handler: @escaping Handler) throws(Errno) {
        self.listenFD = try Socket.listen(on: listen)
        self.address = try Socket.localAddress(of: listenFD)
        self.name = name
        self.handler = handler
        self.stopper = try EventNotifier()
    }

    /// Starts serving on a new thread.
    public func start() {
        let loop = LocalServerLoop(listenFD: listenFD, stopFD: stopper.fd, handler: handler)
        thread = PosixThread.spawn(name: name) { loop.run() }
    }

    /// Stops serving and waits for the thread.
    public func stop() {
        stopper.signal()
        thread?.join()
        thread = nil
    }
}

func percentDecoded(_ text: String) -> String {
    var bytes: [UInt8] = []
    var iterator = Array(text.utf8).makeIterator()
    while let c = iterator.next() {
        if c == UInt8(ascii: "+") {
            bytes.append(0x20)
        } else if c == UInt8(ascii: "%"), let h = iterator.next(), let l = iterator.next(),
                  let value = UInt8(String(decoding: [h, l], as: UTF8.self), radix: 16) {
            bytes.append(value)
        } else {
            bytes.append(c)
        }
    }
    return String(decoding: bytes, as: UTF8.self)
}
