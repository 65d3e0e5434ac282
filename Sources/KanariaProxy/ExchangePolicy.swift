import KanariaRouting

/// A route's timeouts and retry rules in the form the exchange machine reads per request: whole milliseconds
/// (0 for none) and the route's `RetryPolicy` with its back-off. Built once per configuration from `HTTPRoute`.
struct ExchangePolicy: Sendable {
    /// Route timeout in milliseconds; 0: none (Istio's default: a route without `timeout` never times out).
    var timeoutMilliseconds: Int64
    /// Per-try timeout in milliseconds; 0: none (each try may use what is left of the route timeout).
    var perTryTimeoutMilliseconds: Int64
    var retry: RetryPolicy
    var backoff: RetryBackoff
    /// What else the route does, so that the request path skips each with one check of a flag: a CORS policy;
    /// a rewrite or header edits on the request; header edits on the response; mirrors.
    var hasCors = false
    var editsRequest = false
    var editsResponse = false
    var hasMirrors = false

    init(timeoutMilliseconds: Int64 = 0, retry: RetryPolicy = .istioDefault) {
        self.timeoutMilliseconds = timeoutMilliseconds
        self.retry = retry
        perTryTimeoutMilliseconds = retry.perTryTimeout.map { Int64($0.wholeMilliseconds) } ?? 0
        backoff = retry.backoff
    }

    /// The policy of `route`.
    init(route: HTTPRoute) {
        self.init(timeoutMilliseconds: route.timeout.map { Int64(max(1, $0.wholeMilliseconds)) } ?? 0, retry: route.retries)
        hasCors = route.corsPolicy != nil
        editsRequest = route.rewrite?.path != nil || route.authorityRewrites.contains { $0 != nil }
            || route.requestHeaderEdits.contains { !$0.isEmpty }
        editsResponse = route.responseHeaderEdits.contains { !$0.isEmpty }
        hasMirrors = !route.mirrors.isEmpty
    }

    /// Istio's policy for a route that says nothing: no timeout, 2 retries on connect-failure, refused-stream,
    /// unavailable and cancelled, each to another host where there is one.
    static let istioDefault = ExchangePolicy()

    /// Retries allowed after the first try.
    var retries: Int { retry.retries }

    /// Envoy's decision for a try that ended so.
    func decision(_ outcome: TryOutcome) -> RetryDecision {
        retry.shouldRetry(outcome)
    }

    /// The back-off before retry `retry` (1 for the first) for the random `draw`, in milliseconds.
    func backOffMilliseconds(retry: Int, draw: UInt64) -> Int64 {
        Int64(backoff.delay(beforeRetry: retry, draw: draw).wholeMilliseconds)
    }
}

extension UpstreamFailure {
    /// The failure as Envoy's retry policy sees it.
    func tryOutcome(requestSent: Bool) -> TryOutcome {
        switch self {
        case .connectFailure: .connectFailure
        case .refusedStream: .refusedStream
        case .connectionTermination, .protocolError: .reset(requestSent: requestSent)
        }
    }
}
