import Testing

@testable import KanariaTelemetry

/// Per-host request counters, for the admin API's `/clusters` (Envoy counts per host).
@Suite("Per-host counters")
struct HostCounterTests {
    /// Each host counts its own requests and 5xx answers, merged over workers; interning is stable.
    @Test func countsRequestsAndErrorsPerHostAcrossWorkers() {
        let registry = TelemetryRegistry(workers: 2)
        let a = registry.hostID(for: "127.0.0.1:9081")
        let b = registry.hostID(for: "127.0.0.1:9082")
        #expect(a != b)
        #expect(registry.hostID(for: "127.0.0.1:9081") == a)
        registry.shard(forWorker: 0).recordHost(a, responseCode: 200)
        registry.shard(forWorker: 1).recordHost(a, responseCode: 503)
        registry.shard(forWorker: 1).recordHost(b, responseCode: 404)
        let counts = registry.hostCounters()
        #expect(counts["127.0.0.1:9081"]?.requests == 2)
        #expect(counts["127.0.0.1:9081"]?.errors == 1)
        #expect(counts["127.0.0.1:9082"]?.requests == 1)
        #expect(counts["127.0.0.1:9082"]?.errors == 0)
    }

    /// Ids outside the table are ignored, not written out of bounds.
    @Test func ignoresUnknownHostIDs() {
        let registry = TelemetryRegistry(workers: 1)
        registry.shard(forWorker: 0).recordHost(-1, responseCode: 200)
        registry.shard(forWorker: 0).recordHost(5000, responseCode: 200)
        #expect(registry.hostCounters().isEmpty)
    }
}
