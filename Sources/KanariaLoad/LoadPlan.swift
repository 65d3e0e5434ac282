import KanariaTLS

/// Everything a run needs, as the command line gave it.
public struct LoadPlan: Sendable {
    public enum Wire: Sendable, Equatable {
        /// HTTP/1.1 over keep-alive connections (`fresh`: one connection per request).
        case http1(fresh: Bool)
        /// HTTP/2 (h2c on http, h2 by ALPN on https) with this many streams in flight per connection.
        case http2(streams: Int)
    }

    public var template: RequestTemplate
    public var wire: Wire
    public var connections: Int
    /// Event-loop threads; each gets its share of the connections, requests and rate.
    public var threads: Int
    /// Requests per second over all threads (open loop); nil for closed loop.
    public var rate: Double?
    public var budget: RequestSchedule.Budget
    public var versionSource: VersionSource
    public var expected: ExpectedSplit?
    /// A request with no whole answer after this long fails with `timeout`.
    public var timeoutNanoseconds: UInt64
    /// For https targets: how the server is checked and what ALPN offers (h2 for `.http2`, http/1.1 otherwise).
    public var tls: TLSClientContext?

    public init(template: RequestTemplate, wire: Wire = .http1(fresh: false), connections: Int = 1, threads: Int = 1,
                rate: Double? = nil, budget: RequestSchedule.Budget = .requests(1000),
                versionSource: VersionSource = .header("x-version"), expected: ExpectedSplit? = nil,
                timeoutNanoseconds: UInt64 = 10_000_000_000, tls: TLSClientContext? = nil) {
        self.template = template
        self.wire = wire
        self.connections = connections
        self.threads = threads
        self.rate = rate
        self.budget = budget
        self.versionSource = versionSource
        self.expected = expected
        self.timeoutNanoseconds = timeoutNanoseconds
        self.tls = tls
    }

    /// Thread `index`'s share of a total split over `threads`: 10 over 3 gives 4, 3, 3.
    static func share(of total: Int, thread index: Int, threads: Int) -> Int {
        total / threads + (index < total % threads ? 1 : 0)
    }
}
