/// Limits and windows of one HTTP/2 connection. The defaults are the ones the proxy uses downstream; each is
/// tighter than nghttp2's own default where the two differ.
public struct HTTP2Configuration: Sendable {
    /// SETTINGS_MAX_CONCURRENT_STREAMS we advertise (server role). nghttp2 refuses a stream over it with
    /// RST_STREAM(REFUSED_STREAM) while our SETTINGS are unacknowledged and with GOAWAY(PROTOCOL_ERROR) after.
    /// It also bounds the closed streams nghttp2 keeps to answer frames sent on them (open and closed together at
    /// most this many): 100 closed streams are 22 KiB (224 bytes each in nghttp2 1.52).
    public var maxConcurrentStreams: UInt32 = 100
    /// SETTINGS_INITIAL_WINDOW_SIZE we advertise: the most request (or response) body bytes one stream can have
    /// buffered here before the proxy forwards them. 65,535 is RFC 9113's default.
    public var initialStreamWindowSize: Int = 65_535
    /// The connection-level receive window: the most body bytes all streams together can have buffered.
    /// With 64 KiB per stream, 16 stalled streams are needed to stall the others.
    public var connectionWindowSize: Int = 1 << 20
    /// SETTINGS_MAX_HEADER_LIST_SIZE we advertise and enforce (RFC 9113 §6.5.2 size: name + value + 32 per field),
    /// the same 60 KiB the HTTP/1.1 parser allows. A request over it is answered 431 by the session itself.
    public var maxHeaderListSize: Int = 60 * 1024
    /// Most fields in one header list (Envoy's default); more is answered 431 like an oversized list.
    public var maxHeaderCount: Int = 100
    /// Most CONTINUATION frames after one HEADERS frame (nghttp2's default is 8). Four after a 16 KiB HEADERS
    /// frame carry 80 KiB of header block, more than `maxHeaderListSize` needs; a fifth ends the connection.
    public var maxContinuations: Int = 4
    /// Token bucket for incoming RST_STREAM (nghttp2's defaults: burst 1000, 33 per second). Out of tokens, nghttp2
    /// ends the connection with GOAWAY: the rapid-reset defence (CVE-2023-44487).
    public var streamResetBurst: UInt64 = 200
    public var streamResetRate: UInt64 = 30
    /// Streams the peer ended early (its RST_STREAM, or a stream error it provoked) before the connection is ended
    /// with GOAWAY(ENHANCE_YOUR_CALM) — counted only once they are at least half of all the streams it opened.
    /// This catches resets the token bucket does not see (resets nghttp2 sends itself, as in "MadeYouReset").
    public var prematureResetLimit: Int = 100
    /// Bytes of output (frames plus borrowed body bytes) queued before the session stops producing more until
    /// the caller has written some: the socket's backpressure reaches the streams' sources.
    public var outputLimit: Int = 256 * 1024

    public init() {}
}
