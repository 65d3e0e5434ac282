import KanariaHTTP

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

extension MirrorPolicy {
    /// Appends the authority a mirrored copy carries: `-shadow` after the host, before any port, as Envoy's
    /// shadow writer builds it. `shark.local:8080` → `shark.local-shadow:8080`; `shark.local` → `shark.local-shadow`.
    public static func shadowAuthority(_ authority: UnsafeRawBufferPointer, into output: inout ByteBuffer) {
        let colon = RedirectAction.portColon(authority) ?? authority.count
        output.append(UnsafeRawBufferPointer(rebasing: authority[..<colon]))
        output.append("-shadow")
        output.append(UnsafeRawBufferPointer(rebasing: authority[colon...]))
    }
}
