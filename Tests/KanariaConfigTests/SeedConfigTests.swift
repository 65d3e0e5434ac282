import Foundation
import KanariaConfig
import KanariaRouting
import Testing

/// The tutorial's manifests, unchanged, plus two WorkloadEntries: what `kanaria run -f config/` serves.
@Suite struct SeedConfigTests {
    /// The repository's config/ folder loads with no problem at all, not even a warning.
    @Test func configFolderLoadsWithoutDiagnostics() throws {
        let config = ConfigLoader.load(paths: [configFolder])
        #expect(printed(config) == [])
        #expect(!config.hasErrors)
        #expect(config.table != nil)
    }

    /// One listener on the Gateway's port 80, described by `servers` in the same order.
    @Test func compilesOneListenerOnPort80() throws {
        let table = try #require(try loadSeed().table)
        #expect(table.listeners.map(\.port) == [80])
        #expect(table.listeners[0].gateway == "default/nodejs-gateway")
        #expect(table.listeners[0].virtualHosts.map(\.domains) == [["*"]])
        let servers = try loadSeed().servers
        #expect(servers == [GatewayServer(gateway: "default/nodejs-gateway", port: 80, portName: "http", protocol: "HTTP", hosts: ["*"])])
    }

    /// The VirtualService's one route sends 80/20 to two clusters named as Istio names them.
    @Test func compilesTwoSubsetClusters() throws {
        let table = try #require(try loadSeed().table)
        #expect(table.routes.count == 1)
        #expect(table.routes[0].name == "nodejs.0")
        #expect(table.routes[0].virtualService == "default/nodejs")
        #expect(table.routes[0].destinations.map(\.weight) == [80, 20])
        #expect(table.clusters.map(\.name) == ["outbound|8080|v1|nodejs.default.svc.cluster.local",
                                               "outbound|8080|v2|nodejs.default.svc.cluster.local"])
        #expect(table.clusters.map(\.upstreamProtocol) == [.http1, .http1])
    }

    /// Each subset has the WorkloadEntry with its version label, on the port the Service port's name maps to,
    /// owned by the Deployment whose pod labels it carries.
    @Test func eachSubsetHasItsWorkloadEntry() throws {
        let table = try #require(try loadSeed().table)
        let endpoints = table.clusters.map { $0.endpoints.map { table.endpoints[$0] } }
        #expect(endpoints.map { $0.map(\.address) } == [["127.0.0.1"], ["127.0.0.1"]])
        #expect(endpoints.map { $0.map(\.port) } == [[9081], [9082]])
        #expect(endpoints.map { $0.map(\.workload) } == [["nodejs-v1"], ["nodejs-v2"]])
        #expect(endpoints.map { $0.map(\.version) } == [["v1"], ["v2"]])
        #expect(endpoints.map { $0.map(\.namespace) } == [["default"], ["default"]])
    }

    /// Routing parsed requests through the table gives v1 four times for each v2, in every window of five.
    @Test func routesFourToOne() throws {
        let table = try #require(try loadSeed().table)
        #expect(subsets(of: 5, in: table) == ["v1", "v1", "v2", "v1", "v1"])
        let thousand = subsets(of: 1000, in: table)
        #expect(thousand.filter { $0 == "v1" }.count == 800)
        #expect(thousand.filter { $0 == "v2" }.count == 200)
    }

    /// The files given one by one load the same as the folder.
    @Test func filesGivenOneByOneLoadLikeTheFolder() throws {
        let files = ["node-app.yaml", "node-istio.yaml", "workloads.yaml"].map { "\(configFolder)/\($0)" }
        let config = ConfigLoader.load(paths: files)
        #expect(printed(config) == [])
        #expect(config.table?.clusters.count == 2)
    }
}
