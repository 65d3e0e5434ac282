import KanariaPosix

/// Runs a plan: starts its threads, waits for them, and merges what they counted.
public enum LoadRun {
    public struct Outcome: Sendable {
        public var tally: LoadTally
        /// From the first scheduled request to the last answer, in seconds.
        public var durationSeconds: Double
    }

    public enum Failure: Error, CustomStringConvertible {
        /// The target's host name does not resolve.
        case badAddress(String)
        /// No connection could be opened at all.
        case unreachable(String)
        case system(Errno)

        public var description: String {
            switch self {
            case .badAddress(let text), .unreachable(let text): text
            case .system(let error): "\(error)"
            }
        }
    }

    /// Runs `plan` to the end. `progress` receives every thread's counts ten times a second (for the progress line
    /// and the chart, read from another thread).
    public static func run(_ plan: LoadPlan, progress: ProgressBoard) throws(Failure) -> Outcome {
        let address: SocketAddress
        switch SocketAddress.resolve(host: plan.template.target.host, port: plan.template.target.port) {
        case .success(let resolved): address = resolved
        case .failure(let error): throw .badAddress("cannot resolve \(error)")
        }
        var workers: [LoadWorker] = []
        do throws(Errno) {
            for index in 0..<plan.threads {
                workers.append(try LoadWorker(plan: plan, address: address, index: index, progress: progress))
            }
        } catch {
            throw .system(error)
        }
        let start = monotonicNanoseconds()
        let threads = workers.map { worker in
            let box = UncheckedBox(worker)
            return PosixThread.spawn(name: "kanaria-load") { box.value.run(start: start) }
        }
        for thread in threads { thread.join() }
        if let fatal = workers.lazy.compactMap(\.fatal).first { throw .unreachable(fatal) }
        var tally = workers[0].tally
        for worker in workers.dropFirst() { tally.merge(worker.tally) }
        let end = workers.map(\.lastAnswer).max() ?? start
        return Outcome(tally: tally, durationSeconds: Double(end > start ? end - start : 0) / 1e9)
    }
}

/// Hands a worker to the thread that runs it (it is used by that thread only until `join`).
private struct UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
