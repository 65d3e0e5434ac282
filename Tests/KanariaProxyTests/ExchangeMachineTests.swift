import KanariaHTTP
import KanariaRouting
import KanariaTelemetry
import Testing

@testable import KanariaProxy

/// One listener for host `*`, one route to cluster 0 (`outbound|8080|v1|nodejs…`) with `endpoints` endpoints.
private func snapshot(endpoints: Int, policy: ExchangePolicy = .istioDefault, httpsRedirect: Bool = false,
                      routePrefix: String? = nil, action: RouteAction = .forward, fault: FaultPolicy? = nil) -> ConfigSnapshot {
    let matches = routePrefix.map { [RequestMatch(uri: .prefix($0))] } ?? []
    let table = RouteTable(
        listeners: [Listener(port: 80, gateway: "default/gw", virtualHosts: [VirtualHost(domains: ["*"], routes: [0])],
                             httpsRedirect: httpsRedirect)],
        routes: [HTTPRoute(name: "nodejs.0", virtualService: "default/nodejs", matches: matches,
                           destinations: action == .forward ? [WeightedCluster(cluster: 0, weight: 100)] : [],
                           action: action, fault: fault)],
        clusters: [Cluster(serviceHost: "nodejs.default.svc.cluster.local", serviceName: "nodejs", namespace: "default",
                           subset: "v1", port: 8080, endpoints: Array(0..<endpoints),
                           trafficPolicy: TrafficPolicy(loadBalancer: .roundRobin))],
        endpoints: (0..<endpoints).map {
            Endpoint(address: "127.0.0.\($0 + 1)", port: 9081, labels: ["version": "v1"], workload: "w\($0)", namespace: "default")
        })
    let registry = TelemetryRegistry(workers: 1, source: SourceLabels(workload: "gw", workloadNamespace: "default",
                                                                       app: "gw", canonicalService: "gw"))
    return ConfigSnapshot(table: table, generation: 0, registry: registry, routePolicies: [policy])
}

/// Runs `body` with a parsed request for `path`.
private func withRequest<T>(_ path: String = "/", _ body: (RequestView) -> T) -> T {
    let bytes = Array("GET \(path) HTTP/1.1\r\nhost: example.com\r\n\r\n".utf8)
    return bytes.withUnsafeBytes { message in
        var parser = RequestHeadParser()
        var head = RequestHead()
        precondition((try? parser.parse(message, into: &head)) == true)
        return body(RequestView(message: message, head: head))
    }
}

private func isConnect(_ action: ExchangeAction) -> Bool { if case .connect = action { true } else { false } }
private func isWait(_ action: ExchangeAction) -> Bool { if case .wait = action { true } else { false } }
private func isRelay(_ action: ExchangeAction) -> Bool { if case .relay = action { true } else { false } }
private func answer(_ action: ExchangeAction) -> LocalAnswer? { if case .answer(let a) = action { a } else { nil } }
private func text(_ answer: LocalAnswer?) -> String? { answer?.body.withBytes { String(decoding: $0, as: UTF8.self) } }

@Suite("Exchange machine")
struct ExchangeMachineTests {
    /// A routed request asks for a connection to the first endpoint, then relays the response head it gets.
    @Test func routedRequestConnectsThenRelays() {
        let config = snapshot(endpoints: 2)
        var routing = RoutingState(table: config.table)
        var machine = ExchangeMachine()
        let first = withRequest { machine.begin($0, listener: 0, snapshot: config, routing: &routing, now: 1000) }
        #expect(isConnect(first))
        #expect(machine.endpoint == 0 && machine.tries == 1 && machine.phase == .trying)
        #expect(machine.nextDeadline == 0)  // Istio's default: no route timeout
        let head = machine.responseHead(status: 200, grpcStatus: nil, replayable: true, snapshot: config,
                                        routing: &routing, now: 1001)
        #expect(isRelay(head))
        #expect(machine.phase == .relaying)
    }

    /// No matching route answers 404 with flag NR; a cluster without endpoints answers 503 "no healthy upstream" (UH).
    @Test func noRouteAndNoEndpointAreAnsweredLocally() {
        let config = snapshot(endpoints: 0, routePrefix: "/api")
        var routing = RoutingState(table: config.table)
        var machine = ExchangeMachine()
        let missing = withRequest("/web") { machine.begin($0, listener: 0, snapshot: config, routing: &routing, now: 0) }
        #expect(answer(missing)?.status == 404)
        #expect(answer(missing)?.flags == .NR)
        let empty = withRequest("/api") { machine.begin($0, listener: 0, snapshot: config, routing: &routing, now: 0) }
        #expect(answer(empty)?.status == 503)
        #expect(answer(empty)?.flags == .UH)
        #expect(text(answer(empty)) == "no healthy upstream")
    }

    /// Istio's default policy retries a connect failure on the other endpoint after a back-off below 25 ms; the
    /// retry succeeds, so the client never sees the failure.
    @Test func connectFailureIsRetriedOnAnotherEndpoint() {
        let config = snapshot(endpoints: 2)
        var routing = RoutingState(table: config.table, seed: 7)
        var machine = ExchangeMachine()
        _ = withRequest { machine.begin($0, listener: 0, snapshot: config, routing: &routing, now: 1000) }
        #expect(machine.endpoint == 0)
        let failed = machine.upstreamFailed(.connectFailure, replayable: true, stalePooled: false, snapshot: config,
                                            routing: &routing, now: 1000)
        if isWait(failed) {
            #expect(machine.nextDeadline >= 1000 && machine.nextDeadline < 1025)
            #expect(isConnect(machine.timerFired(now: machine.nextDeadline, replayable: true, snapshot: config, routing: &routing)))
        } else {
            #expect(isConnect(failed))  // a back-off draw of 0 ms
        }
        #expect(machine.endpoint == 1 && machine.tries == 2 && machine.retriesDone == 1)
    }

    /// With both endpoints refusing, the default policy gives up after 2 retries (3 tries) and answers Envoy's 503
    /// with flags UF and URX.
    @Test func retriesAreBoundedByAttempts() {
        let config = snapshot(endpoints: 2)
        var routing = RoutingState(table: config.table, seed: 1)
        var machine = ExchangeMachine()
        var action = withRequest { machine.begin($0, listener: 0, snapshot: config, routing: &routing, now: 0) }
        var now: Int64 = 0
        var endpoints: [Int] = []
        while true {
            if isWait(action) {
                now = machine.nextDeadline
                action = machine.timerFired(now: now, replayable: true, snapshot: config, routing: &routing)
                continue
            }
            guard isConnect(action) else { break }
            endpoints.append(machine.endpoint)
            action = machine.upstreamFailed(.connectFailure, replayable: true, stalePooled: false, snapshot: config,
                                            routing: &routing, now: now)
        }
        // Three tries; the first retry goes to the endpoint not tried yet (the third finds both tried).
        #expect(endpoints.count == 3 && endpoints[0] != endpoints[1])
        #expect(answer(action)?.status == 503)
        #expect(answer(action)?.flags == [.UF, .URX])
    }

    /// The default policy does not retry a 503 answer (istio#52111), nor a reset; `attempts: 0` retries nothing.
    @Test func defaultPolicyRelaysFiveHundredsAndRetryOffRetriesNothing() {
        let config = snapshot(endpoints: 2)
        var routing = RoutingState(table: config.table)
        var machine = ExchangeMachine()
        _ = withRequest { machine.begin($0, listener: 0, snapshot: config, routing: &routing, now: 0) }
        #expect(isRelay(machine.responseHead(status: 503, grpcStatus: nil, replayable: true, snapshot: config,
                                             routing: &routing, now: 0)))
        _ = withRequest { machine.begin($0, listener: 0, snapshot: config, routing: &routing, now: 0) }
        #expect(answer(machine.upstreamFailed(.connectionTermination, replayable: true, stalePooled: false, snapshot: config,
                                              routing: &routing, now: 0))?.flags == .UC)

        let off = ExchangePolicy(retry: .off)
        let noRetries = snapshot(endpoints: 2, policy: off)
        _ = withRequest { machine.begin($0, listener: 0, snapshot: noRetries, routing: &routing, now: 0) }
        #expect(answer(machine.upstreamFailed(.connectFailure, replayable: true, stalePooled: false, snapshot: noRetries,
                                              routing: &routing, now: 0))?.flags == .UF)
    }

    /// A retriable status is retried only while the request can be sent again whole.
    @Test func retriableStatusNeedsAReplayableRequest() {
        let policy = ExchangePolicy(retry: RetryPolicy(retries: 2, retryOn: [.gatewayError]))
        let config = snapshot(endpoints: 2, policy: policy)
        var routing = RoutingState(table: config.table)
        var machine = ExchangeMachine()
        _ = withRequest { machine.begin($0, listener: 0, snapshot: config, routing: &routing, now: 0) }
        #expect(isRelay(machine.responseHead(status: 503, grpcStatus: nil, replayable: false, snapshot: config,
                                             routing: &routing, now: 0)))
        _ = withRequest { machine.begin($0, listener: 0, snapshot: config, routing: &routing, now: 0) }
        let retry = machine.responseHead(status: 503, grpcStatus: nil, replayable: true, snapshot: config, routing: &routing, now: 0)
        #expect(isWait(retry) || isConnect(retry))
    }

    /// A retriable answer after the last retry is relayed, flagged URX and counted as an exhausted retry; a
    /// non-retriable answer after a retry counts as a retry success.
    @Test func lastRetriableAnswerIsRelayedWithURX() {
        let config = snapshot(endpoints: 2, policy: ExchangePolicy(retry: RetryPolicy(retries: 1, retryOn: [.fiveXX],
                                                                                       backoffBase: .milliseconds(1))))
        var routing = RoutingState(table: config.table, seed: 5)
        var machine = ExchangeMachine()
        _ = withRequest { machine.begin($0, listener: 0, snapshot: config, routing: &routing, now: 0) }
        var action = machine.responseHead(status: 503, grpcStatus: nil, replayable: true, snapshot: config, routing: &routing, now: 0)
        if isWait(action) { action = machine.timerFired(now: machine.nextDeadline, replayable: true, snapshot: config, routing: &routing) }
        #expect(isConnect(action) && machine.tries == 2)
        #expect(machine.takeStats() == ClusterStatEvents(.upstreamRqRetry))
        guard case .relay(let flags) = machine.responseHead(status: 503, grpcStatus: nil, replayable: true, snapshot: config,
                                                            routing: &routing, now: 10) else {
            Issue.record("the last answer must be relayed")
            return
        }
        #expect(flags == .URX)
        #expect(machine.takeStats() == ClusterStatEvents(.upstreamRqRetryLimitExceeded))
    }

    /// A stale pooled connection is tried again once on a new connection to the same endpoint, without spending a retry.
    @Test func stalePooledConnectionIsRetriedOnceFresh() {
        let config = snapshot(endpoints: 2)
        var routing = RoutingState(table: config.table)
        var machine = ExchangeMachine()
        _ = withRequest { machine.begin($0, listener: 0, snapshot: config, routing: &routing, now: 0) }
        let again = machine.upstreamFailed(.connectionTermination, replayable: true, stalePooled: true, snapshot: config,
                                           routing: &routing, now: 0)
        #expect(isConnect(again) && machine.freshConnection && machine.endpoint == 0 && machine.retriesDone == 0)
        let second = machine.upstreamFailed(.connectionTermination, replayable: true, stalePooled: true, snapshot: config,
                                            routing: &routing, now: 0)
        #expect(answer(second)?.status == 503)
    }

    /// A route timeout of 500 ms answers 504 (flag UT) when it passes before the response head, and breaks a
    /// response still being relayed.
    @Test func routeTimeoutAnswersGatewayTimeout() {
        let config = snapshot(endpoints: 1, policy: ExchangePolicy(timeoutMilliseconds: 500))
        var routing = RoutingState(table: config.table)
        var machine = ExchangeMachine()
        _ = withRequest { machine.begin($0, listener: 0, snapshot: config, routing: &routing, now: 10_000) }
        #expect(machine.nextDeadline == 10_500)
        #expect(answer(machine.timerFired(now: 10_499, replayable: true, snapshot: config, routing: &routing)) == nil)
        let late = machine.timerFired(now: 10_500, replayable: true, snapshot: config, routing: &routing)
        #expect(answer(late)?.status == 504)
        #expect(answer(late)?.flags == .UT)
        #expect(machine.nextDeadline == 0)  // answered: nothing left to wait for

        _ = withRequest { machine.begin($0, listener: 0, snapshot: config, routing: &routing, now: 20_000) }
        _ = machine.responseHead(status: 200, grpcStatus: nil, replayable: true, snapshot: config, routing: &routing, now: 20_100)
        guard case .abort(let flags) = machine.timerFired(now: 20_500, replayable: true, snapshot: config, routing: &routing) else {
            Issue.record("a timeout during the response must abort it")
            return
        }
        #expect(flags == .UT)
    }

    /// A per-try timeout with retryOn gateway-error starts another try; after the last retry's per-try timeout the
    /// client gets 504 with flags UT and URX.
    @Test func perTryTimeoutRetriesUntilRetriesRunOut() {
        let retry = RetryPolicy(retries: 2, retryOn: [.gatewayError], perTryTimeout: .milliseconds(300),
                                backoffBase: .milliseconds(1))
        let config = snapshot(endpoints: 2, policy: ExchangePolicy(timeoutMilliseconds: 5000, retry: retry))
        var routing = RoutingState(table: config.table)
        var machine = ExchangeMachine()
        _ = withRequest { machine.begin($0, listener: 0, snapshot: config, routing: &routing, now: 0) }
        #expect(machine.nextDeadline == 300)
        var now: Int64 = 0
        var last = ExchangeAction.none
        for _ in 0..<10 {
            now = machine.nextDeadline
            last = machine.timerFired(now: now, replayable: true, snapshot: config, routing: &routing)
            if case .answer = last { break }
        }
        #expect(machine.tries == 3)
        #expect(answer(last)?.status == 504)
        #expect(answer(last)?.flags == [.UT, .URX])
        #expect(now >= 900 && now < 910)
    }

    /// The route timeout bounds all the tries: with 1 s for the route and 300 ms per try, the fourth try never starts.
    @Test func routeTimeoutBoundsTheTries() {
        let retry = RetryPolicy(retries: 5, retryOn: [.gatewayError], perTryTimeout: .milliseconds(300),
                                backoffBase: .milliseconds(1))
        let config = snapshot(endpoints: 2, policy: ExchangePolicy(timeoutMilliseconds: 1000, retry: retry))
        var routing = RoutingState(table: config.table)
        var machine = ExchangeMachine()
        _ = withRequest { machine.begin($0, listener: 0, snapshot: config, routing: &routing, now: 0) }
        var last = ExchangeAction.none
        for _ in 0..<20 {
            last = machine.timerFired(now: machine.nextDeadline, replayable: true, snapshot: config, routing: &routing)
            if case .answer = last { break }
        }
        #expect(machine.tries == 4)
        #expect(answer(last)?.status == 504)
        #expect(answer(last)?.flags == .UT)
    }

    /// Envoy's back-off: first retry below 25 ms, second below 75 ms, third below 175 ms, never above 250 ms.
    @Test func backOffFollowsEnvoysJitteredExponential() {
        let policy = ExchangePolicy.istioDefault
        var random = SplitMix64(seed: 3)
        for _ in 0..<1000 {
            #expect(policy.backOffMilliseconds(retry: 1, draw: random.next()) < 25)
            #expect(policy.backOffMilliseconds(retry: 2, draw: random.next()) < 75)
            #expect(policy.backOffMilliseconds(retry: 3, draw: random.next()) < 175)
            #expect(policy.backOffMilliseconds(retry: 9, draw: random.next()) <= 250)
        }
        #expect(policy.backOffMilliseconds(retry: 1, draw: 24) == 24)
        #expect(policy.backOffMilliseconds(retry: 4, draw: 300) == 250)
    }

    /// A fault delay of 20% (exactly every fifth request of a worker) waits its fixed delay, flagged DI, before the
    /// try; the route timeout only starts after it, as Envoy's fault filter runs before the router.
    @Test func faultDelayHoldsEveryFifthRequestBeforeTheTry() {
        let fault = FaultPolicy(delay: FaultDelay(fixedDelay: .milliseconds(700), percentage: Percentage(percent: 20)))
        let config = snapshot(endpoints: 1, policy: ExchangePolicy(timeoutMilliseconds: 500), fault: fault)
        var routing = RoutingState(table: config.table)
        var machine = ExchangeMachine()
        var delayed: [Int] = []
        for i in 0..<10 {
            let action = withRequest { machine.begin($0, listener: 0, snapshot: config, routing: &routing, now: 1000) }
            if isWait(action) {
                delayed.append(i)
                #expect(machine.flags == .DI && machine.nextDeadline == 1700)
                #expect(isConnect(machine.timerFired(now: 1700, replayable: true, snapshot: config, routing: &routing)))
                #expect(machine.nextDeadline == 2200)
            } else {
                #expect(isConnect(action) && machine.nextDeadline == 1500)
            }
        }
        #expect(delayed.count == 2 && delayed[1] - delayed[0] == 5)
    }

    /// A fault abort answers without an upstream, with flag FI: the HTTP status, or a trailers-only gRPC status.
    @Test func faultAbortAnswersWithoutAnUpstream() {
        let http = snapshot(endpoints: 1, fault: FaultPolicy(abort: FaultAbort(status: .http(503), percentage: .all)))
        var routing = RoutingState(table: http.table)
        var machine = ExchangeMachine()
        let aborted = withRequest { machine.begin($0, listener: 0, snapshot: http, routing: &routing, now: 0) }
        #expect(answer(aborted)?.status == 503 && answer(aborted)?.flags == .FI)
        #expect(text(answer(aborted)) == "fault filter abort")
        #expect(machine.tries == 0)
        let grpc = snapshot(endpoints: 1, fault: FaultPolicy(abort: FaultAbort(status: .grpc(14), percentage: .all)))
        let grpcAborted = withRequest { machine.begin($0, listener: 0, snapshot: grpc, routing: &routing, now: 0) }
        #expect(answer(grpcAborted)?.status == 200 && answer(grpcAborted)?.grpcStatus == 14)
    }

    /// A route with a direct response answers it; a redirect route asks its owner for the redirect.
    @Test func routesThatAnswerByThemselves() {
        let direct = snapshot(endpoints: 0, action: .directResponse(DirectResponse(status: 418, body: Array("teapot".utf8))))
        var routing = RoutingState(table: direct.table)
        var machine = ExchangeMachine()
        let answered = withRequest { machine.begin($0, listener: 0, snapshot: direct, routing: &routing, now: 0) }
        #expect(answer(answered)?.status == 418 && text(answer(answered)) == "teapot")
        let redirect = snapshot(endpoints: 0, action: .redirect(RedirectAction(uri: "/new")))
        let redirected = withRequest { machine.begin($0, listener: 0, snapshot: redirect, routing: &routing, now: 0) }
        guard case .redirect = redirected else {
            Issue.record("expected the route's redirect")
            return
        }
    }

    /// An HTTPS-redirect listener answers before routing.
    @Test func httpsRedirectListenerRedirectsBeforeRouting() {
        let config = snapshot(endpoints: 1, httpsRedirect: true)
        var routing = RoutingState(table: config.table)
        var machine = ExchangeMachine()
        let action = withRequest { machine.begin($0, listener: 0, snapshot: config, routing: &routing, now: 0) }
        guard case .redirectToHTTPS = action else {
            Issue.record("expected a redirect")
            return
        }
    }
}

@Suite("Deadline queue")
struct DeadlineQueueTests {
    /// Deadlines come out in time order; a rescheduled one moves, a cancelled one never comes out.
    @Test func deadlinesComeOutInOrderAndCancelledOnesNever() {
        var queue = DeadlineQueue()
        let slots = (0..<6).map { DeadlineSlot(owner: UInt64($0) << 4) }
        for (slot, time) in zip(slots, [50, 10, 40, 30, 20, 60] as [Int64]) { queue.schedule(slot, at: time) }
        queue.schedule(slots[5], at: 5)   // moved earlier
        queue.schedule(slots[1], at: 45)  // moved later
        queue.cancel(slots[3])
        queue.schedule(slots[4], at: 0)   // 0 cancels
        #expect(queue.count == 4)
        #expect(queue.waitMilliseconds(now: 0) == 6)  // until the clock has passed 5
        var order: [UInt64] = []
        while let slot = queue.popDue(now: 100) { order.append(slot.owner >> 4) }
        #expect(order == [5, 2, 1, 0])
        #expect(queue.isEmpty && queue.waitMilliseconds(now: 0) == -1)
        #expect(!slots[3].isScheduled && !slots[0].isScheduled)
    }

    /// Nothing comes out before the millisecond clock has passed its time: at a reading of 1000 the real time may
    /// still be just past 1000.0, less than the delay after a slot armed at a reading of, say, 700.9 for 300 ms.
    @Test func nothingIsDueEarly() {
        var queue = DeadlineQueue()
        let slot = DeadlineSlot(owner: 16)
        queue.schedule(slot, at: 1000)
        #expect(queue.popDue(now: 999) == nil)
        #expect(queue.popDue(now: 1000) == nil)
        #expect(queue.waitMilliseconds(now: 990) == 11)
        #expect(queue.waitMilliseconds(now: 1000) == 1)
        #expect(queue.popDue(now: 1001) === slot)
    }

    /// Random schedules, moves and cancels always pop in non-decreasing time order (a property over many runs).
    @Test func randomOperationsKeepHeapOrder() {
        var random = SplitMix64(seed: 42)
        for _ in 0..<50 {
            var queue = DeadlineQueue()
            let slots = (0..<40).map { DeadlineSlot(owner: UInt64($0) << 4) }
            for _ in 0..<200 {
                let slot = slots[Int(random.next() % 40)]
                switch random.next() % 3 {
                case 0: queue.cancel(slot)
                default: queue.schedule(slot, at: Int64(random.next() % 1000) + 1)
                }
            }
            let scheduled = slots.filter(\.isScheduled).count
            var last: Int64 = 0
            var popped = 0
            while let slot = queue.popDue(now: .max) {
                #expect(slot.time >= last)
                last = slot.time
                popped += 1
            }
            #expect(popped == scheduled)
        }
    }
}
