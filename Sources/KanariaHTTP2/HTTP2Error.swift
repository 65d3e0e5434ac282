import CNghttp2

/// A failure reported by nghttp2 (or by this wrapper, in nghttp2's terms): the library's negative error code.
///
/// `receive(_:)` throws one when the connection cannot go on (bad client preface, a flood nghttp2 detected, a
/// callback failure); the caller writes whatever `prepareOutput()` still produces (a GOAWAY) and closes.
public struct HTTP2Error: Error, Sendable, Equatable, CustomStringConvertible {
    /// One of nghttp2's `NGHTTP2_ERR_*` codes, all negative (for example -903, bad client magic).
    public let code: Int32

    public init(code: Int32) { self.code = code }

    init(_ error: nghttp2_error) { code = error.rawValue }

    /// True for errors after which the session is unusable (nghttp2's `nghttp2_is_fatal`).
    public var isFatal: Bool { nghttp2_is_fatal(code) != 0 }

    /// nghttp2's own wording of the error.
    public var description: String { String(cString: nghttp2_strerror(code)) }

    /// The stream does not exist, is closed, or was released.
    public static let unknownStream = HTTP2Error(NGHTTP2_ERR_STREAM_CLOSED)
    /// The call does not fit the session's role or the stream's state.
    public static let invalidState = HTTP2Error(NGHTTP2_ERR_INVALID_STATE)
    /// New streams are not allowed on this connection (GOAWAY, or the stream IDs are used up).
    public static let streamsExhausted = HTTP2Error(NGHTTP2_ERR_START_STREAM_NOT_ALLOWED)
}

/// An HTTP/2 error code, as carried by RST_STREAM and GOAWAY (RFC 9113 §7).
public struct HTTP2ErrorCode: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public var rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let noError = HTTP2ErrorCode(rawValue: 0x0)
    public static let protocolError = HTTP2ErrorCode(rawValue: 0x1)
    public static let internalError = HTTP2ErrorCode(rawValue: 0x2)
    public static let flowControlError = HTTP2ErrorCode(rawValue: 0x3)
    public static let settingsTimeout = HTTP2ErrorCode(rawValue: 0x4)
    public static let streamClosed = HTTP2ErrorCode(rawValue: 0x5)
    public static let frameSizeError = HTTP2ErrorCode(rawValue: 0x6)
    public static let refusedStream = HTTP2ErrorCode(rawValue: 0x7)
    public static let cancel = HTTP2ErrorCode(rawValue: 0x8)
    public static let compressionError = HTTP2ErrorCode(rawValue: 0x9)
    public static let connectError = HTTP2ErrorCode(rawValue: 0xA)
    public static let enhanceYourCalm = HTTP2ErrorCode(rawValue: 0xB)
    public static let inadequateSecurity = HTTP2ErrorCode(rawValue: 0xC)
    public static let http11Required = HTTP2ErrorCode(rawValue: 0xD)

    public var description: String {
        switch rawValue {
        case 0x0: "NO_ERROR"
        case 0x1: "PROTOCOL_ERROR"
        case 0x2: "INTERNAL_ERROR"
        case 0x3: "FLOW_CONTROL_ERROR"
        case 0x4: "SETTINGS_TIMEOUT"
        case 0x5: "STREAM_CLOSED"
        case 0x6: "FRAME_SIZE_ERROR"
        case 0x7: "REFUSED_STREAM"
        case 0x8: "CANCEL"
        case 0x9: "COMPRESSION_ERROR"
        case 0xA: "CONNECT_ERROR"
        case 0xB: "ENHANCE_YOUR_CALM"
        case 0xC: "INADEQUATE_SECURITY"
        case 0xD: "HTTP_1_1_REQUIRED"
        default: "0x" + String(rawValue, radix: 16)
        }
    }
}
