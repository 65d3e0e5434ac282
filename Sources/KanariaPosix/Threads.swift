import CKanariaLinux
#if canImport(Glibc)
import Glibc
#endif

/// A joinable POSIX thread running one closure (an event loop's lifetime; not per request).
public final class PosixThread: @unchecked Sendable {
    private var handle = pthread_t()
    private let body: @Sendable () -> Void
    private let name: String

    private init(name: String, body: @escaping @Sendable () -> Void) {
        self.name = String(name.prefix(15))  // the kernel's limit for a thread name
        self.body = body
    }

    /// Starts `body` on a new thread.
    public static func spawn(name: String, _ body: @escaping @Sendable () -> Void) -> PosixThread {
        let thread = PosixThread(name: name, body: body)
        let context = Unmanaged.passRetained(thread).toOpaque()
        let result = pthread_create(&thread.handle, nil, { raw in
            let thread = Unmanaged<PosixThread>.fromOpaque(raw!).takeRetainedValue()
            _ = ckanaria_set_thread_name(thread.name)
            thread.body()
            return nil
        }, context)
        precondition(result == 0, "pthread_create failed: \(result)")
        return thread
    }

    public func join() { pthread_join(handle, nil) }
}

/// Process-wide signal set-up: the proxy blocks SIGINT, SIGTERM and SIGHUP in every thread and waits for them on
/// the main thread with `sigwait`, so no handler runs on an event loop.
public enum Signals {
    public enum Received: Sendable { case terminate, interrupt, reload }

    /// Blocks the handled signals in the calling thread and every thread it starts afterwards; ignores SIGPIPE.
    public static func blockForWaiting() {
        signal(SIGPIPE, SIG_IGN)
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        sigaddset(&set, SIGTERM)
        sigaddset(&set, SIGHUP)
        pthread_sigmask(SIG_BLOCK, &set, nil)
    }

    /// Blocks until one of the handled signals arrives.
    public static func wait() -> Received {
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        sigaddset(&set, SIGTERM)
        sigaddset(&set, SIGHUP)
        var number: Int32 = 0
        while true {
            guard sigwait(&set, &number) == 0 else { continue }
            switch number {
            case SIGHUP: return .reload
            case SIGINT: return .interrupt
            default: return .terminate
            }
        }
    }
}

/// Number of CPUs this process may run on.
public func availableProcessorCount() -> Int {
    let count = Int(ckanaria_cpu_count())
    if count > 0 { return count }
    return max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
}

/// 64 random bits from the kernel, to seed per-worker generators.
public func systemRandom64() -> UInt64 {
    ckanaria_random64()
}
