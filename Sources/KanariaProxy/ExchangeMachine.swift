import KanariaHTTP
import KanariaRouting
import KanariaTelemetry

/// Envoy's per-cluster stats an exchange produced and its owner has not counted yet, one bit per `ClusterStat`.
struct ClusterStatEvents: OptionSet {
    let rawValue: UInt16

    init(rawValue: UInt16) { self.rawValue = rawValue }
    init(_ stat: ClusterStat) { rawValue = 1 << UInt16(stat.rawValue) }

    /// Calls `body` for each stat in the set.
    func forEach(_ body: (ClusterStat) -> Void) {
        var bits = rawValue
        while bits != 0 {
            let bit = bits.trailingZeroBitCount
            bits &= bits - 1
            if let stat = ClusterStat(rawValue: bit) { body(stat) }
        }
    }
}

/// What an exchange asks its owner (an HTTP/1.1 connection or an HTTP/2 stream) to do next.
enum ExchangeAction {
    /// Nothing now.
    case none
    /// Drop the current try's upstream leg, if any, and send the request to `ExchangeMachine.endpoint`: over a
    /// pooled connection, or a new one when `ExchangeMachine.freshConnection` says so.
    case connect
    /// Drop the current try's upstream leg, if any, and wait for the deadline (`ExchangeMachine.nextDeadline`).
    case wait
    /// Answer the client with a response of the proxy's own; the exchange is over once it is written.
    case answer(LocalAnswer)
    /// Answer 301 to the same URL under https (Gateway `tls.httpsRedirect`).
    case redirectToHTTPS
    /// Answer with the route's redirect (`HTTPRoute.action`, route `ExchangeMachine.route`).
    case redirect
    /// The response head is accepted: relay it and its body, with `flags` recorded (URX when the answer would have
    /// been retried but no retry was left).
    case relay(flags: ResponseFlags)
    /// The response has begun and cannot be replaced: break the client's stream (HTTP/2 RST_STREAM, or close the
    /// HTTP/1.1 connection), with `flags` recorded.
    case abort(flags: ResponseFlags)
}

/// One request/response exchange's decisions, the same for every protocol pairing: routing, endpoint choice,
/// retries (with Envoy's back-off and previous-hosts avoidance), route and per-try timeouts, and the local answers
/// Istio's gateway gives. It takes events and returns `ExchangeAction`s; it does no I/O, reads no clock (times are
/// passed in, in monotonic milliseconds) and draws from the worker's generator only through `RoutingState`.
///
/// Life of an exchange:
///
///     begin ──▶ .connect ──▶ (try) ──upstreamFailed / responseHead retriable──▶ .wait (back-off) ──timer──▶ .connect …
///       │                      └──responseHead──▶ .relay ──responseEnded──▶ done
///       └──▶ .answer / .redirectToHTTPS (no route, no endpoint, retries exhausted, timeout)
struct ExchangeMachine {
    enum Phase: Equatable {
        case idle
        /// Waiting out a fault-injection delay until `waitUntil`, before anything else happens.
        case faultDelay
        /// A try is under way: connecting, sending the request, awaiting the response head.
        case trying
        /// Waiting out a retry back-off until `waitUntil`.
        case backingOff
        /// The response is being relayed.
        case relaying
        /// A local answer was decided; the owner writes it.
        case answered
        case done
    }

    private(set) var phase = Phase.idle
    /// The matched route and chosen cluster (indices into the snapshot's table); -1 before routing.
    private(set) var route = -1
    private(set) var cluster = -1
    /// Which of the route's matches held (-1: it has none) and which destination was drawn (-1: none).
    private(set) var match = -1
    private(set) var destination = -1
    /// The request is a CORS request from an allowed origin: the answer gets the route's CORS headers.
    private(set) var corsAllowed = false
    /// The chosen endpoint: its position in the cluster's endpoint list and its index in the table's endpoints.
    private(set) var endpointPosition = -1
    private(set) var endpoint = -1
    /// The next try must not use a pooled connection (the pooled one turned out stale).
    private(set) var freshConnection = false
    /// Tries started (1 for the first), and retries among them.
    private(set) var tries = 0
    private(set) var retriesDone = 0
    /// Route deadline, per-try deadline and back-off end, in monotonic milliseconds; 0: none.
    private var routeDeadline: Int64 = 0
    private var tryDeadline: Int64 = 0
    /// The cluster's `connectTimeout` for a connection being opened for the try (0: none being opened).
    private var connectDeadline: Int64 = 0
    private var waitUntil: Int64 = 0
    /// Positions of the cluster's endpoints already tried (Envoy's previous-hosts predicate), for positions < 64.
    private var tried = PreviousEndpoints()
    /// The current try is counted in the worker's per-cluster state (least-request counts, outlier detection).
    private var tryCounted = false
    private var tryGeneration = 0
    /// The request holds a slot of its cluster's circuit breaker (`http2MaxRequests`), and the current try a
    /// retry slot (`maxRetries`).
    private var holdsRequestSlot = false
    /// The endpoint (index in the table) the outlier detector ejected when this exchange's try ended; -1: none.
    private(set) var ejectedEndpoint = -1
    private var holdsRetrySlot = false
    /// The request's consistent-hash key, for a cluster that balances by one (nil: none, or a draw stands in).
    private var hashKey: UInt64?
    /// A sticky-session cookie value generated for a request that came without it (see `CookieAffinity`): the
    /// answer sets it.
    private(set) var generatedCookie: UInt64?
    /// A stale pooled connection was already retried on a new one (once per exchange, not counted as a retry).
    private var staleRetryUsed = false
    /// Response flags decided before any answer (DI, for a fault delay), for the owner to record.
    private(set) var flags: ResponseFlags = []
    /// Envoy cluster stats produced and not yet taken by the owner (`takeStats`).
    private(set) var stats = ClusterStatEvents()

    /// The stats produced since the last call, for the owner to count against the cluster.
    mutating func takeStats() -> ClusterStatEvents {
        defer { stats = [] }
        return stats
    }

    /// The earliest time the owner must call `timerFired` at; 0 when nothing is pending.
    var nextDeadline: Int64 {
        var next = routeDeadline
        if tryDeadline > 0 && (next == 0 || tryDeadline < next) { next = tryDeadline }
        if waitUntil > 0 && (next == 0 || waitUntil < next) { next = waitUntil }
        if connectDeadline > 0 && (next == 0 || connectDeadline < next) { next = connectDeadline }
        return next
    }

    // MARK: Starting

    /// Routes a request that arrived on route-table listener `listener`: the first matching route, one of its
    /// weighted destinations, then an endpoint of that cluster.
    mutating func begin(_ request: RequestView, listener: Int, snapshot: ConfigSnapshot, routing: inout RoutingState,
                        now: Int64, clientIP: UnsafeRawBufferPointer = UnsafeRawBufferPointer(start: nil, count: 0))
        -> ExchangeAction {
        self = ExchangeMachine()
        if snapshot.httpsRedirect[listener] {
            phase = .answered
            return .redirectToHTTPS
        }
        let routed = snapshot.table.routeInDetail(request, listener: listener, state: &routing)
        switch routed.decision {
        case .noRoute:
            return answered(.noRoute)
        case .answer(let route):
            self.route = route
        case .cluster(let route, let cluster):
            self.route = route
            self.cluster = cluster
        }
        match = routed.match
        destination = routed.destination
        if cluster >= 0 && snapshot.clusterHashes[cluster] { computeHashKey(request, clientIP: clientIP, snapshot: snapshot, routing: &routing) }
        if snapshot.routeRuntimes[route].flags.contains(.cors), let cors = snapshot.table.routes[route].corsPolicy {
            // Envoy's CORS filter runs before the fault filter and the router.
            switch cors.verdict(request) {
            case .answerPreflight: return answered(.corsPreflight(withHeaders: true))
            case .answerUnmatchedPreflight: return answered(.corsPreflight(withHeaders: false))
            case .forwardAllowed: corsAllowed = true
            case .notCors, .forwardUnmatchedPreflight: break
            }
        }
        if snapshot.table.routes[route].fault != nil, routing.appliesFaultDelay(of: snapshot.table.routes[route]),
           let delay = snapshot.table.routes[route].fault?.delay {
            // Envoy's fault filter runs before the router: the delay first, the route's timeout only after it.
            flags.insert(.DI)
            phase = .faultDelay
            waitUntil = now + Int64(delay.fixedDelay.wholeMilliseconds)
            return .wait
        }
        return afterFaultDelay(snapshot: snapshot, routing: &routing, now: now)
    }

    /// What follows routing (and any fault delay): a fault abort, the route's own answer, or the first try.
    private mutating func afterFaultDelay(snapshot: ConfigSnapshot, routing: inout RoutingState, now: Int64) -> ExchangeAction {
        waitUntil = 0
        if snapshot.table.routes[route].fault != nil, routing.appliesFaultAbort(of: snapshot.table.routes[route]),
           let abort = snapshot.table.routes[route].fault?.abort {
            var answer = LocalAnswer.faultAbort(abort.status)
            answer.flags.insert(flags)
            return answered(answer)
        }
        guard cluster >= 0 else {
            switch snapshot.table.routes[route].action {
            case .redirect:
                phase = .answered
                return .redirect
            case .directResponse(let response):
                return answered(.direct(response))
            case .forward:
                return answered(.noRoute)
            }
        }
        let timeout = snapshot.routeRuntimes[route].timeoutMilliseconds
        if timeout > 0 { routeDeadline = now + timeout }
        return startTry(snapshot: snapshot, routing: &routing, now: now)
    }

    /// Picks an endpoint, avoiding those already tried when another is left, and starts a try on it.
    private mutating func startTry(snapshot: ConfigSnapshot, routing: inout RoutingState, now: Int64) -> ExchangeAction {
        guard routing.generation == snapshot.generation else {
            return answered(.failure(.connectFailure))  // a reload replaced the per-cluster state mid-exchange
        }
        // Envoy's previous-hosts predicate, which Istio sets except for consistent hashing.
        let avoid = !tried.isEmpty && !snapshot.clusterHashes[cluster] && snapshot.routePolicies[route].retry.avoidPreviousHosts
        guard let position = routing.pickEndpoint(cluster: cluster, in: snapshot.table, hashKey: hashKey,
                                                  previous: avoid ? tried : PreviousEndpoints()) else {
            return answered(.noHealthyUpstream)
        }
        if routing.traffic.limited[cluster] && !holdsRequestSlot && tries == 0 {
            guard routing.traffic.breakers[cluster].tryAcquireRequest() else {
                stats.insert(ClusterStatEvents(.upstreamRqPendingOverflow))
                return answered(.overflow)
            }
            holdsRequestSlot = true
        }
        endpointPosition = position
        endpoint = snapshot.table.clusters[cluster].endpoints[position]
        tried.insert(position)
        routing.traffic.requestStarted(cluster: cluster, position: position)
        tryCounted = true
        tryGeneration = snapshot.generation
        tries += 1
        phase = .trying
        waitUntil = 0
        connectDeadline = 0
        let perTry = snapshot.routeRuntimes[route].perTryTimeoutMilliseconds
        tryDeadline = perTry > 0 ? now + perTry : 0
        return .connect
    }

    // MARK: Events of a try

    /// The try opens a new connection: it must be up within the cluster's `connectTimeout` (a connect failure
    /// after that, which the retry policy may retry).
    mutating func connecting(snapshot: ConfigSnapshot, now: Int64) {
        guard phase == .trying, cluster >= 0 else { return }
        connectDeadline = now + snapshot.clusterConnectTimeouts[cluster]
    }

    /// The try's connection is up.
    mutating func connected() {
        connectDeadline = 0
    }

    /// The try failed before a response head arrived. `replayable`: the request can be sent again whole (no body,
    /// or the body is still held). `stalePooled`: the connection came from the pool and nothing of the request
    /// reached the upstream, so the failure says only that the idle connection had died.
    mutating func upstreamFailed(_ failure: UpstreamFailure, replayable: Bool, stalePooled: Bool,
                                 snapshot: ConfigSnapshot, routing: inout RoutingState, now: Int64) -> ExchangeAction {
        switch phase {
        case .relaying:
            phase = .done
            return .abort(flags: .UC)
        case .trying:
            break
        default:
            return .none
        }
        connectDeadline = 0
        finishTry(.connectFailed, routing: &routing, now: now, counts: !(stalePooled && failure == .connectionTermination))
        if stalePooled && replayable && !staleRetryUsed && failure == .connectionTermination {
            staleRetryUsed = true
            freshConnection = true
            return .connect
        }
        freshConnection = false
        return retryOrAnswer(failure.tryOutcome(requestSent: !replayable), answer: .failure(failure),
                             replayable: replayable, snapshot: snapshot, routing: &routing, now: now)
    }

    /// A response head arrived (informational ones excluded). Returns `.relay`, or a retry when the policy retries
    /// this status and the request can be sent again (the owner then drops the answer with its connection/stream).
    mutating func responseHead(status: Int, grpcStatus: Int?, replayable: Bool, snapshot: ConfigSnapshot,
                               routing: inout RoutingState, now: Int64) -> ExchangeAction {
        guard phase == .trying else { return .none }
        finishTry(.status(status), routing: &routing, now: now)
        connectDeadline = 0
        phase = .relaying
        if holdsRequestSlot && routing.generation == tryGeneration { releaseBreakerSlots(&routing, request: true) }
        tryDeadline = 0
        // (A 1xx or 2xx answer is never retried, even if listed in retriable status codes.)
        guard status >= 300 else {
            if retriesDone > 0 { stats.insert(ClusterStatEvents(.upstreamRqRetrySuccess)) }
            return .relay(flags: [])
        }
        let policy = snapshot.routePolicies[route]
        let decision = replayable ? policy.decision(.response(status: status, grpcStatus: grpcStatus)) : .no
        if decision == .no {
            // Envoy counts a retried request whose answer is not retried again as a retry success.
            if retriesDone > 0 { stats.insert(ClusterStatEvents(.upstreamRqRetrySuccess)) }
            return .relay(flags: [])
        }
        if retriesDone < policy.retries && !deadlinePassed(now) {
            phase = .trying
            return scheduleRetry(immediately: decision == .retryImmediately, snapshot: snapshot, routing: &routing, now: now)
        }
        stats.insert(ClusterStatEvents(.upstreamRqRetryLimitExceeded))
        return .relay(flags: .URX)
    }

    /// The response was relayed whole.
    mutating func responseEnded() {
        phase = .done
        connectDeadline = 0
        routeDeadline = 0
        tryDeadline = 0
        waitUntil = 0
    }

    /// The client went away, or the exchange ended otherwise: nothing more is wanted.
    mutating func finish(routing: inout RoutingState, now: Int64) {
        finishTry(.connectFailed, routing: &routing, now: now, counts: false)
        if routing.generation == tryGeneration { releaseBreakerSlots(&routing, request: true) }
        responseEnded()
    }

    /// Ends the current try in the worker's per-cluster state: least-request counts, and (when `counts`) the
    /// outlier detector, which may eject the endpoint.
    private mutating func finishTry(_ outcome: OutlierDetector.Outcome, routing: inout RoutingState, now: Int64,
                                    counts: Bool = true) {
        guard tryCounted else { return }
        tryCounted = false
        guard routing.generation == tryGeneration else { return }
        releaseBreakerSlots(&routing, request: false)
        if !counts {
            routing.traffic.requestAbandoned(cluster: cluster, position: endpointPosition)
            return
        }
        if case .ejected = routing.traffic.requestFinished(cluster: cluster, position: endpointPosition, outcome: outcome, now: now) {
            stats.insert(ClusterStatEvents(.outlierDetectionEjections))
            ejectedEndpoint = endpoint
        }
    }

    /// Gives back the retry slot of the try that ended, and (`request`) the request's slot when the exchange ends.
    private mutating func releaseBreakerSlots(_ routing: inout RoutingState, request: Bool) {
        guard holdsRetrySlot || (request && holdsRequestSlot), cluster >= 0, cluster < routing.traffic.breakers.count else { return }
        if holdsRetrySlot {
            holdsRetrySlot = false
            routing.traffic.breakers[cluster].releaseRetry()
        }
        if request && holdsRequestSlot {
            holdsRequestSlot = false
            routing.traffic.breakers[cluster].releaseRequest()
        }
    }

    /// The owner could not get a connection: the pool is at `maxConnections` and `http1MaxPendingRequests` are
    /// already waiting. Envoy answers 503 with flag UO.
    mutating func connectionOverflowed(routing: inout RoutingState, now: Int64) -> ExchangeAction {
        finishTry(.connectFailed, routing: &routing, now: now, counts: false)
        releaseBreakerSlots(&routing, request: true)
        stats.insert(ClusterStatEvents(.upstreamRqPendingOverflow))
        return answered(.overflow)
    }

    /// Works out the request's consistent-hash key under its cluster's policy; a cookie policy with a ttl and a
    /// request without the cookie generates a value (random here, per request; Envoy derives it from the
    /// connection's addresses) that the answer then sets.
    private mutating func computeHashKey(_ request: RequestView, clientIP: UnsafeRawBufferPointer, snapshot: ConfigSnapshot,
                                         routing: inout RoutingState) {
        guard case .consistentHash(let policy) = snapshot.table.clusters[cluster].trafficPolicy.loadBalancer else { return }
        var seed = routing.nextDraw()
        let result = withUnsafeBytes(of: &seed) { policy.requestHash(of: request, clientIP: clientIP, connectionAddresses: $0) }
        hashKey = result.hash
        generatedCookie = result.generatedCookie
    }

    /// A deadline the owner armed for `nextDeadline` passed (or an earlier, stale one: then nothing happens).
    mutating func timerFired(now: Int64, replayable: Bool, snapshot: ConfigSnapshot, routing: inout RoutingState) -> ExchangeAction {
        switch phase {
        case .faultDelay:
            guard now >= waitUntil else { return .none }
            return afterFaultDelay(snapshot: snapshot, routing: &routing, now: now)
        case .backingOff:
            if routeDeadline > 0 && now >= routeDeadline {
                releaseBreakerSlots(&routing, request: true)
                return timedOut()
            }
            guard now >= waitUntil else { return .none }
            return startTry(snapshot: snapshot, routing: &routing, now: now)
        case .trying:
            if routeDeadline > 0 && now >= routeDeadline {
                finishTry(.timeout, routing: &routing, now: now)
                releaseBreakerSlots(&routing, request: true)
                return timedOut()
            }
            if connectDeadline > 0 && now >= connectDeadline {
                connectDeadline = 0
                return upstreamFailed(.connectFailure, replayable: replayable, stalePooled: false, snapshot: snapshot,
                                      routing: &routing, now: now)
            }
            guard tryDeadline > 0 && now >= tryDeadline else { return .none }
            finishTry(.timeout, routing: &routing, now: now)
            stats.insert(ClusterStatEvents(.upstreamRqPerTryTimeout))
            return retryOrAnswer(.perTryTimeout, answer: .timeout, replayable: replayable, snapshot: snapshot,
                                 routing: &routing, now: now)
        case .relaying:
            guard routeDeadline > 0 && now >= routeDeadline else { return .none }
            phase = .done
            stats.insert(ClusterStatEvents(.upstreamRqTimeout))
            return .abort(flags: .UT)
        case .idle, .answered, .done:
            return .none
        }
    }

    // MARK: Retrying

    private func deadlinePassed(_ now: Int64) -> Bool { routeDeadline > 0 && now >= routeDeadline }

    private mutating func retryOrAnswer(_ outcome: TryOutcome, answer: LocalAnswer, replayable: Bool,
                                        snapshot: ConfigSnapshot, routing: inout RoutingState, now: Int64) -> ExchangeAction {
        let policy = snapshot.routePolicies[route]
        let wanted = policy.decision(outcome)
        if wanted != .no && replayable && retriesDone < policy.retries && !deadlinePassed(now) {
            return scheduleRetry(immediately: wanted == .retryImmediately, snapshot: snapshot, routing: &routing, now: now)
        }
        releaseBreakerSlots(&routing, request: true)
        var answer = answer
        if wanted != .no && retriesDone > 0 && retriesDone >= policy.retries {
            answer.flags.insert(.URX)
            stats.insert(ClusterStatEvents(.upstreamRqRetryLimitExceeded))
        }
        return answered(answer)
    }

    /// Starts the next try: after Envoy's back-off, or at once (`immediately`: a refused stream, which Envoy
    /// retries without waiting).
    private mutating func scheduleRetry(immediately: Bool, snapshot: ConfigSnapshot, routing: inout RoutingState,
                                        now: Int64) -> ExchangeAction {
        if routing.traffic.limited[cluster] && routing.generation == snapshot.generation {
            // maxRetries: retries in flight on the cluster; past it the last try's outcome stands (flag UO).
            guard routing.traffic.breakers[cluster].tryAcquireRetry() else {
                stats.insert(ClusterStatEvents(.upstreamRqRetryOverflow))
                releaseBreakerSlots(&routing, request: true)
                return answered(.overflow)
            }
            holdsRetrySlot = true
        }
        retriesDone += 1
        stats.insert(ClusterStatEvents(.upstreamRqRetry))
        tryDeadline = 0
        let delay = immediately ? 0 : snapshot.routePolicies[route].backOffMilliseconds(retry: retriesDone, draw: routing.nextDraw())
        guard delay > 0 else { return startTry(snapshot: snapshot, routing: &routing, now: now) }
        phase = .backingOff
        waitUntil = now + delay
        return .wait
    }

    private mutating func timedOut() -> ExchangeAction {
        stats.insert(ClusterStatEvents(.upstreamRqTimeout))
        return answered(.timeout)
    }

    /// Ends the exchange with a local answer: no deadline is pending any more.
    private mutating func answered(_ answer: LocalAnswer) -> ExchangeAction {
        phase = .answered
        connectDeadline = 0
        routeDeadline = 0
        tryDeadline = 0
        waitUntil = 0
        return .answer(answer)
    }
}
