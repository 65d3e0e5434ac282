import Benchmark
import KanariaHTTP
import KanariaRouting
import RoutingFixtures

/// The routing decision alone, `RouteTable.route(_:listener:state:)` on a request parsed before measuring: how many
/// decisions per second, and how many allocations each (which must be none: see README.md).
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.throughput, .wallClock, .mallocCountTotal],
        timeUnits: .nanoseconds,
        warmupIterations: 10,
        scalingFactor: .kilo,
        maxDuration: .seconds(2),
        maxIterations: 1_000_000,
        // A decision that allocates at all is a regression (checked against Thresholds/*.p90.json).
        thresholds: [.mallocCountTotal: BenchmarkThresholds(absolute: [.p90: 0])]
    )

    Benchmark("seed-80-20") { benchmark in
        measureDecisions(benchmark, fixture: .seed())
    }

    Benchmark("seed-80-20-random") { benchmark in
        measureDecisions(benchmark, fixture: .seed(), split: .random)
    }

    Benchmark("1000-routes-match-at-990") { benchmark in
        measureDecisions(benchmark, fixture: .thousandRoutes(matching: 990))
    }

    // Control: one heap allocation per operation, so that the zeros above are known to come from a live counter.
    Benchmark("control-one-allocation") { benchmark in
        for i in benchmark.scaledIterations {
            blackHole(Array(repeating: i, count: 4))
        }
    }
}

/// Routes `fixture.request` `benchmark.scaledIterations` times per iteration; only the loop is measured.
func measureDecisions(_ benchmark: Benchmark, fixture: Fixture, split: SplitMode = .exact) {
    var state = RoutingState(table: fixture.table, split: split, seed: 1)
    let table = fixture.table
    fixture.request.withUnsafeBytes { message in
        let view = RequestView(message: message, head: fixture.head)
        precondition(table.route(view, listener: 0, state: &state) == fixture.expected, "fixture routes as intended")
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            blackHole(table.route(view, listener: 0, state: &state))
        }
        benchmark.stopMeasurement()
    }
}
