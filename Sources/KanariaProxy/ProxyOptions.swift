import KanariaPosix
import KanariaRouting
import KanariaTelemetry
import KanariaTLS

/// How the proxy runs: everything that is not the routing configuration.
public struct ProxyOptions: Sendable {
    /// Event-loop threads, each with its own listeners, connections, upstream pools and picker state.
    public var workers: Int
    public var split: SplitMode
    /// Close a keep-alive client connection after this long without a request.
    public var idleTimeoutMilliseconds: Int64 = 60_000
    /// Answer 408 when a request head takes longer than this to arrive.
    public var headerTimeoutMilliseconds: Int64 = 30_000
    /// Istio's default DestinationRule connectTimeout: 10 s.
    public var connectTimeoutMilliseconds: Int64 = 10_000
    /// Close an idle pooled upstream connection after this long.
    public var upstreamIdleTimeoutMilliseconds: Int64 = 60_000
    /// How long SIGTERM waits for requests in flight before closing everything.
    public var drainTimeoutMilliseconds: Int64 = 10_000
    /// Access logging; nil (the default) logs nothing.
    public var accessLog: AccessLogOptions?

    public init(workers: Int, split: SplitMode = .exact) {
        self.workers = max(1, workers)
        self.split = split
    }
}

/// Where and how access-log lines are written.
public struct AccessLogOptions: Sendable {
    /// A file to append to, or "-" for standard output.
    public var path: String
    public var format: AccessLogFormat

    public init(path: String = "-", format: AccessLogFormat = .envoyText) {
        self.path = path
        self.format = format
    }
}
