import CKanariaLinux
#if canImport(Glibc)
import Glibc
#endif

/// A timer descriptor on the monotonic clock that becomes readable once, at an absolute time: for an event loop that
/// must act at a precise instant (a load generator's next scheduled request), finer than epoll's millisecond timeout.
public struct OneShotTimer: ~Copyable {
    public let fd: Int32

    public init() throws(Errno) {
        let fd = timerfd_create(CLOCK_MONOTONIC, Int32(TFD_NONBLOCK | TFD_CLOEXEC))
        guard fd >= 0 else { throw Errno.current }
        self.fd = fd
    }

    deinit { Syscall.close(fd) }

    /// Fires at `nanoseconds` on the clock `monotonicNanoseconds()` reads (at once when that has passed),
    /// replacing any earlier arming.
    public func arm(atNanoseconds nanoseconds: UInt64) {
        let at = max(nanoseconds, 1)
        let value = timespec(tv_sec: Int(at / 1_000_000_000), tv_nsec: Int(at % 1_000_000_000))
        var spec = itimerspec(it_interval: timespec(), it_value: value)
        _ = timerfd_settime(fd, Int32(TFD_TIMER_ABSTIME), &spec, nil)
    }

    /// Acknowledges an expiry, so that the descriptor is no longer readable.
    public func acknowledge() {
        var expirations: UInt64 = 0
        _ = Glibc.read(fd, &expirations, 8)
    }
}

/// Whether a descriptor is a terminal (for a progress line that only people see).
public func isTerminal(_ fd: Int32) -> Bool {
    isatty(fd) == 1
}
