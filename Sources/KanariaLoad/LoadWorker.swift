import KanariaHTTP
import KanariaPosix
import KanariaTLS

/// One load thread: its own epoll loop over its connections, its own schedule and its own tally, shared with no
/// other thread until the run ends (progress is published under a lock ten times a second).
///
/// Each turn of the loop hands every request that is due to a free lane; a lane whose connection failed rests for
/// `retryDelay` before it is used again, so that a dead target costs a few errors a second per lane, not a spin.
public final class LoadWorker {
    static let scheduleToken = UInt64.max - 1
    static let tickToken = UInt64.max - 2
    /// How long a lane rests after a failed connection.
    static let retryDelay: UInt64 = 50_000_000

    let plan: LoadPlan
    let address: SocketAddress
    let epoll: Epoll
    let requestBytes: [UInt8]
    /// The request body at a fixed address, lent to HTTP/2 sessions without a copy.
    let requestBody: UnsafeRawBufferPointer
    let method: HTTPMethod
    let fresh: Bool
    let capturesBody: Bool
    private let versionHeader: [UInt8]
    private let bodyMatcher: BodyVersionMatcher?
    public private(set) var tally: LoadTally
    private(set) var schedule: RequestSchedule
    private var http1: [HTTP1ClientConnection] = []
    private var http2: [HTTP2ClientConnection] = []
    /// Lanes ready for a request.
    private var free: [Int] = []
    /// Per lane: whether it is in `free` (so that marking it free again costs no search).
    private var isFree: [Bool] = []
    /// Lanes resting after a failure, with when they may be used again.
    private var resting: [(lane: Int, until: UInt64)] = []
    /// Per lane: whether it is in `resting`.
    private var isResting: [Bool] = []
    private var inFlight = 0
    private let scheduleTimer: OneShotTimer
    private let tick: PeriodicTimer
    private var armedAt: UInt64 = 0
    private(set) var now: UInt64 = 0
    private var everConnected = false
    private var connectFailures = 0
    /// Set when the target cannot be reached at all: the run stops with this message.
    public private(set) var fatal: String?
    let progress: ProgressBoard
    let index: Int
    public private(set) var firstSend: UInt64 = 0
    public private(set) var lastAnswer: UInt64 = 0

    init(plan: LoadPlan, address: SocketAddress, index: Int, progress: ProgressBoard) throws(Errno) {
        self.plan = plan
        self.address = address
        self.index = index
        self.progress = progress
        epoll = try Epoll(capacity: 512)
        scheduleTimer = try OneShotTimer()
        tick = try PeriodicTimer(periodMilliseconds: 100)
        requestBytes = plan.template.http1Bytes
        let body = UnsafeMutableRawBufferPointer.allocate(byteCount: plan.template.body.count, alignment: 1)
        body.copyBytes(from: plan.template.body)
        requestBody = UnsafeRawBufferPointer(body)
        method = Array(plan.template.method.utf8).withUnsafeBytes { HTTPMethod(token: $0) }
        if case .http1(let fresh) = plan.wire { self.fresh = fresh } else { fresh = false }
        switch plan.versionSource {
        case .header(let name):
            versionHeader = Array(name.lowercased().utf8)
            bodyMatcher = nil
        case .body(let pattern):
            versionHeader = []
            bodyMatcher = try? BodyVersionMatcher(pattern: pattern)
        }
        capturesBody = bodyMatcher != nil
        let lanes = LoadPlan.share(of: plan.connections, thread: index, threads: plan.threads)
        tally = LoadTally(expected: plan.expected, lanes: lanes)
        let budget: RequestSchedule.Budget
        switch plan.budget {
        case .requests(let total): budget = .requests(LoadPlan.share(of: total, thread: index, threads: plan.threads))
        case .duration: budget = plan.budget
        }
        schedule = RequestSchedule(budget: budget, rate: plan.rate.map { $0 / Double(plan.threads) })
        try epoll.add(scheduleTimer.fd, events: [.readable], token: Self.scheduleToken)
        try epoll.add(tick.fd, events: [.readable], token: Self.tickToken)
        for lane in 0..<lanes {
            switch plan.wire {
            case .http1: http1.append(HTTP1ClientConnection(worker: self, lane: lane))
            case .http2(let streams): http2.append(HTTP2ClientConnection(worker: self, lane: lane, streams: streams))
            }
            free.append(lanes - 1 - lane)
        }
        isFree = Array(repeating: true, count: lanes)
        isResting = Array(repeating: false, count: lanes)
    }

    deinit { requestBody.deallocate() }

    /// Runs the loop until the budget is spent and every request has an outcome (or the target is unreachable).
    func run(start: UInt64) {
        now = monotonicNanoseconds()
        schedule.begin(at: start)
        firstSend = start
        startDueRequests()
        while fatal == nil && !(inFlight == 0 && schedule.isSpent(now: now)) {
            let count = epoll.wait(timeoutMilliseconds: 100)
            now = monotonicNanoseconds()
            for i in 0..<count {
                let (token, events) = epoll.event(at: i)
                switch token {
                case Self.scheduleToken: scheduleTimer.acknowledge()
                case Self.tickToken: housekeeping()
                default: dispatch(Int(token), events)
                }
            }
            startDueRequests()
        }
        publishProgress()
    }

    private func dispatch(_ lane: Int, _ events: EpollEvents) {
        if http1.isEmpty {
            http2[lane].handle(events)
        } else {
            http1[lane].handle(events)
        }
    }

    /// Hands due requests to free lanes; in open loop, arms the timer for the next one.
    private func startDueRequests() {
        while let lane = free.last {
            guard let intended = schedule.take(now: now) else { break }
            if http1.isEmpty {
                if http2[lane].room <= 1 { takeLastFree() }
                inFlight += 1
                http2[lane].begin(intended: intended)
            } else {
                takeLastFree()
                inFlight += 1
                http1[lane].begin(intended: intended)
            }
            if firstSend == 0 { firstSend = intended }
        }
        if !free.isEmpty, let due = schedule.nextDue, due != armedAt {
            armedAt = due
            scheduleTimer.arm(atNanoseconds: due)
        }
    }

    /// Ten times a second: times out requests, returns rested lanes, publishes progress.
    private func housekeeping() {
        tick.acknowledge()
        let limit = plan.timeoutNanoseconds
        for connection in http1 where connection.isBusy && now > connection.intended + limit {
            connection.fail(.timeout, errno: 0)
        }
        for connection in http2 { connection.expire(olderThan: now > limit ? now - limit : 0) }
        var i = 0
        while i < resting.count {
            if resting[i].until <= now {
                let lane = resting.remove(at: i).lane
                isResting[lane] = false
                markFree(lane)
            } else {
                i += 1
            }
        }
        publishProgress()
    }

    private func publishProgress() {
        progress.publish(thread: index, tally: tally)
    }

    private func markFree(_ lane: Int) {
        guard !isFree[lane] else { return }
        isFree[lane] = true
        free.append(lane)
    }

    private func takeLastFree() {
        isFree[free.removeLast()] = false
    }

    // MARK: Called by connections

    /// The connection of `lane` is established.
    func connected() {
        everConnected = true
    }

    /// `lane` can take a request (again), unless it is resting after a failure.
    func free(_ lane: Int) {
        guard !isResting[lane] else { return }
        markFree(lane)
    }

    /// A request of `lane` got an answer.
    @inline(__always)
    func answered(lane: Int, version: Int, status: Int, intended: UInt64, windows: Bool = true) {
        inFlight -= 1
        lastAnswer = now
        let latency = now > intended ? (now - intended) / 1000 : 0
        tally.recordAnswer(version: version, status: status, latencyMicroseconds: latency, lane: windows ? lane : nil)
    }

    /// The next answer, in sending order, of `lane`'s windows (HTTP/2 lanes feed them themselves).
    func recordWindow(lane: Int, version: Int) {
        tally.recordWindow(lane: lane, version: version)
    }

    /// `count` requests of `lane` failed with `kind`; the lane rests before it is used again.
    func failed(lane: Int, kind: TransportErrorKind, errno: Int32, whileConnecting: Bool, count: Int = 1, detail: String? = nil) {
        inFlight -= count
        for _ in 0..<count { tally.recordError(kind) }
        if whileConnecting {
            connectFailures += 1
            if !everConnected && connectFailures >= max(1, http1.count + http2.count) {
                let why = detail ?? (errno != 0 ? Errno(errno).description : "connection failed")
                fatal = "cannot connect to \(address): \(why)"
            }
        }
        if isFree[lane] {
            free.removeAll { $0 == lane }
            isFree[lane] = false
        }
        if !isResting[lane] {
            isResting[lane] = true
            resting.append((lane, now + Self.retryDelay))
        }
    }

    /// Stops watching and closes a lane's socket (-1 afterwards; nothing if it is -1 already).
    func close(_ fd: inout Int32) {
        guard fd >= 0 else { return }
        epoll.remove(fd)
        Syscall.close(fd)
        fd = -1
    }

    /// Starts a non-blocking connect for `lane`, watched by this loop, with TLS for https targets.
    func open(lane: Int) -> Result<(fd: Int32, io: ConnectionIO), Errno> {
        switch Socket.connect(to: address) {
        case .success(let fd):
            do {
                try epoll.add(fd, events: [.readable, .writable, .peerHangUp, .edgeTriggered], token: UInt64(lane))
            } catch {
                Syscall.close(fd)
                return .failure(error)
            }
            let tls = plan.tls.map { TLSClientConnection(context: $0, serverName: plan.template.target.host) }
            return .success((fd, ConnectionIO(tls: tls)))
        case .failure(let error):
            return .failure(error)
        }
    }

    // MARK: Versions

    /// The version named by the answer's version header; `other` without one.
    func classify(head: ResponseHead, message: UnsafeRawBufferPointer) -> Int {
        for field in head.headers where Int(field.name.count) == versionHeader.count {
            let name = field.name.bytes(in: message)
            if versionHeader.withUnsafeBytes({ HTTPBytes.equalsIgnoringCase(name, $0) }) {
                return tally.version(of: field.value.bytes(in: message))
            }
        }
        return VersionTable.other
    }

    /// The version the body regex finds; `other` when it finds none.
    func classify(body: UnsafeRawBufferPointer) -> Int {
        guard let bodyMatcher, let version = bodyMatcher.version(in: body) else { return VersionTable.other }
        return version.withUnsafeBytes { tally.version(of: $0) }
    }

    func classify(name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) -> Int? {
        guard name.count == versionHeader.count,
              versionHeader.withUnsafeBytes({ HTTPBytes.equalsIgnoringCase(name, $0) }) else { return nil }
        return tally.version(of: value)
    }
}
