import CNghttp2
import KanariaHTTP

/// nghttp2's callbacks for output. Every frame but DATA is copied into the output queue's own buffer; a DATA
/// frame's payload is sent NO_COPY: its 9-byte header is copied and its payload queued as a reference to the bytes
/// the caller offered, where they already are.
extension HTTP2Session {
    static func installSendCallbacks(_ callbacks: OpaquePointer?) {
        nghttp2_session_callbacks_set_send_callback(callbacks) { _, data, length, _, user in
            HTTP2Session.from(user).onSend(UnsafeRawBufferPointer(start: data, count: length))
        }
        nghttp2_session_callbacks_set_send_data_callback(callbacks) { _, frame, header, length, _, user in
            HTTP2Session.from(user).onSendData(frame!.pointee, header!, length)
        }
        nghttp2_session_callbacks_set_on_frame_send_callback(callbacks) { _, frame, user in
            HTTP2Session.from(user).onFrameSent(frame!.pointee)
        }
        nghttp2_session_callbacks_set_on_frame_not_send_callback(callbacks) { _, frame, code, user in
            HTTP2Session.from(user).onFrameNotSent(frame!.pointee, code)
        }
    }

    /// The data provider of every stream with a body: nghttp2 asks it how many bytes the next DATA frame carries.
    static let readCallback: nghttp2_data_source_read_callback = { _, stream, _, length, flags, _, user in
        HTTP2Session.from(user).onRead(stream, length, flags!)
    }

    @inline(__always) private func outputIsFull(adding count: Int) -> Bool {
        let pending = output.pendingBytes
        return pending > 0 && pending + count > configuration.outputLimit
    }

    func onSend(_ bytes: UnsafeRawBufferPointer) -> Int {
        if outputIsFull(adding: bytes.count) { return Int(NGHTTP2_ERR_WOULDBLOCK.rawValue) }
        output.appendOwned(bytes)
        return bytes.count
    }

    /// Sizes the next DATA frame of a stream from the bytes offered and not yet framed. With none, the stream is
    /// deferred until `offerBody` resumes it; at the end of the body, END_STREAM is set, or trailers are submitted.
    func onRead(_ stream: Int32, _ length: Int, _ flags: UnsafeMutablePointer<UInt32>) -> Int {
        guard let index = slotIndex(of: stream) else { return Int(NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE.rawValue) }
        let available = slots[index].unframed
        let count = min(length, available)
        var dataFlags = NGHTTP2_DATA_FLAG_NO_COPY.rawValue
        if count == available && slots[index].flags.contains(.endOfBody) {
            dataFlags |= NGHTTP2_DATA_FLAG_EOF.rawValue
            if slots[index].flags.contains(.trailersPending), let trailers = slots[index].trailerBlock {
                dataFlags |= NGHTTP2_DATA_FLAG_NO_END_STREAM.rawValue
                let rv = trailers.withNameValues { nghttp2_submit_trailer(session, stream, $0, $1) }
                if rv != 0 { return Int(NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE.rawValue) }
                slots[index].flags.remove(.trailersPending)
            }
            slots[index].flags.insert(.localEnded)
        } else if count == 0 {
            slots[index].flags.insert(.deferred)
            return Int(NGHTTP2_ERR_DEFERRED.rawValue)
        }
        flags.pointee |= dataFlags
        return count
    }

    func onSendData(_ frame: nghttp2_frame, _ header: UnsafePointer<UInt8>, _ length: Int) -> Int32 {
        let padding = frame.data.padlen
        if outputIsFull(adding: 9 + padding + length) { return NGHTTP2_ERR_WOULDBLOCK.rawValue }
        let stream = frame.hd.stream_id
        guard let index = slotIndex(of: stream), slots[index].unframed >= length else {
            return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE.rawValue  // the body was dropped: reset the stream
        }
        output.appendOwned(UnsafeRawBufferPointer(start: header, count: 9))
        if padding > 0 {
            var padLength = UInt8(padding - 1)
            withUnsafeBytes(of: &padLength) { output.appendOwned($0) }
        }
        if slots[index].flags.contains(.localBody) {
            slots[index].frame(length) { base, count in
                output.appendOwned(UnsafeRawBufferPointer(start: base, count: count))
            }
        } else {
            slots[index].unwritten += length
            slots[index].frame(length) { base, count in
                output.appendBorrowed(base, count: count, stream: stream)
            }
        }
        if padding > 1 { output.appendOwnedZeros(padding - 1) }
        return 0
    }

    func onFrameSent(_ frame: nghttp2_frame) -> Int32 {
        let type = nghttp2_frame_type(rawValue: UInt32(frame.hd.type))
        if type == NGHTTP2_HEADERS || type == NGHTTP2_DATA {
            guard frame.hd.flags & UInt8(NGHTTP2_FLAG_END_STREAM.rawValue) != 0,
                  let index = slotIndex(of: frame.hd.stream_id) else { return 0 }
            slots[index].flags.insert([.localEnded, .endSent])
            let flags = slots[index].flags
            if flags.contains(.released) && !flags.contains(.remoteEnded) && !flags.contains(.closed) {
                // A complete response while the request is still coming: ask the client to stop (RFC 9113 §8.1).
                nghttp2_submit_rst_stream(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), frame.hd.stream_id,
                                          HTTP2ErrorCode.noError.rawValue)
            }
        } else if type == NGHTTP2_GOAWAY {
            emit(.goAwaySent(lastStreamID: frame.goaway.last_stream_id, error: HTTP2ErrorCode(rawValue: frame.goaway.error_code)))
        }
        return 0
    }

    /// A request that could not be sent (GOAWAY received, stream IDs exhausted) closes its stream: REFUSED_STREAM
    /// when it is safe to retry elsewhere.
    func onFrameNotSent(_ frame: nghttp2_frame, _ code: Int32) -> Int32 {
        guard role == .client, nghttp2_frame_type(rawValue: UInt32(frame.hd.type)) == NGHTTP2_HEADERS,
              frame.headers.cat == NGHTTP2_HCAT_REQUEST,
              let index = slotIndex(of: frame.hd.stream_id), !slots[index].flags.contains(.closed) else { return 0 }
        slots[index].flags.insert(.closed)
        if slots[index].flags.contains(.released) {
            freeSlot(index)
            return 0
        }
        let retryable = code == NGHTTP2_ERR_START_STREAM_NOT_ALLOWED.rawValue || code == NGHTTP2_ERR_STREAM_ID_NOT_AVAILABLE.rawValue
            || code == NGHTTP2_ERR_SESSION_CLOSING.rawValue
        emit(.streamClosed(stream: frame.hd.stream_id, error: retryable ? .refusedStream : .internalError))
        return 0
    }
}
