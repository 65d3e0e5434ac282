import KanariaHTTP

/// A received response head with the bytes its spans point into (the HTTP/2 counterpart of `RequestView`).
public struct ResponseView {
    public let message: UnsafeRawBufferPointer
    public let head: ResponseHead

    public init(message: UnsafeRawBufferPointer, head: ResponseHead) {
        self.message = message
        self.head = head
    }

    /// The value of the first field named `lowercasedName` (HTTP/2 names are lowercase); nil when absent.
    public func value(ofField lowercasedName: StaticString) -> UnsafeRawBufferPointer? {
        for field in head.headers where HTTPBytes.equals(field.name.bytes(in: message), lowercasedName) {
            return field.value.bytes(in: message)
        }
        return nil
    }
}

/// Received trailers, each field's `line` ("name: value\r\n") ready to forward as HTTP/1.1 chunked trailers.
public struct TrailersView {
    public let message: UnsafeRawBufferPointer
    public let fields: [HeaderField]

    public init(message: UnsafeRawBufferPointer, fields: [HeaderField]) {
        self.message = message
        self.fields = fields
    }

    /// The value of the first field named `lowercasedName` (`grpc-status`); nil when absent.
    public func value(ofField lowercasedName: StaticString) -> UnsafeRawBufferPointer? {
        for field in fields where HTTPBytes.equals(field.name.bytes(in: message), lowercasedName) {
            return field.value.bytes(in: message)
        }
        return nil
    }
}

/// Counts of what a session saw and did, for metrics and tests.
public struct HTTP2Counters: Sendable, Equatable {
    /// Server: streams the peer opened with a request HEADERS frame.
    public var streamsOpened = 0
    /// Server: request heads delivered as `.request` events.
    public var requestsDelivered = 0
    /// Server: requests refused by the session's own checks, with RST_STREAM(PROTOCOL_ERROR).
    public var malformedRequests = 0
    /// Requests (or responses) whose header list was over the limits: answered 431 (server) or reset (client).
    public var oversizedHeaderLists = 0
    /// Header fields nghttp2 found invalid (bad characters): the stream was reset with PROTOCOL_ERROR.
    public var invalidHeaderFields = 0
    /// Server: streams the peer ended (or made fail) before their response was complete.
    public var prematureResets = 0
    /// Offered body bytes copied because their stream was released before they were written (0 on the normal
    /// path, where streams are released after `.streamClosed`).
    public var bodyBytesCopied = 0

    public init() {}
}

extension HTTP2Event {
    /// The stream an event is about, if any.
    var streamID: Int32? {
        switch self {
        case .request(let s), .response(let s), .informationalResponse(let s), .data(let s), .trailers(let s),
             .endOfStream(let s):
            s
        case .streamClosed(let s, _), .bodyWritten(let s, _):
            s
        case .goAwayReceived, .goAwaySent:
            nil
        }
    }
}
