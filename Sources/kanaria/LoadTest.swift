import ArgumentParser
import KanariaLoad
import KanariaPosix
import KanariaTLS

#if canImport(Glibc)
import Glibc
#endif

/// `kanaria loadtest URL …`: drives load through a proxy, tells each answer's version apart, and reports how far the
/// observed split is from the expected one. Exit 0 when the gates pass, 1 when one fails (or the target cannot be
/// reached), 2 on a usage error.
struct LoadTest: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "loadtest",
        abstract: "Measure a traffic split under load: versions, shares, exactness per window, latency, and CI gates.",
        discussion: """
        Example: kanaria loadtest http://127.0.0.1:8080/ --requests 1000 --expect v1=80,v2=20 --max-deviation 1
        Exit status: 0 when the gates pass, 1 when a gate fails or the URL cannot be reached, 2 on a usage error.
        """
    )

    @Argument(help: "The URL to load: http://HOST:PORT/PATH or https://…")
    var url: String

    @Option(name: [.customShort("c"), .long], help: "Connections (closed loop: each keeps one request, or --streams, in flight).")
    var connections: Int = 1

    @Option(help: "Open loop: requests per second on a fixed schedule, latency measured from each request's intended send time.")
    var rate: Double?

    @Option(name: [.customShort("d"), .long], help: "Run for this many seconds.")
    var duration: Double?

    @Option(name: [.customShort("n"), .long], help: "Send this many requests (default 1000 when --duration is not given).")
    var requests: Int?

    @Option(name: [.customShort("t"), .long], help: "Event-loop threads (default: one per CPU, at most one per connection).")
    var threads: Int?

    @Flag(help: "Speak HTTP/2: h2c with prior knowledge on http, h2 by ALPN on https.")
    var http2 = false

    @Option(help: "HTTP/2 streams in flight per connection.")
    var streams: Int = 1

    @Option(help: "https: trust the CA certificates in this PEM file (default: the system's).")
    var cacert: String?

    @Flag(name: [.customShort("k"), .long], help: "https: do not check the server's certificate.")
    var insecure = false

    @Flag(help: "Open a new connection for every request (HTTP/1.1).")
    var fresh = false

    @Option(help: "The request method.")
    var method: String = "GET"

    @Option(name: [.customShort("H"), .customLong("header")], help: "A request header, 'name: value' (repeatable).")
    var headers: [String] = []

    @Option(name: .customLong("body-file"), help: "Send this file as the request body.")
    var bodyFile: String?

    @Option(name: .customLong("version-header"), help: "The answer's header that names its version.")
    var versionHeader: String = "x-version"

    @Option(name: .customLong("version-body"), help: "A regex whose first group, matched over the body, names the version (instead of the header).")
    var versionBody: String?

    @Option(help: "The expected split, VERSION=WEIGHT,…: e.g. v1=80,v2=20.")
    var expect: String?

    @Option(name: .customLong("expect-from"), help: "Take the expected split from this Istio configuration (file or folder, repeatable): the weights of the route the request matches.")
    var expectFrom: [String] = []

    @Option(name: .customLong("gateway-port"), help: "With --expect-from: the Gateway port the URL reaches (default: a server on the URL's port, else the first).")
    var gatewayPort: Int?

    @Option(name: .customLong("max-deviation"), help: "Gate: fail when a version's share is further than this many percentage points from its expected share.")
    var maxDeviation: Double?

    @Option(name: .customLong("max-error-rate"), help: "Gate: fail when more than this percentage of requests get no 2xx/3xx answer.")
    var maxErrorRate: Double?

    @Option(help: "Seconds a request may wait for its whole answer before it fails with a timeout.")
    var timeout: Double = 10

    @Flag(help: "Print one JSON object instead of the report.")
    var json = false

    @Option(help: "Write every answer's latency to this file in HdrHistogram's interval log format (microseconds).")
    var histogram: String?

    @Option(help: "Write an SVG chart of each version's share over time against its expected share.")
    var chart: String?

    func run() throws {
        var origin: String?
        let plan = try usage { () throws(UsageError) in try makePlan(origin: &origin) }
        let limits = GateLimits(maxDeviationPoints: maxDeviation, maxErrorRatePercent: maxErrorRate)
        let board = ProgressBoard(threads: plan.threads)
        let sampler = ProgressSampler(board: board, expected: plan.expected, printTo: isTerminal(2) ? 2 : nil)
        sampler.start()
        let startTime = Double(wallClockMicroseconds()) / 1e6
        let outcome: LoadRun.Outcome
        do {
            outcome = try LoadRun.run(plan, progress: board)
        } catch {
            sampler.stop()
            complain("kanaria loadtest: \(error)")
            throw ExitCode(1)
        }
        sampler.stop()
        let log = HistogramLog(histogram: outcome.tally.allLatencies, startTime: startTime, duration: outcome.durationSeconds)
        if let histogram, !writeWholeFile(histogram, log.text) {
            complain("kanaria loadtest: --histogram \(histogram): cannot write the file")
        }
        if let chart, !writeWholeFile(chart, ShareChart(samples: sampler.samples, expected: plan.expected).svg) {
            complain("kanaria loadtest: --chart \(chart): cannot write the file")
        }
        let report = LoadReport(tally: outcome.tally, expected: plan.expected, limits: limits,
                                durationSeconds: outcome.durationSeconds, targetRate: plan.rate)
        if json {
            say(report.json)
        } else {
            say(String(report.text(title: title(plan) + (origin.map { "\n" + $0 } ?? "")).dropLast()))
        }
        if !report.gatePassed { throw ExitCode(1) }
    }

    private func makePlan(origin: inout String?) throws(UsageError) -> LoadPlan {
        let target = try LoadTarget(parsing: url)
        var tls: TLSClientContext?
        if target.scheme == .https {
            let verification: TLSClientContext.Verification = insecure ? .insecure : cacert.map { .caFile($0) } ?? .systemDefault
            do {
                tls = try TLSClientContext(verification: verification, applicationProtocols: http2 ? [.http2] : [.http1_1])
            } catch {
                throw UsageError("--cacert \(error)")
            }
        }
        guard connections >= 1 else { throw UsageError("--connections must be at least 1") }
        guard streams >= 1 else { throw UsageError("--streams must be at least 1") }
        guard !(fresh && http2) else { throw UsageError("--fresh is for HTTP/1.1; HTTP/2 multiplexes streams on a connection") }
        guard duration == nil || requests == nil else { throw UsageError("give --duration or --requests, not both") }
        if let rate, !(rate > 0) { throw UsageError("--rate must be above 0") }
        if let duration, !(duration > 0) { throw UsageError("--duration must be above 0") }
        if let requests, requests < 1 { throw UsageError("--requests must be at least 1") }
        guard expect == nil || expectFrom.isEmpty else { throw UsageError("give --expect or --expect-from, not both") }
        var fields: [(name: String, value: String)] = []
        for header in headers { fields.append(try RequestTemplate.header(parsing: header)) }
        var expected = try expect.map { text throws(UsageError) in try ExpectedSplit(parsing: text) }
        if !expectFrom.isEmpty {
            let request = RequestTemplate(method: method, target: target, headers: fields)
            let found = try ExpectedSplit.from(configuration: expectFrom, request: request, gatewayPort: gatewayPort)
            expected = found.split
            origin = "expected split from \(found.origin): " + found.split.entries.map { "\($0.version)=\($0.weight)" }.joined(separator: ",")
        }
        if maxDeviation != nil && expected == nil { throw UsageError("--max-deviation needs an expected split (--expect or --expect-from)") }
        var body: [UInt8] = []
        if let bodyFile {
            guard let bytes = readWholeFile(bodyFile) else { throw UsageError("--body-file \(bodyFile): cannot read the file") }
            body = bytes
        }
        let source: VersionSource = try versionBody.map { pattern throws(UsageError) in try VersionSource.body(checking: pattern) }
            ?? .header(versionHeader.lowercased())
        let budget: RequestSchedule.Budget = duration.map { .duration(UInt64($0 * 1e9)) } ?? .requests(requests ?? 1000)
        let threadCount = min(threads ?? availableProcessorCount(), connections)
        guard threadCount >= 1 else { throw UsageError("--threads must be at least 1") }
        return LoadPlan(template: RequestTemplate(method: method, target: target, headers: fields, body: body),
                        wire: http2 ? .http2(streams: streams) : .http1(fresh: fresh),
                        connections: connections, threads: threadCount, rate: rate, budget: budget,
                        versionSource: source, expected: expected, timeoutNanoseconds: UInt64(timeout * 1e9), tls: tls)
    }

    private func title(_ plan: LoadPlan) -> String {
        let wire: String
        switch plan.wire {
        case .http1(let fresh): wire = (fresh ? "HTTP/1.1, a fresh connection per request" : "HTTP/1.1 keep-alive") + (plan.tls == nil ? "" : " over TLS")
        case .http2(let streams): wire = "HTTP/2 (\(plan.tls == nil ? "h2c" : "h2 over TLS")), \(streams) stream\(streams == 1 ? "" : "s") per connection"
        }
        let loop = plan.rate.map { "open loop at \(Int($0))/s" } ?? "closed loop"
        return "kanaria loadtest \(url): \(loop), \(plan.connections) connection\(plan.connections == 1 ? "" : "s"), "
            + "\(plan.threads) thread\(plan.threads == 1 ? "" : "s"), \(wire)"
    }

    /// Runs `body`, turning a `UsageError` into its message and exit status 2.
    private func usage<T>(_ body: () throws(UsageError) -> T) throws -> T {
        do {
            return try body()
        } catch {
            complain("kanaria loadtest: \(error)")
            throw ExitCode(2)
        }
    }
}

/// The bytes of a file; nil when it cannot be read.
private func readWholeFile(_ path: String) -> [UInt8]? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 64 * 1024)
    while true {
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n < 0 { return nil }
        if n == 0 { return bytes }
        bytes += chunk[..<n]
    }
}

/// Writes `text` to `path` (created or truncated); false when that fails.
private func writeWholeFile(_ path: String, _ text: String) -> Bool {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    var text = text
    return text.withUTF8 { Syscall.writeAll(fd, UnsafeRawBufferPointer($0)) }
}
