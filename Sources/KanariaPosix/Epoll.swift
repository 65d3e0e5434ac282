import CKanariaLinux
#if canImport(Glibc)
import Glibc
#endif

/// Readiness bits of an epoll event.
public struct EpollEvents: OptionSet, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let readable = EpollEvents(rawValue: EPOLLIN.rawValue)
    public static let writable = EpollEvents(rawValue: EPOLLOUT.rawValue)
    /// The peer shut down its writing side (or the whole connection).
    public static let peerHangUp = EpollEvents(rawValue: EPOLLRDHUP.rawValue)
    public static let hangUp = EpollEvents(rawValue: EPOLLHUP.rawValue)
    public static let error = EpollEvents(rawValue: EPOLLERR.rawValue)
    public static let edgeTriggered = EpollEvents(rawValue: EPOLLET.rawValue)
}

/// An epoll instance and a reusable array of events to wait into. One per event-loop thread; not thread-safe.
public struct Epoll: ~Copyable {
    public let fd: Int32
    private let events: UnsafeMutablePointer<epoll_event>
    public let capacity: Int

    public init(capacity: Int = 256) throws(Errno) {
        let fd = epoll_create1(Int32(EPOLL_CLOEXEC))
        guard fd >= 0 else { throw Errno.current }
        self.fd = fd
        self.capacity = capacity
        self.events = .allocate(capacity: capacity)
    }

    deinit {
        events.deallocate()
        Syscall.close(fd)
    }

    /// Starts watching `descriptor`; `token` comes back with its events.
    public func add(_ descriptor: Int32, events: EpollEvents, token: UInt64) throws(Errno) {
        guard ckanaria_epoll_ctl(fd, EPOLL_CTL_ADD, descriptor, events.rawValue, token) == 0 else { throw Errno.current }
    }

    public func modify(_ descriptor: Int32, events: EpollEvents, token: UInt64) throws(Errno) {
        guard ckanaria_epoll_ctl(fd, EPOLL_CTL_MOD, descriptor, events.rawValue, token) == 0 else { throw Errno.current }
    }

    public func remove(_ descriptor: Int32) {
        _ = ckanaria_epoll_ctl(fd, EPOLL_CTL_DEL, descriptor, 0, 0)
    }

    /// Waits up to `timeoutMilliseconds` (-1: forever) and returns how many events are ready; read them with
    /// `event(at:)`. EINTR returns 0.
    public func wait(timeoutMilliseconds: Int32) -> Int {
        let n = epoll_wait(fd, events, Int32(capacity), timeoutMilliseconds)
        return n < 0 ? 0 : Int(n)
    }

    @inline(__always)
    public func event(at index: Int) -> (token: UInt64, events: EpollEvents) {
        let event = events + index
        return (ckanaria_epoll_event_data(event), EpollEvents(rawValue: ckanaria_epoll_event_events(event)))
    }
}

/// An eventfd used to wake an event loop from another thread.
public final class EventNotifier: Sendable {
    public let fd: Int32

    public init() throws(Errno) {
        let fd = eventfd(0, Int32(EFD_NONBLOCK | EFD_CLOEXEC))
        guard fd >= 0 else { throw Errno.current }
        self.fd = fd
    }

    deinit { Syscall.close(fd) }

    /// Makes the descriptor readable; safe from any thread.
    public func signal() {
        var one: UInt64 = 1
        _ = Glibc.write(fd, &one, 8)
    }

    /// Clears it.
    public func drain() {
        var value: UInt64 = 0
        _ = Glibc.read(fd, &value, 8)
    }
}

/// A periodic timer descriptor on the monotonic clock: readable once per period.
public struct PeriodicTimer: ~Copyable {
    public let fd: Int32

    public init(periodMilliseconds: Int) throws(Errno) {
        let fd = timerfd_create(CLOCK_MONOTONIC, Int32(TFD_NONBLOCK | TFD_CLOEXEC))
        guard fd >= 0 else { throw Errno.current }
        let period = timespec(tv_sec: periodMilliseconds / 1000, tv_nsec: (periodMilliseconds % 1000) * 1_000_000)
        var spec = itimerspec(it_interval: period, it_value: period)
        guard timerfd_settime(fd, 0, &spec, nil) == 0 else {
            let error = Errno.current
            Syscall.close(fd)
            throw error
        }
        self.fd = fd
    }

    deinit { Syscall.close(fd) }

    /// Acknowledges the expirations so far.
    public func acknowledge() {
        var expirations: UInt64 = 0
        _ = Glibc.read(fd, &expirations, 8)
    }
}

/// Monotonic time in milliseconds, truncated (a vDSO read, no system call). Not the coarse clock: that one lags
/// by up to a scheduler tick, and a deadline armed from a lagging reading fires early.
@inline(__always)
public func monotonicMilliseconds() -> Int64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
}

/// Wall-clock time in microseconds since 1970-01-01T00:00:00Z (for access-log timestamps).
@inline(__always)
public func wallClockMicroseconds() -> Int64 {
    var now = timespec()
    clock_gettime(CLOCK_REALTIME_COARSE, &now)
    return Int64(now.tv_sec) * 1_000_000 + Int64(now.tv_nsec) / 1000
}

/// Monotonic time in nanoseconds (precise).
@inline(__always)
public func monotonicNanoseconds() -> UInt64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
}
