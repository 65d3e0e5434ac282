/// Fixed-size blocks of memory for received body bytes, shared by a session's streams and kept for reuse.
///
/// Blocks never move once filled, so the bytes of a stream's body stay where they are until consumed: another
/// session can send them with NO_COPY straight from here (h2 in, h2 out).
struct BlockPool {
    static let blockSize = 16 * 1024
    private var free: [UnsafeMutableRawPointer] = []
    /// Blocks allocated and not yet freed (in use or kept for reuse).
    private(set) var allocated = 0

    mutating func take() -> UnsafeMutableRawPointer {
        if let block = free.popLast() { return block }
        allocated += 1
        return UnsafeMutableRawPointer.allocate(byteCount: Self.blockSize, alignment: 16)
    }

    /// Blocks kept for reuse beyond this are freed: 64 blocks hold a whole default connection window (1 MiB).
    static let keptBlocks = 64

    mutating func give(_ block: UnsafeMutableRawPointer) {
        if free.count < Self.keptBlocks {
            free.append(block)
        } else {
            block.deallocate()
            allocated -= 1
        }
    }

    func deallocateAll() {
        for block in free { block.deallocate() }
    }
}

/// A stream's received, not yet consumed body bytes: a queue of pool blocks, filled at the back and consumed at
/// the front. Its size is bounded by the stream's flow-control window, since the window only reopens as bytes
/// are consumed.
struct ReceivedBody {
    struct Block {
        var base: UnsafeMutableRawPointer
        var start: Int
        var end: Int
    }

    private var blocks: [Block] = []
    /// Bytes buffered and not consumed.
    private(set) var count = 0

    /// The first contiguous run of buffered bytes (empty when nothing is buffered).
    var first: UnsafeRawBufferPointer {
        guard let block = blocks.first else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        return UnsafeRawBufferPointer(start: block.base + block.start, count: block.end - block.start)
    }

    /// The contiguous run of buffered bytes that starts `offset` bytes after the first one (empty at the end).
    func run(from offset: Int) -> UnsafeRawBufferPointer {
        var skip = offset
        for block in blocks {
            let available = block.end - block.start
            if skip < available {
                return UnsafeRawBufferPointer(start: block.base + block.start + skip, count: available - skip)
            }
            skip -= available
        }
        return UnsafeRawBufferPointer(start: nil, count: 0)
    }

    mutating func append(_ bytes: UnsafeRawBufferPointer, pool: inout BlockPool) {
        guard var source = bytes.baseAddress else { return }
        var remaining = bytes.count
        count += remaining
        while remaining > 0 {
            if blocks.isEmpty || blocks[blocks.count - 1].end == BlockPool.blockSize {
                blocks.append(Block(base: pool.take(), start: 0, end: 0))
            }
            let last = blocks.count - 1
            let n = min(remaining, BlockPool.blockSize - blocks[last].end)
            (blocks[last].base + blocks[last].end).copyMemory(from: source, byteCount: n)
            blocks[last].end += n
            source += n
            remaining -= n
        }
    }

    /// Drops `n` bytes from the front (at most `count`); emptied blocks go back to the pool, except the last,
    /// which is rewound and kept for the next bytes.
    mutating func consume(_ n: Int, pool: inout BlockPool) {
        var n = min(n, count)
        count -= n
        while n > 0 {
            let available = blocks[0].end - blocks[0].start
            if n < available {
                blocks[0].start += n
                return
            }
            n -= available
            if blocks.count == 1 {
                blocks[0].start = 0
                blocks[0].end = 0
            } else {
                pool.give(blocks.removeFirst().base)
            }
        }
        if count == 0, blocks.count == 1, blocks[0].start == blocks[0].end {
            blocks[0].start = 0
            blocks[0].end = 0
        }
    }

    /// Drops everything and returns every block to the pool. Returns how many bytes were dropped.
    mutating func removeAll(pool: inout BlockPool) -> Int {
        let dropped = count
        for block in blocks { pool.give(block.base) }
        blocks.removeAll(keepingCapacity: true)
        count = 0
        return dropped
    }
}
