import CNghttp2
import KanariaHTTP

/// What the caller does with streams: submit heads, lend body bytes, consume received ones, end or reset them.
extension HTTP2Session {
    // MARK: Reading what was received

    /// Server: the request head of `stream`, in the layout the HTTP/1.1 parser produces (method, path, authority
    /// from :authority or Host, fields with their kinds and "name: value\r\n" lines). Valid until `release`; do not
    /// keep it across `receive` (trailers may grow the bytes).
    public func request(stream: Int32) -> RequestView? {
        guard role == .server, let index = slotIndex(of: stream), slots[index].flags.contains(.headReceived),
              !slots[index].flags.contains(.released) else { return nil }
        return RequestView(message: slots[index].headBytes, head: slots[index].request)
    }

    /// Server: the request's `:scheme` ("http", "https"), which `RequestHead` has no place for.
    public func scheme(stream: Int32) -> UnsafeRawBufferPointer? {
        guard role == .server, let index = slotIndex(of: stream), slots[index].flags.contains(.headReceived),
              !slots[index].flags.contains(.released) else { return nil }
        return slots[index].pseudo.scheme.bytes(in: slots[index].headBytes)
    }

    /// Client: the latest response head of `stream` (a 1xx one right after `.informationalResponse`). Its status
    /// line is "HTTP/1.1 NNN Reason\r\n", so `HeadRewriter` can forward it to an HTTP/1.1 client.
    public func response(stream: Int32) -> ResponseView? {
        guard role == .client, let index = slotIndex(of: stream), slots[index].response.status != 0,
              !slots[index].flags.contains(.released) else { return nil }
        return ResponseView(message: slots[index].headBytes, head: slots[index].response)
    }

    /// The trailers of `stream`, after `.trailers`.
    public func trailers(stream: Int32) -> TrailersView? {
        guard let index = slotIndex(of: stream), slots[index].flags.contains(.receivingTrailers),
              !slots[index].flags.contains(.released) else { return nil }
        return TrailersView(message: slots[index].headBytes, fields: slots[index].trailerFields)
    }

    /// The first contiguous run of body bytes buffered for `stream` (empty when none). The bytes stay at this
    /// address until consumed, so they can be offered to another session as they are.
    public func receivedBody(stream: Int32) -> UnsafeRawBufferPointer {
        guard let index = slotIndex(of: stream) else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        return slots[index].received.first
    }

    /// The contiguous run of buffered body bytes that starts `offset` bytes into what is buffered: a relay that
    /// has already offered `offset` bytes elsewhere (and not yet consumed them) offers this next.
    public func receivedBody(stream: Int32, from offset: Int) -> UnsafeRawBufferPointer {
        guard let index = slotIndex(of: stream) else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        return slots[index].received.run(from: offset)
    }

    /// All body bytes buffered for `stream`.
    public func receivedBodyCount(stream: Int32) -> Int {
        guard let index = slotIndex(of: stream) else { return 0 }
        return slots[index].received.count
    }

    /// `count` bytes from the front of the stream's buffered body were forwarded: drops them and lets the peer
    /// send as many more (WINDOW_UPDATE, once half a window has been consumed, as nghttp2 batches them).
    public func consume(stream: Int32, count: Int) {
        guard let index = slotIndex(of: stream) else { return }
        let n = min(count, slots[index].received.count)
        guard n > 0 else { return }
        slots[index].received.consume(n, pool: &pool)
        nghttp2_session_consume(session, stream, n)
    }

    // MARK: Submitting heads

    /// Server: submits the response head (or a 1xx head) for `stream`. With `endStream` false the body follows
    /// through `offerBody` and ends with `endOfBody` or `submitTrailers`.
    public func submitResponse(stream: Int32, headers: HTTP2HeaderBlock, endStream: Bool) throws(HTTP2Error) {
        guard role == .server else { throw .invalidState }
        guard let index = slotIndex(of: stream), !slots[index].flags.contains(.released),
              !slots[index].flags.contains(.closed) else { throw .unknownStream }
        let informational = headers.isInformationalResponse
        var provider = nghttp2_data_provider(source: nghttp2_data_source(ptr: nil), read_callback: Self.readCallback)
        let rv = withUnsafePointer(to: &provider) { provider in
            headers.withNameValues { nameValues, count -> Int32 in
                if informational {
                    return nghttp2_submit_headers(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), stream, nil, nameValues, count, nil)
                }
                return nghttp2_submit_response(session, stream, nameValues, count, endStream ? nil : provider)
            }
        }
        if rv < 0 { throw HTTP2Error(code: rv) }
        if informational { return }
        slots[index].flags.insert(endStream ? .localEnded : .providing)
    }

    /// Server: submits an HTTP/1.1 response head (from an upstream) converted to HTTP/2.
    public func submitResponse(
        stream: Int32, head: ResponseHead, message: UnsafeRawBufferPointer, endStream: Bool, omitting: HeaderKindSet = []
    ) throws(HTTP2Error) {
        scratchBlock.removeAll()
        scratchBlock.append(response: head, message: message, omitting: omitting)
        try submitResponse(stream: stream, headers: scratchBlock, endStream: endStream)
    }

    /// Server: answers `stream` with a short response of the proxy's own (404 no route, 503 no healthy upstream),
    /// whose body the session copies.
    public func submitLocalResponse(
        stream: Int32, status: Int, body: UnsafeRawBufferPointer, contentType: StaticString = "text/plain"
    ) throws(HTTP2Error) {
        guard role == .server else { throw .invalidState }
        guard let index = slotIndex(of: stream), !slots[index].flags.contains(.released) else { throw .unknownStream }
        scratchBlock.removeAll()
        scratchBlock.append(name: ":status", decimal: status)
        scratchBlock.append(name: "content-length", decimal: body.count)
        if body.count > 0 { scratchBlock.append(name: "content-type", value: contentType) }
        scratchBlock.append(name: "server", value: "kanaria")
        if body.count > 0 {
            slots[index].dropOffered()
            slots[index].localBody.clear()
            slots[index].localBody.append(body)
            slots[index].offer(slots[index].localBody.readable)
            slots[index].flags.insert([.localBody, .endOfBody])
        }
        try submitResponse(stream: stream, headers: scratchBlock, endStream: body.count == 0)
    }

    public func submitLocalResponse(stream: Int32, status: Int, body: String) throws(HTTP2Error) {
        var body = body
        var failure: HTTP2Error?
        body.withUTF8 { utf8 in
            do throws(HTTP2Error) {
                try submitLocalResponse(stream: stream, status: status, body: UnsafeRawBufferPointer(utf8))
            } catch {
                failure = error
            }
        }
        if let failure { throw failure }
    }

    /// The session answers a request itself (431): a head-only response, the stream never announced.
    func answerBySession(_ index: Int, stream: Int32, status: Int) {
        scratchBlock.removeAll()
        scratchBlock.append(name: ":status", decimal: status)
        scratchBlock.append(name: "content-length", decimal: 0)
        scratchBlock.append(name: "server", value: "kanaria")
        let rv = scratchBlock.withNameValues { nghttp2_submit_response(session, stream, $0, $1, nil) }
        slots[index].flags.insert([.answeredBySession, .released, .localEnded])
        if rv != 0 {
            nghttp2_submit_rst_stream(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), stream, HTTP2ErrorCode.internalError.rawValue)
        }
    }

    /// Client: whether a new request can be sent now (no GOAWAY received, below the peer's stream limit).
    public var canOpenStream: Bool {
        guard role == .client, nghttp2_session_check_request_allowed(session) != 0 else { return false }
        let limit = Int(nghttp2_session_get_remote_settings(session, NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS))
        return activeStreams < limit
    }

    /// Client: submits a request and returns its stream ID. With `endStream` false the body follows through
    /// `offerBody`. The stream is announced: it will get exactly one `.streamClosed`, then must be released.
    /// - Parameter method: the request's method (a response to HEAD has no body).
    public func submitRequest(headers: HTTP2HeaderBlock, method: HTTPMethod, endStream: Bool) throws(HTTP2Error) -> Int32 {
        guard role == .client else { throw .invalidState }
        let index = allocateSlot(stream: 0)
        slots[index].requestMethod = method
        var provider = nghttp2_data_provider(source: nghttp2_data_source(ptr: nil), read_callback: Self.readCallback)
        let stream = withUnsafePointer(to: &provider) { provider in
            headers.withNameValues { nameValues, count in
                nghttp2_submit_request(session, nil, nameValues, count, endStream ? nil : provider, Self.userData(slot: index))
            }
        }
        guard stream > 0 else {
            freeSlot(index)
            throw HTTP2Error(code: stream)
        }
        slots[index].streamID = stream
        slots[index].flags.insert([.announced, endStream ? .localEnded : .providing])
        return stream
    }

    /// Client: submits an HTTP/1.1 request head converted to HTTP/2 (see `HTTP2HeaderBlock.append(request:…)`).
    public func submitRequest(
        head: RequestHead, message: UnsafeRawBufferPointer, scheme: StaticString = "http",
        defaultAuthority: UnsafeRawBufferPointer = UnsafeRawBufferPointer(start: nil, count: 0),
        omitting: HeaderKindSet = [], endStream: Bool
    ) throws(HTTP2Error) -> Int32 {
        scratchBlock.removeAll()
        scratchBlock.append(request: head, message: message, scheme: scheme, defaultAuthority: defaultAuthority, omitting: omitting)
        return try submitRequest(headers: scratchBlock, method: head.method, endStream: endStream)
    }

    // MARK: Sending bodies

    /// Lends the session `bytes` more of the stream's body, to be sent without a copy. They must stay where they
    /// are, unchanged, until reported in `.bodyWritten` (or until `release(stream:)`, which copies what is still
    /// queued). `endOfBody`: nothing follows them (END_STREAM goes on their last frame).
    public func offerBody(stream: Int32, _ bytes: UnsafeRawBufferPointer, endOfBody: Bool = false) {
        guard let index = slotIndex(of: stream) else { return }
        let flags = slots[index].flags
        guard !flags.contains(.released), !flags.contains(.closed), !flags.contains(.endOfBody) else { return }
        slots[index].offer(bytes)
        if endOfBody { slots[index].flags.insert(.endOfBody) }
        resumeIfDeferred(index, stream: stream)
    }

    /// Ends the stream's body after the bytes already offered.
    public func finishBody(stream: Int32) {
        offerBody(stream: stream, UnsafeRawBufferPointer(start: nil, count: 0), endOfBody: true)
    }

    /// Ends the stream's body, after the bytes already offered, with trailers (gRPC's `grpc-status`). The
    /// session copies them.
    public func submitTrailers(stream: Int32, headers: HTTP2HeaderBlock) throws(HTTP2Error) {
        guard let index = slotIndex(of: stream), !slots[index].flags.contains(.released) else { throw .unknownStream }
        let flags = slots[index].flags
        guard flags.contains(.providing), !flags.contains(.endOfBody) else { throw .invalidState }
        if slots[index].trailerBlock == nil { slots[index].trailerBlock = HTTP2HeaderBlock(capacity: 256) }
        slots[index].trailerBlock!.copy(from: headers)
        slots[index].flags.insert([.trailersPending, .endOfBody])
        resumeIfDeferred(index, stream: stream)
    }

    /// Ends the stream's body with trailers received from HTTP/1.1 (chunked) or another HTTP/2 stream.
    public func submitTrailers(stream: Int32, fields: [HeaderField], message: UnsafeRawBufferPointer) throws(HTTP2Error) {
        scratchBlock.removeAll()
        scratchBlock.append(fields: fields, message: message)
        try submitTrailers(stream: stream, headers: scratchBlock)
    }

    /// Offered body bytes of the stream not yet written (framed or not).
    public func unwrittenBodyCount(stream: Int32) -> Int {
        guard let index = slotIndex(of: stream) else { return 0 }
        return slots[index].unframed + slots[index].unwritten
    }

    private func resumeIfDeferred(_ index: Int, stream: Int32) {
        guard slots[index].flags.contains(.deferred) else { return }
        slots[index].flags.remove(.deferred)
        nghttp2_session_resume_data(session, stream)
    }

    // MARK: Ending streams

    /// Resets the stream (RST_STREAM with `error`). It still gets its `.streamClosed`, then must be released.
    public func reset(stream: Int32, error: HTTP2ErrorCode = .cancel) {
        guard let index = slotIndex(of: stream), !slots[index].flags.contains(.closed) else { return }
        slots[index].flags.insert(.resetByCaller)
        nghttp2_submit_rst_stream(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), stream, error.rawValue)
    }

    /// The caller is done with the stream: its buffers go back to the session, received bytes left are dropped
    /// (and their window reopened), offered bytes still queued are copied so their source can go away.
    ///
    /// Release after `.streamClosed`, or earlier to end the stream: a server whose response is complete (its end
    /// submitted) lets it finish from copies and then, if the request is still coming, resets it with NO_ERROR
    /// (RFC 9113 §8.1); otherwise the stream is reset with CANCEL.
    public func release(stream: Int32) {
        guard let index = slotIndex(of: stream), !slots[index].flags.contains(.released) else { return }
        if slots[index].unwritten > 0 {
            counters.bodyBytesCopied += output.detach(stream: stream)
            slots[index].unwritten = 0
        }
        if slots[index].flags.contains(.closed) {
            freeSlot(index)
            return
        }
        slots[index].flags.insert(.released)
        let dropped = slots[index].received.removeAll(pool: &pool)
        if dropped > 0 { nghttp2_session_consume(session, stream, dropped) }
        let flags = slots[index].flags
        let complete = flags.contains(.localEnded) || (flags.contains(.providing) && flags.contains(.endOfBody))
        guard role == .server, complete else {
            slots[index].dropOffered()
            slots[index].flags.insert(.resetByCaller)
            nghttp2_submit_rst_stream(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), stream, HTTP2ErrorCode.cancel.rawValue)
            return
        }
        if slots[index].unframed > 0 && !flags.contains(.localBody) {
            counters.bodyBytesCopied += slots[index].unframed
            slots[index].moveOfferedIntoLocalBody()
        }
        if flags.contains(.endSent) && !flags.contains(.remoteEnded) {
            nghttp2_submit_rst_stream(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), stream, HTTP2ErrorCode.noError.rawValue)
        }
        resumeIfDeferred(index, stream: stream)
    }

    // MARK: The connection

    /// Server: tells the client a GOAWAY is coming (GOAWAY with the last stream ID 2^31-1), so that requests in
    /// flight are not refused; follow with `goAway()` after a round trip.
    public func sendShutdownNotice() {
        if role == .server { nghttp2_submit_shutdown_notice(session) }
    }

    /// Sends GOAWAY with the last stream ID processed: no new streams, open ones finish; then `isFinished`.
    public func goAway(error: HTTP2ErrorCode = .noError) {
        nghttp2_submit_goaway(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), nghttp2_session_get_last_proc_stream_id(session),
                              error.rawValue, nil, 0)
    }

    /// Ends the connection now: GOAWAY with `error`, and nothing read or sent after it.
    public func terminate(error: HTTP2ErrorCode) {
        nghttp2_session_terminate_session(session, error.rawValue)
    }
}
