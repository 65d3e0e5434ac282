import KanariaRouting
import Testing

/// Envoy's ring hash and Maglev tables: sizes, stability, and how few keys move when an endpoint goes.
@Suite struct ConsistentHashTests {
    /// 3 endpoints and the default minimum 1024: ceil(1024 / 3) = 342 entries each, 1026 in all.
    @Test func ringSizeForThreeEndpoints() {
        let ring = RingHash(hostKeys: hostKeys(3))
        #expect(ring.size == 1026)
        #expect(ring.entriesPerPosition(count: 3) == [342, 342, 342])
        #expect(RingHash(hostKeys: hostKeys(4), minimumRingSize: 8).entriesPerPosition(count: 4) == [2, 2, 2, 2])
    }

    /// A hash lands on the first entry at or after it: the entry of hash h itself maps h to its endpoint.
    @Test func ringLookupFindsTheEntryAtOrAfter() {
        let keys = hostKeys(3)
        let ring = RingHash(hostKeys: keys)
        let own = XXHash64.hash("\(keys[1])_7")
        #expect(ring.position(for: own) == 1)
        #expect(ring.position(for: own &- 1) == 1)
        #expect(ring.position(for: UInt64.max) == ring.position(for: 0))  // past the last entry: wraps
    }

    /// Maglev gives each of 3 endpoints 65537 / 3 slots, ±1.
    @Test func maglevSharesTheTableEvenly() {
        let maglev = Maglev(hostKeys: hostKeys(3))
        #expect(maglev.size == 65537)
        #expect(maglev.slotsPerPosition(count: 3).sorted() == [21845, 21846, 21846])
    }

    /// The same key always reaches the same endpoint, on a fresh table too (tables are built deterministically).
    @Test(arguments: [ConsistentHashPolicy.Table.ringHash(minimumRingSize: 1024), .maglev(tableSize: 65537)])
    func sameKeySameEndpoint(kind: ConsistentHashPolicy.Table) {
        let first = ConsistentHashTable(kind, hostKeys: hostKeys(5))
        let second = ConsistentHashTable(kind, hostKeys: hostKeys(5))
        for user in 0..<500 {
            let hash = XXHash64.hash("user-\(user)")
            #expect(first.position(for: hash) == first.position(for: hash))
            #expect(first.position(for: hash) == second.position(for: hash))
        }
    }

    /// An ejected endpoint's keys move, and no other key does: the look-up walks on past it.
    @Test(arguments: [ConsistentHashPolicy.Table.ringHash(minimumRingSize: 1024), .maglev(tableSize: 65537)])
    func ejectingOneEndpointMovesOnlyItsKeys(kind: ConsistentHashPolicy.Table) {
        let table = ConsistentHashTable(kind, hostKeys: hostKeys(4))
        var detector = OutlierDetector(settings: everyErrorEjects, endpointCount: 4)
        _ = detector.record(.status(500), at: 2, now: 0)
        #expect(detector.isEjected(2))
        var moved = 0
        for user in 0..<2000 {
            let hash = XXHash64.hash("user-\(user)")
            let before = table.position(for: hash, attempt: 0, healthy: .all(4))
            let after = table.position(for: hash, attempt: 0, healthy: detector.healthyEndpoints)
            if before == 2 {
                #expect(after != 2)
                moved += 1
            } else {
                #expect(after == before)
            }
        }
        #expect(moved > 300)  // about a quarter of 2000
    }

    /// Maglev fills its table in the order of the host keys, so listing the endpoints in another order sends each
    /// key to the same endpoint.
    @Test func maglevDoesNotDependOnListOrder() {
        let keys = hostKeys(4)
        let reversed = Array(keys.reversed())
        let forward = Maglev(hostKeys: keys)
        let backward = Maglev(hostKeys: reversed)
        for user in 0..<500 {
            let hash = XXHash64.hash("user-\(user)")
            #expect(keys[forward.position(for: hash)!] == reversed[backward.position(for: hash)!])
        }
    }

    /// A Maglev table rebuilt without one endpoint moves that endpoint's keys and few others (under 10% of the
    /// keys that stayed eligible), as Maglev promises.
    @Test func maglevRebuildDisruptsLittle() {
        let keys = hostKeys(5)
        let full = Maglev(hostKeys: keys)
        var without = keys
        without.remove(at: 3)
        let rebuilt = Maglev(hostKeys: without)
        var others = 0
        var disturbed = 0
        for user in 0..<5000 {
            let hash = XXHash64.hash("user-\(user)")
            let before = keys[full.position(for: hash)!]
            let after = without[rebuilt.position(for: hash)!]
            if before == keys[3] { continue }
            others += 1
            if before != after { disturbed += 1 }
        }
        #expect(disturbed * 10 < others)
    }

    /// A retry moves a ring look-up one entry on, and rehashes a Maglev look-up (XOR with 2⁶⁴ − attempt).
    @Test func retryAttemptsMoveTheLookup() {
        let keys = hostKeys(3)
        let ring = RingHash(hostKeys: keys)
        let own = XXHash64.hash("\(keys[0])_3")
        #expect(ring.position(for: own, attempt: 1) == ring.position(for: own &+ 1))
        let maglev = Maglev(hostKeys: keys)
        #expect(maglev.position(for: 12345, attempt: 1) == maglev.position(for: 12345 ^ UInt64.max))
    }

    /// IPv6 hosts are keyed in brackets, as Envoy writes addresses.
    @Test func hostKeysAreAddressesWithPorts() {
        #expect(ConsistentHashTable.hostKey(address: "10.0.0.1", port: 80) == "10.0.0.1:80")
        #expect(ConsistentHashTable.hostKey(address: "::1", port: 80) == "[::1]:80")
    }
}

/// Outlier detection that ejects on the first 5xx, with no limit on how many endpoints go.
let everyErrorEjects: OutlierDetectionSettings = {
    var settings = OutlierDetectionSettings()
    settings.consecutive5xxErrors = 1
    settings.maxEjectionPercent = 100
    return settings
}()
