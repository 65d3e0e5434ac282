/// The per-route rules an exchange follows when a try fails or takes too long: Envoy's route timeout, retry policy
/// and back-off, as Istio configures them.
struct ExchangePolicy: Sendable {
    /// Envoy's retry-on conditions (`x-envoy-retry-on`), one bit each.
    struct Conditions: OptionSet, Sendable {
        let rawValue: UInt32
        /// Any 5xx answer, and every failure before an answer (connect failure, reset, refused stream).
        static let fiveXX = Conditions(rawValue: 1 << 0)
        /// 502, 503 and 504 answers.
        static let gatewayError = Conditions(rawValue: 1 << 1)
        static let reset = Conditions(rawValue: 1 << 2)
        static let connectFailure = Conditions(rawValue: 1 << 3)
        /// 409.
        static let retriable4xx = Conditions(rawValue: 1 << 4)
        static let refusedStream = Conditions(rawValue: 1 << 5)
        /// The statuses in `retriableStatusCodes`.
        static let retriableStatusCodes = Conditions(rawValue: 1 << 6)
        static let grpcCancelled = Conditions(rawValue: 1 << 7)
        static let grpcDeadlineExceeded = Conditions(rawValue: 1 << 8)
        static let grpcInternal = Conditions(rawValue: 1 << 9)
        static let grpcResourceExhausted = Conditions(rawValue: 1 << 10)
        static let grpcUnavailable = Conditions(rawValue: 1 << 11)
    }

    /// How a try ended, as far as retrying is concerned.
    enum TryOutcome: Equatable {
        case failed(UpstreamFailure)
        /// A response head with this status (and grpc-status, when the answer carried one in its head).
        case answered(status: Int, grpcStatus: Int?)
        case perTryTimeout
    }

    /// Route timeout in milliseconds; 0: none (Istio's default: a route without `timeout` never times out).
    var timeoutMilliseconds: Int64 = 0
    /// Per-try timeout in milliseconds; 0: none (each try may use what is left of the route timeout).
    var perTryTimeoutMilliseconds: Int64 = 0
    /// Retries (not tries) allowed after the first try; `attempts: 0` turns retrying off.
    var retries = 2
    var retryOn: Conditions = [.connectFailure, .refusedStream, .grpcUnavailable, .grpcCancelled]
    var retriableStatusCodes: [Int] = []
    /// Envoy's default back-off base interval: 25 ms; the cap is ten times the base.
    var backOffBaseMilliseconds: Int64 = 25

    /// Istio's policy for a route that says nothing: 2 retries on connect-failure, refused-stream, unavailable and
    /// cancelled (503 is no longer retried by default since istio#52111), each to another host where there is one.
    static let istioDefault = ExchangePolicy()

    /// Whether Envoy's retry policy retries a try that ended so.
    func retries(_ outcome: TryOutcome) -> Bool {
        switch outcome {
        case .failed(let failure):
            if retryOn.contains(.fiveXX) { return true }
            switch failure {
            case .connectFailure: return retryOn.contains(.connectFailure)
            case .refusedStream: return !retryOn.isDisjoint(with: [.refusedStream, .reset])
            case .connectionTermination, .protocolError: return retryOn.contains(.reset)
            }
        case .perTryTimeout:
            return !retryOn.isDisjoint(with: [.fiveXX, .gatewayError, .reset])
        case .answered(let status, let grpcStatus):
            if status >= 500 && retryOn.contains(.fiveXX) { return true }
            if (status == 502 || status == 503 || status == 504) && retryOn.contains(.gatewayError) { return true }
            if status == 409 && retryOn.contains(.retriable4xx) { return true }
            if retryOn.contains(.retriableStatusCodes) && retriableStatusCodes.contains(status) { return true }
            switch grpcStatus {
            case 1?: return retryOn.contains(.grpcCancelled)
            case 4?: return retryOn.contains(.grpcDeadlineExceeded)
            case 8?: return retryOn.contains(.grpcResourceExhausted)
            case 13?: return retryOn.contains(.grpcInternal)
            case 14?: return retryOn.contains(.grpcUnavailable)
            default: return false
            }
        }
    }

    /// Envoy's fully jittered exponential back-off before retry `retry` (1 for the first): a draw below
    /// base × (2^retry − 1), then capped at ten times the base (Envoy's `JitteredExponentialBackOffStrategy`).
    /// With the 25 ms base:
    ///
    ///     retry:          1     2     3     4       5 and later
    ///     draw below:    25    75   175   375     775 …
    ///     wait at most:  24    74   174   250     250 (the cap)
    func backOffMilliseconds(retry: Int, draw: UInt64) -> Int64 {
        let cap = backOffBaseMilliseconds * 10
        let multiplier: Int64 = (1 << Int64(min(max(1, retry), 20))) - 1
        let ceiling = backOffBaseMilliseconds * multiplier
        guard ceiling > 0 else { return 0 }
        return min(Int64(draw % UInt64(ceiling)), cap)
    }
}
