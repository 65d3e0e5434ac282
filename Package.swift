// swift-tools-version:6.1
import PackageDescription

/// Kanaria: Istio's data-plane core (VirtualService, DestinationRule, subsets by label) as one Swift program.
///
/// Dependency direction: each target imports only targets listed below it (see README "Architecture").
///
///     kanaria            the CLI; wires everything below
///     KanariaLoad        → KanariaConfig, KanariaRouting, KanariaHTTP2, KanariaTLS, KanariaHTTP, KanariaPosix, HdrHistogram
///     KanariaControl     → KanariaProxy, KanariaAdmin, KanariaConfig, KanariaRouting
///     KanariaAdmin       → KanariaHTTPServer, KanariaTelemetry, KanariaRouting, KanariaPosix
///     KanariaDemo        → KanariaHTTPServer, KanariaPosix
///     KanariaProxy       → KanariaHTTP2, KanariaTLS, KanariaRouting, KanariaTelemetry, KanariaHTTP, KanariaPosix
///     KanariaHTTPServer  → KanariaHTTP, KanariaPosix
///     KanariaConfig      → KanariaRouting, KanariaTLS, Yams
///     KanariaRouting     → KanariaHTTP
///     KanariaHTTP2       → CNghttp2 (libnghttp2), KanariaHTTP
///     KanariaTLS         → COpenSSL (libssl), KanariaHTTP
///     KanariaTelemetry, KanariaHTTP: nothing
///     KanariaPosix       → CKanariaLinux
///
/// Nothing pure (KanariaHTTP, KanariaHTTP2, KanariaRouting, KanariaConfig, KanariaTelemetry) imports KanariaPosix.

/// The request path runs no Swift exclusivity checks at run time in release builds: the static checks still hold,
/// and the dynamic ones cost ~3,000 instructions per proxied request (callgrind; see Benchmarks/README.md).
let hotPath: [SwiftSetting] = [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]

let package = Package(
    name: "Kanaria",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "kanaria", targets: ["kanaria"]),
        .library(name: "KanariaRouting", targets: ["KanariaRouting"]),
        .library(name: "KanariaConfig", targets: ["KanariaConfig"]),
        .library(name: "KanariaHTTP", targets: ["KanariaHTTP"]),
    ],
    dependencies: [
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
    ],
    targets: [
        .executableTarget(
            name: "kanaria",
            dependencies: [
                "KanariaControl", "KanariaProxy", "KanariaDemo", "KanariaConfig", "KanariaPosix", "KanariaAdmin", "KanariaTLS",
                "KanariaRouting", "KanariaTelemetry", "KanariaHTTP", "KanariaLoad",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .target(name: "KanariaProxy", dependencies: ["KanariaPosix", "KanariaHTTP", "KanariaRouting", "KanariaTelemetry", "KanariaTLS", "KanariaHTTP2"], swiftSettings: hotPath),
        .target(name: "KanariaLoad", dependencies: [
            "KanariaPosix", "KanariaHTTP", "KanariaHTTP2", "KanariaConfig", "KanariaRouting", "KanariaTLS", "KanariaJSON",
            .product(name: "Histogram", package: "hdrhistogram-swift"),
        ]),
        .target(name: "KanariaControl", dependencies: ["KanariaProxy", "KanariaAdmin", "KanariaConfig", "KanariaRouting", "KanariaTLS"]),
        .target(name: "KanariaAdmin", dependencies: ["KanariaHTTPServer", "KanariaTelemetry", "KanariaRouting", "KanariaPosix", "KanariaJSON"]),
        .target(name: "KanariaJSON"),
        .target(name: "KanariaTelemetry", swiftSettings: hotPath),
        .target(name: "KanariaHTTP2", dependencies: ["CNghttp2", "KanariaHTTP"], swiftSettings: hotPath),
        .target(name: "KanariaTLS", dependencies: ["COpenSSL", "KanariaHTTP"], swiftSettings: hotPath),
        .systemLibrary(name: "CNghttp2", pkgConfig: "libnghttp2", providers: [.apt(["libnghttp2-dev"])]),
        .systemLibrary(name: "COpenSSL", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),
        .target(name: "KanariaDemo", dependencies: ["KanariaHTTPServer", "KanariaPosix"]),
        .target(name: "KanariaHTTPServer", dependencies: ["KanariaPosix", "KanariaHTTP"]),
        .target(name: "KanariaConfig", dependencies: ["KanariaRouting", "KanariaTLS", .product(name: "Yams", package: "Yams")]),
        .target(name: "KanariaRouting", dependencies: ["KanariaHTTP"], swiftSettings: hotPath),
        .target(name: "KanariaHTTP", swiftSettings: hotPath),
        .target(name: "KanariaPosix", dependencies: ["CKanariaLinux"]),
        .target(name: "CKanariaLinux"),
        .testTarget(name: "KanariaHTTPTests", dependencies: ["KanariaHTTP"]),
        .testTarget(name: "KanariaRoutingTests", dependencies: ["KanariaRouting", "KanariaHTTP"]),
        .testTarget(name: "KanariaConfigTests", dependencies: ["KanariaConfig", "KanariaRouting", "KanariaHTTP", "KanariaTestCertificates"]),
        .testTarget(name: "KanariaProxyTests", dependencies: ["KanariaProxy", "KanariaHTTP", "KanariaRouting", "KanariaTelemetry"]),
        .testTarget(name: "KanariaAdminTests", dependencies: ["KanariaAdmin", "KanariaTelemetry"]),
        .testTarget(name: "KanariaControlTests", dependencies: ["KanariaControl", "KanariaProxy", "KanariaConfig", "KanariaTelemetry", "KanariaPosix"]),
        .testTarget(name: "KanariaDemoTests", dependencies: ["KanariaDemo"]),
        .testTarget(name: "KanariaHTTP2Tests", dependencies: ["KanariaHTTP2", "KanariaHTTP"]),
        .testTarget(name: "KanariaTLSTests", dependencies: ["KanariaTLS", "KanariaTestCertificates"]),
        .target(name: "KanariaTestCertificates", path: "Tests/KanariaTestCertificates"),
        .testTarget(name: "KanariaLoadTests", dependencies: ["KanariaLoad"]),
        .testTarget(name: "KanariaTelemetryTests", dependencies: ["KanariaTelemetry"]),
    ]
)
