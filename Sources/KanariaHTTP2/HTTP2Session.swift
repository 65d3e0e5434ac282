import CNghttp2
import Glibc
import KanariaHTTP

/// One HTTP/2 connection as nghttp2 sees it, with no socket: bytes in, events out; submissions in, bytes out.
///
/// Downstream the proxy is the `.server` (clients send requests), upstream the `.client` (to an h2c upstream).
/// The event loop drives it:
/// 1. `receive(_:)` the bytes read from the socket; drain `nextEvent()`.
/// 2. Act on the events: route `.request`, forward `.data` from `receivedBody(stream:)` and `consume` what went
///    out, `submitResponse`/`offerBody`/`submitTrailers` what the other side produced, `release` finished streams.
/// 3. `prepareOutput()`, then `gatherOutput(into:)` → writev → `didWrite(_:)`; drain `nextEvent()` again
///    (`.bodyWritten` tells which offered bytes went out, so their source can drop them). Repeat while
///    `pendingOutputBytes > 0` and the socket takes more; call `prepareOutput()` again after writing, since
///    output stops at `configuration.outputLimit`.
/// 4. When `isFinished`, close the connection.
///
/// Flow control follows the proxy's progress: nghttp2's automatic WINDOW_UPDATE is off and a window reopens only
/// as `consume(stream:count:)` reports bytes forwarded, so a peer can never have more than a window of body
/// buffered here. DATA is sent without a copy: `offerBody` lends the session the caller's bytes, which become
/// iovecs of the output and are reported back in `.bodyWritten` once written.
///
/// The rules that keep borrowed bytes valid:
/// - Offered bytes stay where they are until `.bodyWritten` reports them (a `ByteBuffer` source must not be
///   compacted or grown meanwhile: read only into its free tail) or until the stream is released.
/// - Received bytes (`receivedBody`) stay where they are until consumed, so they can be offered to another session
///   as they are. A stream whose received bytes were offered elsewhere is released after the stream they were
///   offered to: a normal `.streamClosed` comes only once a stream's offered bytes are written, and releasing a
///   stream copies whatever it still has queued.
/// - Spans of a `RequestView`/`ResponseView` are valid until the next `receive` (trailers may grow the bytes).
/// - `gatherOutput` chunks are valid until `didWrite` or the next call that produces output.
public final class HTTP2Session {
    public enum Role: Sendable { case server, client }

    public let role: Role
    public let configuration: HTTP2Configuration
    /// The nghttp2 session (`nghttp2_session *`).
    var session: OpaquePointer!
    var slots: [StreamSlot] = []
    var freeSlots: [Int] = []
    /// Slots in use (streams known to the caller or still open in nghttp2).
    public private(set) var activeStreams = 0
    var pool = BlockPool()
    var output: OutputQueue
    var events: [HTTP2Event?] = []
    var eventCursor = 0
    /// Sequence number of `events[0]`: events are numbered from the session's start.
    var eventBase = 0
    var written: [(stream: Int32, count: Int)] = []
    /// For the `head:` conveniences and local answers.
    let scratchBlock = HTTP2HeaderBlock()
    public internal(set) var counters = HTTP2Counters()
    /// nghttp2's allocations, counted by the allocator the session gives it.
    let allocationCount: UnsafeMutablePointer<Int>
    var terminating = false
    /// Server: the stream IDs the client has used and skipped (RFC 9113 §5.1.1).
    var clientStreamIDs = ClientStreamIDs()

    /// - Parameters:
    ///   - role: `.server` for a connection a client opened, `.client` for one to an upstream.
    ///   - configuration: windows and limits; SETTINGS are queued at once and go out with the first output.
    public init(role: Role, configuration: HTTP2Configuration = HTTP2Configuration()) {
        self.role = role
        self.configuration = configuration
        output = OutputQueue()
        allocationCount = .allocate(capacity: 1)
        allocationCount.initialize(to: 0)
        events.reserveCapacity(64)
        written.reserveCapacity(16)
        let rv = createSession()
        precondition(rv == 0, "nghttp2 session: \(HTTP2Error(code: rv))")
        submitInitialSettings()
    }

    deinit {
        nghttp2_session_del(session)
        for slot in slots {
            var slot = slot
            _ = slot.received.removeAll(pool: &pool)
            slot.deallocate()
        }
        pool.deallocateAll()
        output.deallocate()
        allocationCount.deallocate()
    }

    private func createSession() -> Int32 {
        var options: OpaquePointer?
        nghttp2_option_new(&options)
        defer { nghttp2_option_del(options) }
        nghttp2_option_set_no_auto_window_update(options, 1)
        nghttp2_option_set_max_continuations(options, configuration.maxContinuations)
        if role == .server {
            nghttp2_option_set_stream_reset_rate_limit(options, configuration.streamResetBurst, configuration.streamResetRate)
        } else {
            nghttp2_option_set_no_closed_streams(options, 1)  // a server keeps them: see `submitInitialSettings`
        }

        var callbacks: OpaquePointer?
        nghttp2_session_callbacks_new(&callbacks)
        defer { nghttp2_session_callbacks_del(callbacks) }
        Self.install(callbacks)
        if role == .server { Self.installConformanceChecks(callbacks) }

        var memory = nghttp2_mem(
            mem_user_data: UnsafeMutableRawPointer(allocationCount),
            malloc: { size, counter in
                counter!.assumingMemoryBound(to: Int.self).pointee += 1
                return malloc(size)
            },
            free: { pointer, _ in free(pointer) },
            calloc: { count, size, counter in
                counter!.assumingMemoryBound(to: Int.self).pointee += 1
                return calloc(count, size)
            },
            realloc: { pointer, size, counter in
                if pointer == nil { counter!.assumingMemoryBound(to: Int.self).pointee += 1 }
                return realloc(pointer, size)
            })
        let user = Unmanaged.passUnretained(self).toOpaque()
        var created: OpaquePointer?
        let rv = role == .server
            ? nghttp2_session_server_new3(&created, callbacks, user, options, &memory)
            : nghttp2_session_client_new3(&created, callbacks, user, options, &memory)
        session = created
        return rv
    }

    /// A server does not send SETTINGS_NO_RFC7540_PRIORITIES: nghttp2 then keeps closed streams (at most
    /// `maxConcurrentStreams` streams, open and closed together, 224 bytes each in nghttp2 1.52) and answers frames
    /// on them with STREAM_CLOSED (RFC 9113 §5.1), and it checks PRIORITY frames (stream 0, a stream depending on
    /// itself). With the setting sent, nghttp2 forgets a stream as soon as it closes, and
    /// `nghttp2_option_set_server_fallback_rfc7540_priorities` does not change that: it only brings back PRIORITY
    /// processing for clients that do not send the setting themselves. A client sends it (upstream sessions keep
    /// no closed streams).
    private func submitInitialSettings() {
        var settings: [nghttp2_settings_entry] = [
            nghttp2_settings_entry(settings_id: Int32(NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE.rawValue),
                                   value: UInt32(configuration.initialStreamWindowSize)),
            nghttp2_settings_entry(settings_id: Int32(NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE.rawValue),
                                   value: UInt32(configuration.maxHeaderListSize)),
        ]
        if role == .server {
            settings.append(nghttp2_settings_entry(settings_id: Int32(NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS.rawValue),
                                                   value: configuration.maxConcurrentStreams))
        } else {
            settings.append(nghttp2_settings_entry(settings_id: Int32(NGHTTP2_SETTINGS_ENABLE_PUSH.rawValue), value: 0))
            settings.append(nghttp2_settings_entry(settings_id: Int32(NGHTTP2_SETTINGS_NO_RFC7540_PRIORITIES.rawValue),
                                                   value: 1))
        }
        let rv = nghttp2_submit_settings(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), settings, settings.count)
        precondition(rv == 0, "nghttp2 SETTINGS: \(HTTP2Error(code: rv))")
        if configuration.connectionWindowSize > 65_535 {
            _ = nghttp2_session_set_local_window_size(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), 0,
                                                      Int32(configuration.connectionWindowSize))
        }
    }

    // MARK: Bytes in

    /// Processes bytes read from the peer; events are queued for `nextEvent()`.
    /// - Returns: how many bytes were processed (all of them unless the session is torn down).
    /// - Throws: when the connection cannot go on (bad preface, a flood, …); write what `prepareOutput()` still
    ///   produces, then close.
    @discardableResult
    public func receive(_ bytes: UnsafeRawBufferPointer) throws(HTTP2Error) -> Int {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return 0 }
        let n = nghttp2_session_mem_recv(session, base.assumingMemoryBound(to: UInt8.self), bytes.count)
        if n < 0 { throw HTTP2Error(code: Int32(n)) }
        return n
    }

    // MARK: Events out

    /// The next event, in order; nil when all have been drained.
    public func nextEvent() -> HTTP2Event? {
        while eventCursor < events.count {
            let event = events[eventCursor]
            eventCursor += 1
            if let event { return event }
        }
        if !events.isEmpty {
            eventBase += events.count
            events.removeAll(keepingCapacity: true)
            eventCursor = 0
        }
        return nil
    }

    @inline(__always) func emit(_ event: HTTP2Event) { events.append(event) }

    @inline(__always) var nextSequence: Int { eventBase + events.count }

    /// Whether the caller has drained the event with this sequence number (-1: nothing to drain).
    @inline(__always) func isDelivered(_ sequence: Int) -> Bool { sequence < eventBase + eventCursor }

    /// Takes back the undelivered events of a stream the caller never saw: it was reset before its head event
    /// was drained, so for the caller it never existed.
    func withdrawEvents(of stream: Int32, from sequence: Int) {
        var index = max(sequence - eventBase, eventCursor)
        while index < events.count {
            if events[index]?.streamID == stream { events[index] = nil }
            index += 1
        }
    }

    // MARK: Bytes out

    /// Lets nghttp2 produce every frame it can (up to `configuration.outputLimit` of pending output) into the
    /// output queue.
    public func prepareOutput() throws(HTTP2Error) {
        let rv = nghttp2_session_send(session)
        if rv < 0 { throw HTTP2Error(code: rv) }
    }

    /// Bytes produced and not yet written.
    public var pendingOutputBytes: Int { output.pendingBytes }

    /// Fills `chunks` with the pending output in order (at most `maxChunks` runs, for one writev), returning their
    /// total size. Owned runs point into the session's buffer, borrowed runs at the callers' body bytes; they stay
    /// valid until `didWrite(_:)` or the next call that produces output.
    @discardableResult
    public func gatherOutput(into chunks: inout [UnsafeRawBufferPointer], maxChunks: Int = 64) -> Int {
        output.gather(into: &chunks, maxChunks: maxChunks)
    }

    /// `count` bytes from the front of the pending output were written. Queues `.bodyWritten` for the body bytes
    /// among them.
    public func didWrite(_ count: Int) {
        written.removeAll(keepingCapacity: true)
        output.didWrite(count, written: &written)
        for (stream, n) in written {
            guard let index = slotIndex(of: stream), !slots[index].flags.contains(.released) else { continue }
            slots[index].unwritten -= n
            emit(.bodyWritten(stream: stream, count: n))
            if slots[index].unwritten == 0 && slots[index].flags.contains(.closeEventPending) {
                slots[index].flags.remove(.closeEventPending)
                emit(.streamClosed(stream: stream, error: .noError))
            }
        }
    }

    /// nghttp2 wants to read more (false once the connection is being torn down and all streams are done).
    public var wantsRead: Bool { nghttp2_session_want_read(session) != 0 }

    /// There is output to produce or to write.
    public var wantsWrite: Bool { nghttp2_session_want_write(session) != 0 || !output.isEmpty }

    /// Nothing more will be read or written: close the connection.
    public var isFinished: Bool {
        nghttp2_session_want_read(session) == 0 && nghttp2_session_want_write(session) == 0 && output.isEmpty
    }

    /// Allocations nghttp2 has made for this session so far.
    public var nghttp2Allocations: Int { allocationCount.pointee }

    /// Server: streams whose head has begun but not completed (a HEADERS frame waiting for its CONTINUATIONs): for the
    /// proxy's header timeout, which a client trickling a header block would otherwise dodge. Scans the slots.
    public var incompleteHeads: Int {
        guard role == .server else { return 0 }
        var count = 0
        for slot in slots where slot.streamID != 0 && slot.flags.isDisjoint(with: [.headReceived, .released, .closed]) {
            count += 1
        }
        return count
    }

    /// Stream slots allocated (kept for reuse): the most streams this session has had at once.
    public var slotsAllocated: Int { slots.count }

    /// Pool blocks allocated for received bodies (kept for reuse).
    public var bodyBlocksAllocated: Int { pool.allocated }

    // MARK: Slots

    /// The slot of a stream: through nghttp2's stream user data while nghttp2 has the stream, else by a scan
    /// (a closed stream the caller has not released, or a request not yet sent).
    @inline(__always) func slotIndex(of stream: Int32) -> Int? {
        if let user = nghttp2_session_get_stream_user_data(session, stream) {
            let index = Int(bitPattern: user) - 1
            if index < slots.count && slots[index].streamID == stream { return index }
        }
        guard stream != 0 else { return nil }
        for index in slots.indices where slots[index].streamID == stream { return index }
        return nil
    }

    func allocateSlot(stream: Int32) -> Int {
        let index: Int
        if let free = freeSlots.popLast() {
            index = free
        } else {
            slots.append(StreamSlot())
            index = slots.count - 1
        }
        slots[index].streamID = stream
        activeStreams += 1
        return index
    }

    @inline(__always) static func userData(slot index: Int) -> UnsafeMutableRawPointer? {
        UnsafeMutableRawPointer(bitPattern: index + 1)
    }

    /// Frees a slot; body bytes still buffered are consumed so that the connection window reopens.
    func freeSlot(_ index: Int) {
        let stream = slots[index].streamID
        let dropped = slots[index].reset(pool: &pool)
        if stream != 0 {
            if dropped > 0 { nghttp2_session_consume(session, stream, dropped) }
            if nghttp2_session_get_stream_user_data(session, stream) != nil {
                nghttp2_session_set_stream_user_data(session, stream, nil)
            }
        }
        freeSlots.append(index)
        activeStreams -= 1
        if activeStreams == 0 && slots.count > Self.slotsKeptIdle { releaseIdleMemory() }
    }

    /// Slots a session keeps once its streams have all ended; the rest (each with its head buffer) are given back
    /// then, so a connection that once ran 100 streams costs, idle, about what one that ran 16 does. 16 is above
    /// the concurrency clients usually keep (h2load -m10, browsers' bursts), so a busy connection that goes idle
    /// between bursts does not allocate its slots again each time.
    public static let slotsKeptIdle = 16

    /// Frees the slots beyond `slotsKeptIdle` when no stream holds one (as the last stream ends). Every index is
    /// free then, and nghttp2 holds no slot index as stream user data (`freeSlot` clears it).
    public func releaseIdleMemory() {
        guard activeStreams == 0, slots.count > Self.slotsKeptIdle else { return }
        for index in Self.slotsKeptIdle..<slots.count { slots[index].deallocate() }
        slots.removeLast(slots.count - Self.slotsKeptIdle)
        freeSlots.removeAll(keepingCapacity: true)
        freeSlots.append(contentsOf: (0..<Self.slotsKeptIdle).reversed())
    }
}
