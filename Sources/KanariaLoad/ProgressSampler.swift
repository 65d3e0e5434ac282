import KanariaPosix
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Reads the progress board ten times a second on a thread of its own: keeps the counts over time (for the
/// chart), and once a second rewrites a progress line on a terminal (elapsed, rate, shares so far). Prints nothing
/// when `printTo` is nil (standard error is not a terminal).
public final class ProgressSampler: @unchecked Sendable {
    public struct Sample: Sendable {
        /// Seconds since the start.
        public var elapsed: Double
        public var snapshot: ProgressBoard.Snapshot
    }

    private let board: ProgressBoard
    private let expected: ExpectedSplit?
    private let printTo: Int32?
    private let stopping = Atomic<Bool>(false)
    private var thread: PosixThread?
    private var startedAt: UInt64 = 0
    /// Valid once `stop()` has returned.
    public private(set) var samples: [Sample] = []

    public init(board: ProgressBoard, expected: ExpectedSplit?, printTo: Int32?) {
        self.board = board
        self.expected = expected
        self.printTo = printTo
    }

    public func start() {
        let start = monotonicNanoseconds()
        startedAt = start
        samples = [Sample(elapsed: 0, snapshot: ProgressBoard.Snapshot())]
        thread = PosixThread.spawn(name: "kanaria-progress") { [self] in
            var ticks = 0
            while !stopping.load(ordering: .acquiring) {
                var pause = timespec(tv_sec: 0, tv_nsec: 100_000_000)
                nanosleep(&pause, nil)
                ticks += 1
                let elapsed = Double(monotonicNanoseconds() - start) / 1e9
                samples.append(Sample(elapsed: elapsed, snapshot: board.read()))
                if ticks % 10 == 0, let printTo { write(printTo, line: progressLine()) }
            }
            if printTo != nil, ticks >= 10 { write(printTo!, line: "\r\u{1B}[K") }
        }
    }

    /// Stops sampling and takes a last sample (the threads publish their final counts before they end).
    public func stop() {
        stopping.store(true, ordering: .releasing)
        thread?.join()
        thread = nil
        samples.append(Sample(elapsed: Double(monotonicNanoseconds() - startedAt) / 1e9, snapshot: board.read()))
    }

    /// `\r  3.0 s  12,345 requests  4,115/s  v1 80.0%  v2 20.0%  errors 0`.
    func progressLine() -> String {
        guard let last = samples.last else { return "" }
        let previous = samples.count > 10 ? samples[samples.count - 11] : nil
        let recent = Double(last.snapshot.total - (previous?.snapshot.total ?? 0)) / (last.elapsed - (previous?.elapsed ?? 0))
        let answers = max(1, last.snapshot.answers.values.reduce(0, +))
        var names = expected?.entries.map(\.version) ?? []
        names += last.snapshot.answers.keys.filter { !names.contains($0) }.sorted()
        let shares = names.map { "\($0) \(Fixed.percent(Double(last.snapshot.answers[$0] ?? 0) / Double(answers)))" }
        return "\r\u{1B}[K" + "\(Fixed.string(last.elapsed, digits: 1)) s  \(last.snapshot.total) requests  "
            + "\(Fixed.string(recent, digits: 0))/s  " + shares.joined(separator: "  ") + "  errors \(last.snapshot.errors)"
    }

    private func write(_ fd: Int32, line: String) {
        var text = line
        text.withUTF8 { _ = Syscall.writeAll(fd, UnsafeRawBufferPointer($0)) }
    }
}
