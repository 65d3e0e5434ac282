import KanariaTelemetry
import Testing

/// Envoy's per-cluster stats: counted per worker, merged when scraped, printed as Envoy's endpoint prints them.
@Suite("Cluster stats")
struct ClusterStatTests {
    /// Two workers' retries of one cluster add up; every stat of every interned cluster is printed, zeros included.
    @Test func retriesOfTwoWorkersAddUpUnderTheClusterName() {
        let registry = TelemetryRegistry(workers: 2)
        let v1 = registry.clusterID(for: "outbound|8080|v1|nodejs.default.svc.cluster.local")
        #expect(registry.clusterID(for: "outbound|8080|v2|nodejs.default.svc.cluster.local") == v1 + 1)
        #expect(registry.clusterID(for: "outbound|8080|v1|nodejs.default.svc.cluster.local") == v1)
        registry.shard(forWorker: 0).count(.upstreamRqRetry, cluster: v1)
        registry.shard(forWorker: 1).count(.upstreamRqRetry, cluster: v1)
        registry.shard(forWorker: 1).count(.upstreamRqRetrySuccess, cluster: v1)
        registry.shard(forWorker: 0).count(.upstreamRqTimeout, cluster: -1)  // a cluster beyond capacity: dropped
        let stats = Dictionary(uniqueKeysWithValues: registry.clusterStats().map { ($0.cluster, $0.counts) })
        #expect(stats["outbound|8080|v1|nodejs.default.svc.cluster.local"]?[ClusterStat.upstreamRqRetry.rawValue] == 2)
        #expect(stats["outbound|8080|v2|nodejs.default.svc.cluster.local"] == Array(repeating: 0, count: ClusterStat.allCases.count))
        let text = registry.prometheusText()
        #expect(text.contains("""
            # TYPE envoy_cluster_upstream_rq_retry counter
            envoy_cluster_upstream_rq_retry{cluster_name="outbound|8080|v1|nodejs.default.svc.cluster.local"} 2
            envoy_cluster_upstream_rq_retry{cluster_name="outbound|8080|v2|nodejs.default.svc.cluster.local"} 0

            """))
        #expect(text.contains(#"envoy_cluster_upstream_rq_retry_success{cluster_name="outbound|8080|v1|nodejs.default.svc.cluster.local"} 1"#))
    }
}
