import Foundation
import KanariaTelemetry
import Synchronization
import Testing

/// Workers record while scrapes read: nothing breaks, and the final numbers are exact.
@Suite("Recording while scraping")
struct ConcurrencyTests {
    /// Four workers on four threads record 50,000 requests each over six series while a fifth thread scrapes
    /// without pause; every scrape sees counts that only grow, and the last one sees every request.
    @Test func recordsFromSeveralThreadsWhileScraping() {
        let workers = 4
        let perWorker = 50_000
        let registry = TelemetryRegistry(workers: workers)
        let v1 = registry.destinationID(for: Tutorial.v1)
        let v2 = registry.destinationID(for: Tutorial.v2)
        let finished = Atomic<Int>(0)
        let scrapes = Atomic<Int>(0)
        let monotonic = Atomic<Bool>(true)
        onThreads(workers + 1) { thread in
            if thread == workers {
                var last: UInt64 = 0
                while finished.load(ordering: .acquiring) < workers {
                    let snapshot = registry.snapshot()
                    let total = snapshot.requests { _ in true }
                    if total < last { monotonic.store(false, ordering: .relaxed) }
                    last = total
                    _ = registry.prometheusText()
                    scrapes.wrappingAdd(1, ordering: .relaxed)
                }
                return
            }
            let shard = registry.shard(forWorker: thread)
            shard.downstreamConnectionAccepted()
            for i in 0..<perWorker {
                shard.requestStarted()
                // 80% to v1, 20% to v2; every tenth a 503 from v2 after its retries failed.
                let destination = i % 5 == 4 ? v2 : v1
                let failed = i % 10 == 9
                shard.record(destination, code: failed ? 503 : 200, flags: failed ? [.UF, .URX] : [],
                             micros: UInt64(i % 7) * 700, requestBytes: 100, responseBytes: failed ? 19 : 2_000)
                shard.requestFinished()
                if i % 100 == 0 { shard.upstreamConnectionOpened(destination: destination) }
            }
            finished.wrappingAdd(1, ordering: .releasing)
        }
        let snapshot = registry.snapshot()
        let total = UInt64(workers * perWorker)
        let neverShrank = monotonic.load(ordering: .relaxed)
        let scraped = scrapes.load(ordering: .relaxed)
        #expect(neverShrank)
        #expect(scraped > 0)
        #expect(snapshot.requests { _ in true } == total)
        #expect(snapshot.requests { $0.destination.version == "v1" } == total * 8 / 10)
        #expect(snapshot.requests { $0.destination.version == "v2" } == total * 2 / 10)
        #expect(snapshot.requests { $0.key.responseCode == 503 && $0.key.flags == [.UF, .URX] } == total / 10)
        #expect(snapshot.series.count == 3)
        #expect(snapshot.series.allSatisfy { $0.duration.count == $0.requests && $0.responseBytes.count == $0.requests })
        // Durations 0, 0.7, …, 4.2 ms, each a seventh of the time (50,000 is not a multiple of 7: count them).
        let expectedMicros = (0..<perWorker).reduce(UInt64(0)) { $0 + UInt64($1 % 7) * 700 } * UInt64(workers)
        #expect(abs(snapshot.duration { _ in true }.sum - Double(expectedMicros) / 1000) < 1e-6)
        #expect(snapshot.downstreamConnectionsAccepted == UInt64(workers))
        #expect(snapshot.downstreamConnectionsActive == UInt64(workers))
        #expect(snapshot.requestsInFlight == 0)
        #expect(snapshot.upstreamConnections[Int(v1)].opened + snapshot.upstreamConnections[Int(v2)].opened
                == UInt64(workers * perWorker / 100))
        #expect(snapshot.seriesDropped == 0)
    }

    /// Past its capacity a worker counts requests in overflow series that keep the response code.
    @Test func overflowKeepsTheResponseCode() {
        let registry = TelemetryRegistry(workers: 1, seriesCapacity: 16)  // 12 regular slots, 4 for overflow
        let shard = registry.shard(forWorker: 0)
        var ids: [Int32] = []
        for i in 0..<20 {
            var labels = Tutorial.v1
            labels.workload = "w\(i)"
            ids.append(registry.destinationID(for: labels))
        }
        for id in ids { shard.record(id, code: 200, flags: .DC) }
        for id in ids { shard.record(id, code: 503, flags: .UH) }
        let snapshot = registry.snapshot()
        #expect(snapshot.requests { _ in true } == 40)
        #expect(snapshot.seriesDropped == 28)
        let overflow = snapshot.series.filter { $0.key.destination == 0 }
        #expect(overflow.map(\.key.responseCode) == [200, 503])
        #expect(overflow.map(\.requests) == [8, 20])
        #expect(overflow.allSatisfy { $0.key.flags == [] && $0.destination == .unknown })
    }
}
