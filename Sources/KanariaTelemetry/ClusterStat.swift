/// Envoy's per-cluster upstream statistics that Kanaria keeps, named as Envoy names them under
/// `cluster.<name>.` and as Envoy's Prometheus endpoint prints them (`envoy_cluster_upstream_rq_retry{cluster_name="…"}`).
public enum ClusterStat: Int, CaseIterable, Sendable {
    /// A retry was started.
    case upstreamRqRetry
    /// A retried request got an answer that was not retried again.
    case upstreamRqRetrySuccess
    /// A try failed in a way the policy retries, but no retry was left.
    case upstreamRqRetryLimitExceeded
    /// The route's timeout passed before the response was complete.
    case upstreamRqTimeout
    /// A try's perTryTimeout passed before its response head arrived.
    case upstreamRqPerTryTimeout
    /// A request was refused because the pending-request limit (http1MaxPendingRequests) was reached.
    case upstreamRqPendingOverflow
    /// The connection limit (maxConnections) was reached when a connection was wanted.
    case upstreamCxOverflow
    /// The retry budget (maxRetries) was exhausted when a retry was wanted.
    case upstreamRqRetryOverflow

    /// The stat's name after `cluster.<name>.`.
    public var name: String {
        switch self {
        case .upstreamRqRetry: "upstream_rq_retry"
        case .upstreamRqRetrySuccess: "upstream_rq_retry_success"
        case .upstreamRqRetryLimitExceeded: "upstream_rq_retry_limit_exceeded"
        case .upstreamRqTimeout: "upstream_rq_timeout"
        case .upstreamRqPerTryTimeout: "upstream_rq_per_try_timeout"
        case .upstreamRqPendingOverflow: "upstream_rq_pending_overflow"
        case .upstreamCxOverflow: "upstream_cx_overflow"
        case .upstreamRqRetryOverflow: "upstream_rq_retry_overflow"
        }
    }

    /// The Prometheus family, as Envoy's `/stats/prometheus` names it.
    var prometheusName: StaticString {
        switch self {
        case .upstreamRqRetry: "envoy_cluster_upstream_rq_retry"
        case .upstreamRqRetrySuccess: "envoy_cluster_upstream_rq_retry_success"
        case .upstreamRqRetryLimitExceeded: "envoy_cluster_upstream_rq_retry_limit_exceeded"
        case .upstreamRqTimeout: "envoy_cluster_upstream_rq_timeout"
        case .upstreamRqPerTryTimeout: "envoy_cluster_upstream_rq_per_try_timeout"
        case .upstreamRqPendingOverflow: "envoy_cluster_upstream_rq_pending_overflow"
        case .upstreamCxOverflow: "envoy_cluster_upstream_cx_overflow"
        case .upstreamRqRetryOverflow: "envoy_cluster_upstream_rq_retry_overflow"
        }
    }

    var help: StaticString {
        switch self {
        case .upstreamRqRetry: "Retries started, by cluster."
        case .upstreamRqRetrySuccess: "Retried requests that then got an answer, by cluster."
        case .upstreamRqRetryLimitExceeded: "Requests that wanted another retry when none was left, by cluster."
        case .upstreamRqTimeout: "Requests whose route timeout passed, by cluster."
        case .upstreamRqPerTryTimeout: "Tries whose per-try timeout passed, by cluster."
        case .upstreamRqPendingOverflow: "Requests refused at the pending-request limit, by cluster."
        case .upstreamCxOverflow: "Times the connection limit was reached, by cluster."
        case .upstreamRqRetryOverflow: "Retries refused by the retry budget (maxRetries), by cluster."
        }
    }
}
