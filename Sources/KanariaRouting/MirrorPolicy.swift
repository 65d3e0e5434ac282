/// One destination a route's requests are copied to (Istio's `mirror`/`mirrors`, Envoy's request mirror
/// policy): fire and forget, with the authority's `-shadow` suffix, for `percentage` of requests.
///
/// Istio folds the older fields in: `mirror` with `mirrorPercentage` (or the integer `mirror_percent`) is one
/// more entry; a missing percentage is 100%, and an explicit 0 drops the mirror.
public struct MirrorPolicy: Sendable, Equatable {
    /// The cluster (an index into `RouteTable.clusters`) the copies go to.
    public let cluster: Int
    public let percentage: Percentage

    public init(cluster: Int, percentage: Percentage = .all) {
        self.cluster = cluster
        self.percentage = percentage
    }
}
