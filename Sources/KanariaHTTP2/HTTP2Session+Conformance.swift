import CNghttp2

/// The checks of RFC 9113 that nghttp2 leaves to a server application, made on each frame's header before nghttp2
/// reads its payload:
/// - HEADERS on a stream ID the client skipped (§5.1.1): that stream is closed without ever having been opened, so
///   the frame is a connection error of type PROTOCOL_ERROR. nghttp2 ignores it, since it cannot tell a skipped ID
///   from a closed stream it no longer keeps (a client's trailers after our RST_STREAM must be ignored).
/// - PRIORITY on stream 0 (§6.3) from a client that sent SETTINGS_NO_RFC7540_PRIORITIES = 1: nghttp2 then skips
///   PRIORITY frames unread. Otherwise nghttp2 checks them itself (stream 0, a stream depending on itself).
/// Frames on closed streams are nghttp2's: a server session keeps closed streams (see `submitInitialSettings`).
extension HTTP2Session {
    static func installConformanceChecks(_ callbacks: OpaquePointer?) {
        nghttp2_session_callbacks_set_on_begin_frame_callback(callbacks) { _, header, user in
            HTTP2Session.from(user).onBeginFrame(header!.pointee)
        }
    }

    /// nghttp2 calls this with every frame header it is about to process (not for DATA it ignores).
    func onBeginFrame(_ header: nghttp2_frame_hd) -> Int32 {
        let stream = header.stream_id
        switch nghttp2_frame_type(rawValue: UInt32(header.type)) {
        case NGHTTP2_HEADERS where stream & 1 == 1:
            if !clientStreamIDs.use(stream) { terminate(error: .protocolError) }
        case NGHTTP2_PRIORITY where stream == 0:
            if nghttp2_session_get_remote_settings(session, NGHTTP2_SETTINGS_NO_RFC7540_PRIORITIES) == 1 {
                terminate(error: .protocolError)
            }
        default:
            break
        }
        return 0
    }
}
