/// Which positions of a cluster's endpoint list a pick may choose: all of them, or those the outlier detector has
/// not ejected. A view over the detector's flags: making one copies no array.
public struct HealthyEndpoints: Sendable {
    /// One flag per position; empty when every endpoint is eligible.
    let ejected: [Bool]
    /// Endpoints in the cluster.
    public let count: Int
    /// Endpoints a pick may choose.
    public let healthyCount: Int

    /// Every one of `count` endpoints is eligible (no outlier detection, or Envoy's panic mode).
    public static func all(_ count: Int) -> HealthyEndpoints {
        HealthyEndpoints(ejected: [], count: count, healthyCount: count)
    }

    init(ejected: [Bool], count: Int, healthyCount: Int) {
        self.ejected = ejected
        self.count = count
        self.healthyCount = healthyCount
    }

    public func isHealthy(_ position: Int) -> Bool {
        ejected.isEmpty || !ejected[position]
    }

    /// The position of the `n`-th eligible endpoint (0-based, `n < healthyCount`), in list order.
    public func position(ofHealthy n: Int) -> Int {
        if ejected.isEmpty { return n }
        var remaining = n
        for position in 0..<count where !ejected[position] {
            if remaining == 0 { return position }
            remaining -= 1
        }
        return count - 1
    }
}
