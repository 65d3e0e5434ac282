import KanariaHTTP

/// Everything a session keeps for one stream, in a slot that is reused by later streams: the received head in
/// the HTTP/1.1 layout the rest of the proxy reads, the received body, and the body being sent.
///
/// Slots live in an array owned by the session; their buffers are allocated when the slot is first used and kept,
/// so a stream on a warm connection allocates nothing here.
struct StreamSlot {
    struct Flags: OptionSet {
        var rawValue: UInt16
        /// The caller knows the stream: its head event was queued (server), or it submitted it (client).
        static let announced = Flags(rawValue: 1 << 0)
        /// The caller is done with the stream; the slot is freed once nghttp2 has closed it too.
        static let released = Flags(rawValue: 1 << 1)
        /// nghttp2 closed the stream.
        static let closed = Flags(rawValue: 1 << 2)
        /// The peer ended its side.
        static let remoteEnded = Flags(rawValue: 1 << 3)
        /// This side's END_STREAM is queued in nghttp2 or already produced.
        static let localEnded = Flags(rawValue: 1 << 4)
        /// The caller reset the stream.
        static let resetByCaller = Flags(rawValue: 1 << 5)
        /// The header block being received is trailers.
        static let receivingTrailers = Flags(rawValue: 1 << 6)
        /// A data provider is attached (a head was submitted without END_STREAM).
        static let providing = Flags(rawValue: 1 << 7)
        /// nghttp2 was told NGHTTP2_ERR_DEFERRED: resume when more body is offered.
        static let deferred = Flags(rawValue: 1 << 8)
        /// The caller will offer no more body bytes.
        static let endOfBody = Flags(rawValue: 1 << 9)
        /// Trailers wait in `trailerBlock` for the body to be queued.
        static let trailersPending = Flags(rawValue: 1 << 10)
        /// The body is the session's own (`localBody`), copied into frames rather than borrowed.
        static let localBody = Flags(rawValue: 1 << 11)
        /// The session answered the request itself (431): no caller involvement, freed on close.
        static let answeredBySession = Flags(rawValue: 1 << 12)
        /// The request head (server) or final response head (client) was received whole.
        static let headReceived = Flags(rawValue: 1 << 13)
        /// The frame carrying this side's END_STREAM was produced.
        static let endSent = Flags(rawValue: 1 << 14)
        /// Closed without error while offered bytes were still queued: `.streamClosed` waits for their writing.
        static let closeEventPending = Flags(rawValue: 1 << 15)
    }

    /// The pseudo-header fields and framing facts gathered while a head is received.
    struct Pseudo {
        var method = ByteSpan.empty
        var scheme = ByteSpan.empty
        var authority = ByteSpan.empty
        var path = ByteSpan.empty
        var hasMethod = false
        var hasPath = false
        var hasAuthority = false
        var status = 0
        var contentLength = -1
        var host = ByteSpan.empty
        var hostCount = 0
        var cookieCount = 0
        var expectsContinue = false
    }

    struct Region {
        var base: UnsafeRawPointer
        var count: Int
    }

    var streamID: Int32 = 0
    var flags: Flags = []
    /// Sequence number of the head event, to tell whether the caller has seen it yet.
    var headSequence = -1
    /// While a head is received: 0, or the status to refuse it with (431 too large, 400 malformed).
    var rejectStatus = 0
    /// The error the session reset the stream with itself (0: none): reported on close even if nghttp2 closes
    /// the stream normally first (a rejected response head that carried END_STREAM).
    var sessionResetCode: UInt32 = 0
    var listSize = 0
    var fieldCount = 0

    /// The received head (and trailers after it) in HTTP/1.1 layout: pseudo-header values, then one
    /// "name: value\r\n" line per field, so that `HeaderField.line` can be forwarded to HTTP/1.1 unchanged.
    /// A response starts with a status line "HTTP/1.1 200 OK\r\n".
    var head: ByteBuffer
    var request = RequestHead()
    var response = ResponseHead()
    var trailerFields: [HeaderField] = []
    var pseudo = Pseudo()
    var received = ReceivedBody()
    /// Client: the method of the request, which decides whether the response can have a body.
    var requestMethod = HTTPMethod.get

    /// Body offered by the caller, in order; `regionHead`/`regionOffset` mark the first byte not yet framed.
    var regions: [Region] = []
    var regionHead = 0
    var regionOffset = 0
    /// Offered bytes not yet put in a DATA frame.
    var unframed = 0
    /// Offered bytes framed (queued for output) and not yet written.
    var unwritten = 0
    var trailerBlock: HTTP2HeaderBlock?
    /// A body the session answers with itself, sent by copying.
    var localBody = ByteBuffer(capacity: 64)

    /// Buffers larger than this are freed when the slot is reset rather than kept for the next stream.
    static let keptCapacity = 16 * 1024

    init() {
        head = ByteBuffer(capacity: 1024)
        request.headers.reserveCapacity(16)
    }

    func deallocate() {
        head.deallocate()
        localBody.deallocate()
    }

    var headBytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: head.base, count: head.writeIndex) }

    // MARK: Sending a body

    /// The caller offers `bytes` more of the body.
    mutating func offer(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        if regionHead == regions.count {
            regions.removeAll(keepingCapacity: true)
            regionHead = 0
            regionOffset = 0
        }
        regions.append(Region(base: base, count: bytes.count))
        unframed += bytes.count
    }

    /// Takes the next `count` offered bytes for a DATA frame, calling `body` with each contiguous run.
    mutating func frame(_ count: Int, _ body: (UnsafeRawPointer, Int) -> Void) {
        var remaining = count
        unframed -= count
        while remaining > 0 {
            let region = regions[regionHead]
            let n = min(remaining, region.count - regionOffset)
            body(region.base + regionOffset, n)
            remaining -= n
            regionOffset += n
            if regionOffset == region.count {
                regionHead += 1
                regionOffset = 0
            }
        }
    }

    /// Copies the offered bytes not framed yet into `localBody`, so that the caller's source can go away; the
    /// rest of the body is then sent from here.
    mutating func moveOfferedIntoLocalBody() {
        localBody.clear()
        localBody.reserve(unframed)
        let total = unframed
        while regionHead < regions.count {
            let region = regions[regionHead]
            localBody.append(UnsafeRawBufferPointer(start: region.base + regionOffset, count: region.count - regionOffset))
            regionHead += 1
            regionOffset = 0
        }
        regions.removeAll(keepingCapacity: true)
        regionHead = 0
        if total > 0 { regions.append(Region(base: UnsafeRawPointer(localBody.base), count: total)) }
        flags.insert(.localBody)
    }

    /// Forgets the offered body that is not framed yet.
    mutating func dropOffered() {
        regions.removeAll(keepingCapacity: true)
        regionHead = 0
        regionOffset = 0
        unframed = 0
    }

    /// Makes the slot ready for another stream; buffers and array capacity are kept.
    mutating func reset(pool: inout BlockPool) -> Int {
        let dropped = received.removeAll(pool: &pool)
        streamID = 0
        flags = []
        sessionResetCode = 0
        headSequence = -1
        beginHead()
        trailerFields.removeAll(keepingCapacity: true)
        dropOffered()
        unwritten = 0
        localBody.clear()
        requestMethod = .get
        // A slot that once held an unusually large head or local body gives the memory back.
        if head.capacity > Self.keptCapacity {
            head.deallocate()
            head = ByteBuffer(capacity: 1024)
        }
        if localBody.capacity > Self.keptCapacity {
            localBody.deallocate()
            localBody = ByteBuffer(capacity: 64)
        }
        return dropped
    }
}
