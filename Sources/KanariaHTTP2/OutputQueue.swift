import KanariaHTTP

/// The bytes a session has produced and the caller has not written yet, in order: runs of owned bytes (frame
/// headers and every non-DATA frame, copied into one buffer) and borrowed runs (DATA payload where the caller's
/// source already holds it). The caller gathers them as iovecs, writes, and reports how many bytes went out.
///
/// Owned bytes are consumed from the front of `owned` in the order their segments appear, so an owned segment
/// needs no address: it starts where the previous owned segment ended.
struct OutputQueue {
    enum Kind: UInt8 {
        /// Bytes in `owned`.
        case owned
        /// Body bytes of a stream, at the caller's address; reported written per stream.
        case borrowed
        /// Body bytes copied out of a released stream's source into their own allocation, freed once written.
        case copied
    }

    struct Segment {
        var kind: Kind
        var stream: Int32
        var base: UnsafeRawPointer?
        var count: Int
        /// For `.copied`: the allocation to free.
        var allocation: UnsafeMutableRawPointer?
    }

    private(set) var owned: ByteBuffer
    private var segments: [Segment] = []
    private var head = 0
    /// Bytes queued and not yet written.
    private(set) var pendingBytes = 0

    static let initialCapacity = 4 * 1024
    static let keptCapacity = 64 * 1024

    init() {
        owned = ByteBuffer(capacity: Self.initialCapacity)
    }

    func deallocate() {
        for index in head..<segments.count where segments[index].kind == .copied {
            segments[index].allocation?.deallocate()
        }
        owned.deallocate()
    }

    var isEmpty: Bool { pendingBytes == 0 }
    var segmentCount: Int { segments.count - head }

    mutating func appendOwned(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count > 0 else { return }
        owned.append(bytes)
        pendingBytes += bytes.count
        if head < segments.count, segments[segments.count - 1].kind == .owned {
            segments[segments.count - 1].count += bytes.count
        } else {
            segments.append(Segment(kind: .owned, stream: 0, base: nil, count: bytes.count, allocation: nil))
        }
    }

    mutating func appendOwnedZeros(_ count: Int) {
        guard count > 0 else { return }
        owned.reserve(count)
        owned.writable.baseAddress!.initializeMemory(as: UInt8.self, repeating: 0, count: count)
        owned.didWrite(count)
        pendingBytes += count
        if head < segments.count, segments[segments.count - 1].kind == .owned {
            segments[segments.count - 1].count += count
        } else {
            segments.append(Segment(kind: .owned, stream: 0, base: nil, count: count, allocation: nil))
        }
    }

    mutating func appendBorrowed(_ base: UnsafeRawPointer, count: Int, stream: Int32) {
        guard count > 0 else { return }
        pendingBytes += count
        segments.append(Segment(kind: .borrowed, stream: stream, base: base, count: count, allocation: nil))
    }

    /// Fills `chunks` with the pending bytes in order, at most `maxChunks` runs; returns how many bytes they hold.
    func gather(into chunks: inout [UnsafeRawBufferPointer], maxChunks: Int) -> Int {
        chunks.removeAll(keepingCapacity: true)
        var ownedOffset = owned.readIndex
        var total = 0
        var index = head
        while index < segments.count && chunks.count < maxChunks {
            let segment = segments[index]
            if segment.kind == .owned {
                chunks.append(UnsafeRawBufferPointer(start: owned.base + ownedOffset, count: segment.count))
                ownedOffset += segment.count
            } else {
                chunks.append(UnsafeRawBufferPointer(start: segment.base, count: segment.count))
            }
            total += segment.count
            index += 1
        }
        return total
    }

    /// Drops `count` written bytes from the front. Borrowed bytes written are added to `written` as
    /// (stream, bytes), one entry per run.
    mutating func didWrite(_ count: Int, written: inout [(stream: Int32, count: Int)]) {
        var remaining = min(count, pendingBytes)
        pendingBytes -= remaining
        while remaining > 0 {
            let take = min(remaining, segments[head].count)
            remaining -= take
            switch segments[head].kind {
            case .owned:
                owned.consume(take)
            case .borrowed:
                let stream = segments[head].stream
                if let last = written.last, last.stream == stream {
                    written[written.count - 1].count += take
                } else {
                    written.append((stream, take))
                }
                segments[head].base! += take
            case .copied:
                segments[head].base! += take
            }
            segments[head].count -= take
            if segments[head].count == 0 {
                if segments[head].kind == .copied { segments[head].allocation?.deallocate() }
                head += 1
            }
        }
        if head == segments.count {
            segments.removeAll(keepingCapacity: true)
            head = 0
            if owned.capacity > Self.keptCapacity {
                // A burst of owned output (many heads, local bodies) gives its memory back once written.
                owned.deallocate()
                owned = ByteBuffer(capacity: Self.initialCapacity)
            }
        } else if head >= 256 && head * 2 >= segments.count {
            segments.removeSubrange(0..<head)
            head = 0
        }
    }

    /// Copies the stream's borrowed bytes that are still queued into allocations of their own, so that its
    /// source can go away (the stream was released). Returns how many bytes were copied.
    @discardableResult
    mutating func detach(stream: Int32) -> Int {
        var copied = 0
        for index in head..<segments.count where segments[index].kind == .borrowed && segments[index].stream == stream {
            let count = segments[index].count
            let allocation = UnsafeMutableRawPointer.allocate(byteCount: count, alignment: 1)
            allocation.copyMemory(from: segments[index].base!, byteCount: count)
            segments[index].kind = .copied
            segments[index].base = UnsafeRawPointer(allocation)
            segments[index].allocation = allocation
            copied += count
        }
        return copied
    }

    /// Borrowed bytes of `stream` still queued.
    func borrowedBytes(of stream: Int32) -> Int {
        var total = 0
        for index in head..<segments.count where segments[index].kind == .borrowed && segments[index].stream == stream {
            total += segments[index].count
        }
        return total
    }
}
