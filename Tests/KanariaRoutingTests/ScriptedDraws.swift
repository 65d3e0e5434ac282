import KanariaRouting

/// A generator that returns the given draws in order, then repeats them: tests state which draw picks what.
struct ScriptedDraws: RandomNumberGenerator {
    let values: [UInt64]
    var index = 0

    init(_ values: [UInt64]) { self.values = values }

    mutating func next() -> UInt64 {
        defer { index += 1 }
        return values[index % values.count]
    }
}

/// Host keys `10.0.0.1:8080`, `10.0.0.2:8080`, … for `count` endpoints.
func hostKeys(_ count: Int) -> [String] {
    (1...count).map { ConsistentHashTable.hostKey(address: "10.0.0.\($0)", port: 8080) }
}
