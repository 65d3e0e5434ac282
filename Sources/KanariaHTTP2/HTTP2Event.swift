/// What happened on an HTTP/2 connection, for the event loop to act on. Drain them with
/// `HTTP2Session.nextEvent()` after every `receive(_:)`, `prepareOutput()` and `didWrite(_:)`.
///
/// A stream is "announced" by its head event (server) or by `submitRequest` (client). Every announced stream gets
/// exactly one `.streamClosed`, and keeps its buffers until the caller calls `release(stream:)`. A request that is
/// malformed, oversized, or reset before its head event was drained produces no event at all.
public enum HTTP2Event: Sendable, Equatable {
    /// Server: a request head is complete; read it with `request(stream:)`.
    case request(stream: Int32)
    /// Client: the final response head is complete; read it with `response(stream:)`.
    case response(stream: Int32)
    /// Client: a 1xx response head (100 Continue, 103 Early Hints); read it with `response(stream:)` before the
    /// next head replaces it.
    case informationalResponse(stream: Int32)
    /// Body bytes were buffered for the stream; read them with `receivedBody(stream:)`, then `consume(stream:count:)`.
    case data(stream: Int32)
    /// Trailers arrived (they end the stream); read them with `trailers(stream:)`.
    case trailers(stream: Int32)
    /// The peer ended its side of the stream: no more body after what is buffered.
    case endOfStream(stream: Int32)
    /// The stream is closed: `.noError` when both sides ended, otherwise why it was reset (by either side).
    /// A normal close is reported only once every body byte the caller offered has been written, so that
    /// releasing the stream then copies nothing; a reset is reported at once.
    case streamClosed(stream: Int32, error: HTTP2ErrorCode)
    /// `count` body bytes the caller offered for the stream were written; it can drop them from their source.
    case bodyWritten(stream: Int32, count: Int)
    /// The peer sent GOAWAY: streams above `lastStreamID` were not processed (and are closed with REFUSED_STREAM).
    case goAwayReceived(lastStreamID: Int32, error: HTTP2ErrorCode)
    /// This side sent GOAWAY (a drain, or an error nghttp2 or the session detected).
    case goAwaySent(lastStreamID: Int32, error: HTTP2ErrorCode)
}
