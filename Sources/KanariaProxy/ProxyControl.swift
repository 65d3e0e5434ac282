import KanariaPosix
import Synchronization

/// What the main thread shares with the workers: the published configuration and the drain flag.
///
/// Workers read `generation` (one atomic load) once per loop turn and take the lock only when it changed, so the
/// request path never contends.
public final class ProxyControl: Sendable {
    private let published: Mutex<ConfigSnapshot>
    private let publishedGeneration = Atomic<Int>(0)
    private let draining = Atomic<Bool>(false)
    private let wakers: [EventNotifier]

    init(snapshot: ConfigSnapshot, workers: Int) throws(Errno) {
        published = Mutex(snapshot)
        var wakers: [EventNotifier] = []
        for _ in 0..<workers { wakers.append(try EventNotifier()) }
        self.wakers = wakers
    }

    var generation: Int { publishedGeneration.load(ordering: .acquiring) }

    func currentSnapshot() -> (ConfigSnapshot, Int) {
        published.withLock { ($0, publishedGeneration.load(ordering: .acquiring)) }
    }

    /// Makes `snapshot` the configuration for every request that starts from now on.
    func publish(_ snapshot: ConfigSnapshot) {
        published.withLock {
            $0 = snapshot
            publishedGeneration.add(1, ordering: .releasing)
        }
        wakeAll()
    }

    var isDraining: Bool { draining.load(ordering: .acquiring) }

    func beginDrain() {
        draining.store(true, ordering: .releasing)
        wakeAll()
    }

    func wakeFD(for worker: Int) -> Int32 { wakers[worker].fd }

    func acknowledgeWake(for worker: Int) { wakers[worker].drain() }

    private func wakeAll() {
        for waker in wakers { waker.signal() }
    }
}
