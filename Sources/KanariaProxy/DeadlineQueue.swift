/// One owner's place in a `DeadlineQueue`: an exchange (an HTTP/1.1 connection or an HTTP/2 stream) has one, made
/// once with the owner object and reused for every exchange it carries, and at most one pending deadline at a time.
final class DeadlineSlot {
    /// Who to tell when the deadline passes, as the worker's epoll tokens encode connections (an unretained
    /// object pointer with a tag in its low bits).
    let owner: UInt64
    /// Monotonic milliseconds; meaningful while `isScheduled`.
    fileprivate(set) var time: Int64 = 0
    /// Position in the queue's heap; -1 when not scheduled.
    fileprivate(set) var heapIndex = -1

    init(owner: UInt64) {
        self.owner = owner
    }

    var isScheduled: Bool { heapIndex >= 0 }
}

/// A worker's pending deadlines (route timeouts, per-try timeouts, retry back-offs): a binary min-heap of slots
/// that know their own position, so that rescheduling and cancelling are O(log n) and the heap never holds more
/// entries than there are owners waiting. Pure: time is whatever the caller says it is.
struct DeadlineQueue {
    private var heap: [DeadlineSlot] = []

    var isEmpty: Bool { heap.isEmpty }
    var count: Int { heap.count }

    /// The earliest pending time, if any.
    var nextTime: Int64? { heap.first?.time }

    /// Sets `slot`'s deadline to `time`, or cancels it when `time` is 0. Scheduling an already scheduled slot moves it.
    mutating func schedule(_ slot: DeadlineSlot, at time: Int64) {
        if time == 0 {
            cancel(slot)
            return
        }
        if slot.isScheduled {
            guard slot.time != time else { return }
            let earlier = time < slot.time
            slot.time = time
            if earlier { siftUp(slot.heapIndex) } else { siftDown(slot.heapIndex) }
            return
        }
        slot.time = time
        slot.heapIndex = heap.count
        heap.append(slot)
        siftUp(slot.heapIndex)
    }

    /// Removes `slot`'s deadline, if it has one.
    mutating func cancel(_ slot: DeadlineSlot) {
        let index = slot.heapIndex
        guard index >= 0 else { return }
        slot.heapIndex = -1
        let last = heap.removeLast()
        guard index < heap.count else { return }
        heap[index] = last
        last.heapIndex = index
        siftUp(index)
        siftDown(last.heapIndex)
    }

    /// Removes and returns the earliest slot whose time is before `now`; nil when none is due. Strictly before:
    /// the clock is in whole milliseconds, so a slot armed at reading r for d ms fires only once the clock has
    /// passed r + d, never less than d ms after it was armed.
    mutating func popDue(now: Int64) -> DeadlineSlot? {
        guard let first = heap.first, first.time < now else { return nil }
        cancel(first)
        return first
    }

    /// Milliseconds until the earliest deadline is due (0 when one is), or -1 when there is none: epoll_wait's
    /// timeout.
    func waitMilliseconds(now: Int64) -> Int32 {
        guard let next = heap.first?.time else { return -1 }
        return next < now ? 0 : Int32(clamping: next - now + 1)
    }

    private mutating func swapEntries(_ a: Int, _ b: Int) {
        heap.swapAt(a, b)
        heap[a].heapIndex = a
        heap[b].heapIndex = b
    }

    private mutating func siftUp(_ start: Int) {
        var child = start
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].time < heap[parent].time else { return }
            swapEntries(child, parent)
            child = parent
        }
    }

    private mutating func siftDown(_ start: Int) {
        var parent = start
        let count = heap.count
        while true {
            let left = 2 * parent + 1
            guard left < count else { return }
            let right = left + 1
            let smaller = right < count && heap[right].time < heap[left].time ? right : left
            guard heap[smaller].time < heap[parent].time else { return }
            swapEntries(smaller, parent)
            parent = smaller
        }
    }
}
