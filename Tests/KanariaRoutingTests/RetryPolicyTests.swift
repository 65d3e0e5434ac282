import KanariaRouting
import Testing

/// Retry conditions, decisions and back-off, as Envoy's retry state decides them.
@Suite struct RetryPolicyTests {
    /// Istio's retryOn: names become conditions, bare status codes become retriable status codes.
    @Test func parsesRetryOnAsIstioDoes() {
        let parsed = ParsedRetryOn(" gateway-error, 503 ,connect-failure,,429,cancelled")
        #expect(parsed.conditions == [.gatewayError, .connectFailure, .cancelled, .retriableStatusCodes])
        #expect(parsed.statusCodes == [503, 429])
        #expect(parsed.unknown.isEmpty)
        #expect(ParsedRetryOn("5xx,retriable-4xx,refused-stream").conditions == [.fiveXX, .retriable4xx, .refusedStream])
        #expect(ParsedRetryOn("5xx,bogus,999").unknown == ["bogus", "999"])
    }

    /// The default policy is current Istio's: 2 retries, 503 not among them, previous hosts avoided.
    @Test func istioDefaultPolicy() {
        let policy = RetryPolicy.istioDefault
        #expect(policy.retries == 2)
        #expect(policy.retryOn.names == "connect-failure,refused-stream,retriable-status-codes,cancelled,unavailable")
        #expect(policy.retriableStatusCodes.isEmpty)
        #expect(policy.avoidPreviousHosts && policy.hostSelectionAttempts == 5 && policy.perTryTimeout == nil)
        #expect(policy.shouldRetry(.connectFailure) == .retryWithBackoff)
        #expect(policy.shouldRetry(.refusedStream) == .retryImmediately)
        #expect(policy.shouldRetry(.response(status: 503, grpcStatus: nil)) == .no)
        #expect(policy.shouldRetry(.reset(requestSent: true)) == .no)
        #expect(policy.shouldRetry(.response(status: 200, grpcStatus: 14)) == .retryWithBackoff)
        #expect(policy.shouldRetry(.response(status: 200, grpcStatus: 1)) == .retryWithBackoff)
        #expect(policy.shouldRetry(.response(status: 200, grpcStatus: 13)) == .no)
    }

    /// `attempts: 0` never retries, whatever happened.
    @Test func offNeverRetries() {
        #expect(RetryPolicy.off.shouldRetry(.connectFailure) == .no)
        #expect(RetryPolicy.off.isOff)
    }

    /// 5xx covers every 5xx answer and every missing answer; gateway-error only 502/503/504 and missing answers.
    @Test(arguments: [
        (TryOutcome.response(status: 500, grpcStatus: nil), RetryDecision.retryWithBackoff, RetryDecision.no),
        (.response(status: 503, grpcStatus: nil), .retryWithBackoff, .retryWithBackoff),
        (.response(status: 504, grpcStatus: nil), .retryWithBackoff, .retryWithBackoff),
        (.response(status: 404, grpcStatus: nil), .no, .no),
        (.connectFailure, .retryWithBackoff, .retryWithBackoff),
        (.reset(requestSent: true), .retryWithBackoff, .retryWithBackoff),
        (.refusedStream, .retryWithBackoff, .retryWithBackoff),
        (.perTryTimeout, .retryWithBackoff, .retryWithBackoff),
    ])
    func fiveXXAndGatewayError(outcome: TryOutcome, fiveXX: RetryDecision, gatewayError: RetryDecision) {
        #expect(RetryPolicy(retries: 1, retryOn: .fiveXX).shouldRetry(outcome) == fiveXX)
        #expect(RetryPolicy(retries: 1, retryOn: .gatewayError).shouldRetry(outcome) == gatewayError)
    }

    /// The narrow conditions retry only their own outcome.
    @Test func narrowConditions() {
        let connect = RetryPolicy(retries: 1, retryOn: .connectFailure)
        #expect(connect.shouldRetry(.connectFailure) == .retryWithBackoff)
        #expect(connect.shouldRetry(.reset(requestSent: false)) == .no)
        let reset = RetryPolicy(retries: 1, retryOn: .reset)
        #expect(reset.shouldRetry(.reset(requestSent: true)) == .retryWithBackoff)
        #expect(reset.shouldRetry(.response(status: 503, grpcStatus: nil)) == .no)
        let beforeRequest = RetryPolicy(retries: 1, retryOn: .resetBeforeRequest)
        #expect(beforeRequest.shouldRetry(.reset(requestSent: false)) == .retryWithBackoff)
        #expect(beforeRequest.shouldRetry(.reset(requestSent: true)) == .no)
        #expect(beforeRequest.shouldRetry(.connectFailure) == .retryWithBackoff)
        let conflict = RetryPolicy(retries: 1, retryOn: .retriable4xx)
        #expect(conflict.shouldRetry(.response(status: 409, grpcStatus: nil)) == .retryWithBackoff)
        #expect(conflict.shouldRetry(.response(status: 429, grpcStatus: nil)) == .no)
        let codes = RetryPolicy(retries: 1, retryOn: .retriableStatusCodes, retriableStatusCodes: [429])
        #expect(codes.shouldRetry(.response(status: 429, grpcStatus: nil)) == .retryWithBackoff)
        #expect(codes.shouldRetry(.response(status: 503, grpcStatus: nil)) == .no)
    }

    /// Each gRPC condition retries its grpc-status only.
    @Test func grpcConditions() {
        let pairs: [(RetryOn, Int)] = [(.cancelled, 1), (.deadlineExceeded, 4), (.resourceExhausted, 8), (.internal, 13), (.unavailable, 14)]
        for (condition, code) in pairs {
            let policy = RetryPolicy(retries: 1, retryOn: condition)
            for (_, other) in pairs {
                #expect(policy.shouldRetry(.response(status: 200, grpcStatus: other)) == (other == code ? .retryWithBackoff : .no))
            }
            #expect(policy.shouldRetry(.response(status: 200, grpcStatus: nil)) == .no)
        }
    }

    /// Envoy's jittered back-off: draws below 25, 75, 175, then 375 ms, capped at 250 ms; the delay is draw % ceiling.
    @Test func backoffTable() {
        let backoff = RetryBackoff()
        #expect((1...7).map { backoff.ceilingMilliseconds(beforeRetry: $0) } == [25, 75, 175, 375, 375, 375, 375])
        #expect(backoff.delay(beforeRetry: 2, draw: 1_000_003) == .milliseconds(28))
        #expect(backoff.delay(beforeRetry: 1, draw: 24) == .milliseconds(24))
        #expect(backoff.delay(beforeRetry: 1, draw: 25) == .milliseconds(0))
        #expect(backoff.delay(beforeRetry: 4, draw: 249) == .milliseconds(249))
        #expect(backoff.delay(beforeRetry: 5, draw: 374) == .milliseconds(250))
        let slow = RetryBackoff(base: .milliseconds(100))
        #expect((1...5).map { slow.ceilingMilliseconds(beforeRetry: $0) } == [100, 300, 700, 1500, 1500])
        #expect(slow.delay(beforeRetry: 4, draw: 1400) == .milliseconds(1000))
    }
}
