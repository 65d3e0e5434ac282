/// A route's retry policy (Istio's `HTTPRetry`), as Istio configures Envoy's: `retries` more tries after the
/// first, each when the try's outcome meets `retryOn`, after a fully jittered back-off.
///
/// When a route says nothing Istio applies `RetryPolicy.istioDefault` (2 retries on connect-failure,
/// refused-stream, unavailable and cancelled, to another host when there is one); `attempts: 0` is `.off`.
public struct RetryPolicy: Sendable, Equatable {
    /// How many retries follow the first try: `attempts: 3` allows up to 4 tries in all. 0 never retries.
    public let retries: Int
    public let retryOn: RetryOn
    /// The status codes that `retriableStatusCodes` retries.
    public let retriableStatusCodes: [Int]
    /// Each try's own deadline (Istio's `perTryTimeout`); nil: only the route's timeout bounds the tries.
    public let perTryTimeout: Duration?
    /// Envoy's `previous_hosts` predicate: a retry goes to an endpoint not tried yet, when the cluster has one.
    public let avoidPreviousHosts: Bool
    /// How many times the endpoint choice is redrawn to find a host not tried yet (Envoy's
    /// `host_selection_retry_max_attempts`, which Istio sets to 5).
    public let hostSelectionAttempts: Int
    /// The back-off's base interval (Istio's `backoff`; Envoy's default 25 ms). The cap is 10 × base.
    public let backoffBase: Duration

    public init(retries: Int, retryOn: RetryOn, retriableStatusCodes: [Int] = [], perTryTimeout: Duration? = nil,
                avoidPreviousHosts: Bool = true, hostSelectionAttempts: Int = 5, backoffBase: Duration = .milliseconds(25)) {
        self.retries = retries
        self.retryOn = retryOn
        self.retriableStatusCodes = retriableStatusCodes
        self.perTryTimeout = perTryTimeout
        self.avoidPreviousHosts = avoidPreviousHosts
        self.hostSelectionAttempts = hostSelectionAttempts
        self.backoffBase = backoffBase
    }

    /// Istio's policy for a route without `retries` (pilot's `retry.DefaultPolicy`, 503 excluded since
    /// istio#52111): 2 retries on `connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes`
    /// with no status codes listed, previous hosts avoided, 5 host selection attempts, no per-try timeout.
    public static let istioDefault = RetryPolicy(
        retries: 2, retryOn: [.connectFailure, .refusedStream, .unavailable, .cancelled, .retriableStatusCodes])

    /// `attempts: 0`: never retry.
    public static let off = RetryPolicy(retries: 0, retryOn: [], avoidPreviousHosts: false)

    /// Whether this policy ever retries.
    public var isOff: Bool { retries == 0 }
}

/// How a try ended, as far as retrying cares.
public enum TryOutcome: Sendable, Equatable {
    /// The connection to the endpoint could not be made (refused, unreachable, connect timeout).
    case connectFailure
    /// The upstream closed or reset before answering. `requestSent`: whether any of the request reached it.
    case reset(requestSent: Bool)
    /// The upstream refused the HTTP/2 stream (REFUSED_STREAM): it did not process the request.
    case refusedStream
    /// The try's `perTryTimeout` passed before the response head arrived.
    case perTryTimeout
    /// A response head: its status, and the `grpc-status` it carries (a trailers-only gRPC answer) if any.
    case response(status: Int, grpcStatus: Int?)
}

/// What to do after a try.
public enum RetryDecision: Sendable, Equatable {
    /// Give the outcome to the client.
    case no
    /// Try again after the back-off.
    case retryWithBackoff
    /// Try again now (a refused stream: the upstream did no work).
    case retryImmediately
}

extension RetryPolicy {
    /// Whether `outcome` calls for another try under Envoy's rules (`retry_state_impl.cc`), given that retries
    /// remain; the caller counts them.
    ///
    /// - A missing answer (reset, per-try timeout) is retried by `5xx`, `gateway-error` and `reset`;
    ///   a reset before the request was sent also by `reset-before-request`.
    /// - A connect failure: `connect-failure`, and `5xx`/`gateway-error`/`reset`/`reset-before-request`
    ///   (the request never left).
    /// - A refused stream: `5xx`/`gateway-error`/`reset` after the back-off, else `refused-stream` at once.
    /// - A response: `5xx` any 500...599; `gateway-error` 502/503/504; `retriable-4xx` 409;
    ///   `retriable-status-codes` the listed codes; the gRPC conditions their `grpc-status` (1 cancelled,
    ///   4 deadline-exceeded, 8 resource-exhausted, 13 internal, 14 unavailable).
    public func shouldRetry(_ outcome: TryOutcome) -> RetryDecision {
        if retries == 0 { return .no }
        let anyReset: RetryOn = [.fiveXX, .gatewayError, .reset]
        switch outcome {
        case .connectFailure:
            return retryOn.isDisjoint(with: anyReset.union([.connectFailure, .resetBeforeRequest])) ? .no : .retryWithBackoff
        case .reset(let requestSent):
            if !retryOn.isDisjoint(with: anyReset) { return .retryWithBackoff }
            return !requestSent && retryOn.contains(.resetBeforeRequest) ? .retryWithBackoff : .no
        case .refusedStream:
            // The request was sent, so `reset-before-request` does not apply; a reset condition wins (back-off).
            if !retryOn.isDisjoint(with: anyReset) { return .retryWithBackoff }
            return retryOn.contains(.refusedStream) ? .retryImmediately : .no
        case .perTryTimeout:
            return retryOn.isDisjoint(with: anyReset) ? .no : .retryWithBackoff
        case .response(let status, let grpcStatus):
            return retriesResponse(status: status, grpcStatus: grpcStatus) ? .retryWithBackoff : .no
        }
    }

    private func retriesResponse(status: Int, grpcStatus: Int?) -> Bool {
        if retryOn.contains(.fiveXX) && (500...599).contains(status) { return true }
        if retryOn.contains(.gatewayError) && (502...504).contains(status) { return true }
        if retryOn.contains(.retriable4xx) && status == 409 { return true }
        if retryOn.contains(.retriableStatusCodes) && retriableStatusCodes.contains(status) { return true }
        guard let grpcStatus, !retryOn.isDisjoint(with: RetryOn.grpc) else { return false }
        switch grpcStatus {
        case 1: return retryOn.contains(.cancelled)
        case 4: return retryOn.contains(.deadlineExceeded)
        case 8: return retryOn.contains(.resourceExhausted)
        case 13: return retryOn.contains(.internal)
        case 14: return retryOn.contains(.unavailable)
        default: return false
        }
    }
}
