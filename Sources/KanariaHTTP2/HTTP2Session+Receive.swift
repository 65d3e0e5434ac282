import CNghttp2
import KanariaHTTP

/// nghttp2's callbacks for received frames: heads are built into the stream's slot, bodies buffered, and events
/// queued. nghttp2 has already applied RFC 9113's messaging rules (pseudo-header fields, connection-specific
/// fields, content-length against DATA) before a head reaches `onFrameReceived`.
extension HTTP2Session {
    @inline(__always) static func from(_ user: UnsafeMutableRawPointer?) -> HTTP2Session {
        Unmanaged<HTTP2Session>.fromOpaque(user!).takeUnretainedValue()
    }

    static func install(_ callbacks: OpaquePointer?) {
        nghttp2_session_callbacks_set_on_begin_headers_callback(callbacks) { _, frame, user in
            HTTP2Session.from(user).onBeginHeaders(frame!.pointee)
        }
        nghttp2_session_callbacks_set_on_header_callback(callbacks) { _, frame, name, nameLength, value, valueLength, _, user in
            HTTP2Session.from(user).onHeader(frame!.pointee, UnsafeRawBufferPointer(start: name, count: nameLength),
                                UnsafeRawBufferPointer(start: value, count: valueLength))
        }
        nghttp2_session_callbacks_set_on_invalid_header_callback(callbacks) { _, _, _, _, _, _, _, user in
            // A field with characters RFC 9113 forbids: refuse the whole message (nghttp2 would only drop the field).
            HTTP2Session.from(user).counters.invalidHeaderFields += 1
            return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE.rawValue
        }
        nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks) { _, frame, user in
            HTTP2Session.from(user).onFrameReceived(frame!.pointee)
        }
        nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks) { _, _, stream, data, length, user in
            HTTP2Session.from(user).onData(stream, UnsafeRawBufferPointer(start: data, count: length))
        }
        nghttp2_session_callbacks_set_on_stream_close_callback(callbacks) { _, stream, code, user in
            HTTP2Session.from(user).onStreamClose(stream, HTTP2ErrorCode(rawValue: code))
        }
        installSendCallbacks(callbacks)
    }

    // MARK: Heads

    func onBeginHeaders(_ frame: nghttp2_frame) -> Int32 {
        let stream = frame.hd.stream_id
        switch frame.headers.cat {
        case NGHTTP2_HCAT_REQUEST:
            let index = allocateSlot(stream: stream)
            nghttp2_session_set_stream_user_data(session, stream, Self.userData(slot: index))
            slots[index].beginHead()
            counters.streamsOpened += 1
        case NGHTTP2_HCAT_RESPONSE:
            if let index = slotIndex(of: stream) { slots[index].beginHead() }
        case NGHTTP2_HCAT_HEADERS:
            guard let index = slotIndex(of: stream) else { break }
            if role == .client && !slots[index].flags.contains(.headReceived) {
                slots[index].beginHead()  // the final response after a 1xx
            } else {
                slots[index].beginTrailers()
            }
        default:
            break  // PUSH_PROMISE responses: push is disabled
        }
        return 0
    }

    func onHeader(_ frame: nghttp2_frame, _ name: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) -> Int32 {
        guard let index = slotIndex(of: frame.hd.stream_id), !slots[index].flags.contains(.released) else { return 0 }
        slots[index].addField(name: name, value: value, limits: configuration, isResponse: role == .client)
        return 0
    }

    func onFrameReceived(_ frame: nghttp2_frame) -> Int32 {
        let stream = frame.hd.stream_id
        let endStream = frame.hd.flags & UInt8(NGHTTP2_FLAG_END_STREAM.rawValue) != 0
        switch nghttp2_frame_type(rawValue: UInt32(frame.hd.type)) {
        case NGHTTP2_HEADERS:
            guard let index = slotIndex(of: stream), !slots[index].flags.contains(.released) else { return 0 }
            if slots[index].flags.contains(.receivingTrailers) {
                receivedTrailers(index, stream: stream)
            } else if role == .server {
                receivedRequestHead(index, stream: stream, endStream: endStream)
            } else {
                receivedResponseHead(index, stream: stream, endStream: endStream)
            }
        case NGHTTP2_DATA:
            guard endStream, let index = slotIndex(of: stream), !slots[index].flags.contains(.released) else { return 0 }
            remoteEnded(index, stream: stream)
        case NGHTTP2_GOAWAY:
            emit(.goAwayReceived(lastStreamID: frame.goaway.last_stream_id,
                                 error: HTTP2ErrorCode(rawValue: frame.goaway.error_code)))
        default:
            break
        }
        return 0
    }

    private func receivedRequestHead(_ index: Int, stream: Int32, endStream: Bool) {
        switch slots[index].finishRequestHead(endStream: endStream) {
        case 0:
            if endStream { slots[index].flags.insert(.remoteEnded) }
            slots[index].flags.insert([.announced, .headReceived])
            slots[index].headSequence = nextSequence
            counters.requestsDelivered += 1
            emit(.request(stream: stream))
            if endStream { emit(.endOfStream(stream: stream)) }
        case 431:
            counters.oversizedHeaderLists += 1
            if endStream { slots[index].flags.insert(.remoteEnded) }
            answerBySession(index, stream: stream, status: 431)
        default:
            counters.malformedRequests += 1
            resetBySession(index, stream: stream, error: .protocolError)
        }
    }

    private func receivedResponseHead(_ index: Int, stream: Int32, endStream: Bool) {
        let status = slots[index].finishResponseHead(endStream: endStream)
        guard status == 0 else {
            if status == 431 { counters.oversizedHeaderLists += 1 }
            resetBySession(index, stream: stream, error: status == 431 ? .internalError : .protocolError)
            return
        }
        if slots[index].response.isInformational {
            emit(.informationalResponse(stream: stream))
            return
        }
        slots[index].flags.insert(.headReceived)
        emit(.response(stream: stream))
        if endStream { remoteEnded(index, stream: stream) }
    }

    private func receivedTrailers(_ index: Int, stream: Int32) {
        guard slots[index].rejectStatus == 0 else {
            counters.oversizedHeaderLists += 1
            resetBySession(index, stream: stream, error: .protocolError)
            return
        }
        emit(.trailers(stream: stream))
        remoteEnded(index, stream: stream)  // nghttp2 requires END_STREAM on trailers
    }

    /// Resets a stream for something the peer sent; its close reports `error` whatever nghttp2 says.
    private func resetBySession(_ index: Int, stream: Int32, error: HTTP2ErrorCode) {
        slots[index].sessionResetCode = error.rawValue
        nghttp2_submit_rst_stream(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), stream, error.rawValue)
    }

    private func remoteEnded(_ index: Int, stream: Int32) {
        slots[index].flags.insert(.remoteEnded)
        emit(.endOfStream(stream: stream))
    }

    // MARK: Bodies

    func onData(_ stream: Int32, _ bytes: UnsafeRawBufferPointer) -> Int32 {
        guard let index = slotIndex(of: stream), !slots[index].flags.contains(.released) else {
            nghttp2_session_consume(session, stream, bytes.count)  // nobody will read it: reopen the windows now
            return 0
        }
        slots[index].received.append(bytes, pool: &pool)
        if let last = events.last, last == .data(stream: stream), events.count > eventCursor { return 0 }
        emit(.data(stream: stream))
        return 0
    }

    // MARK: Closing

    func onStreamClose(_ stream: Int32, _ error: HTTP2ErrorCode) -> Int32 {
        guard let index = slotIndex(of: stream), !slots[index].flags.contains(.closed) else { return 0 }
        slots[index].flags.insert(.closed)
        let sessionReset = slots[index].sessionResetCode
        let error = error == .noError && sessionReset != 0 ? HTTP2ErrorCode(rawValue: sessionReset) : error
        let flags = slots[index].flags
        if role == .server && error != .noError && !flags.contains(.resetByCaller) && !flags.contains(.localEnded) {
            counters.prematureResets += 1
            checkPrematureResets()
        }
        if flags.contains(.released) || !flags.contains(.announced) {
            freeSlot(index)
        } else if error != .noError && !isDelivered(slots[index].headSequence) {
            withdrawEvents(of: stream, from: slots[index].headSequence)
            freeSlot(index)
        } else if error == .noError && slots[index].unwritten > 0 {
            slots[index].flags.insert(.closeEventPending)  // announced once the last offered byte is written
        } else {
            emit(.streamClosed(stream: stream, error: error))
        }
        return 0
    }

    /// Ends the connection with GOAWAY(ENHANCE_YOUR_CALM) once the peer has ended at least
    /// `prematureResetLimit` streams early and those are at least half of the streams it opened.
    private func checkPrematureResets() {
        let resets = counters.prematureResets
        guard !terminating, resets >= configuration.prematureResetLimit, resets * 2 >= counters.streamsOpened else { return }
        terminating = true
        nghttp2_session_terminate_session(session, HTTP2ErrorCode.enhanceYourCalm.rawValue)
    }
}
