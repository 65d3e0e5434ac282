// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "RoutingBench",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "Kanaria", path: "../.."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        // The benchmark suite, found by the plugin under Benchmarks/Routing.
        .executableTarget(
            name: "Routing",
            dependencies: [
                "RoutingFixtures",
                .product(name: "KanariaRouting", package: "Kanaria"),
                .product(name: "KanariaHTTP", package: "Kanaria"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/Routing",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        // The route tables and requests measured, shared by the suite and the profiling driver.
        .target(
            name: "RoutingFixtures",
            dependencies: [
                .product(name: "KanariaRouting", package: "Kanaria"),
                .product(name: "KanariaHTTP", package: "Kanaria"),
            ]
        ),
        // A plain loop of N decisions without the benchmark harness, to run under valgrind --tool=callgrind.
        .executableTarget(
            name: "RoutingProfile",
            dependencies: [
                "RoutingFixtures",
                .product(name: "KanariaRouting", package: "Kanaria"),
                .product(name: "KanariaHTTP", package: "Kanaria"),
            ]
        ),
    ]
)
