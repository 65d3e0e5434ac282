import Testing

@testable import KanariaDemo

#if canImport(Glibc)
import Glibc
#endif

/// `kanaria demo` serves exactly the files a user reads in config/.
@Suite("Demo configuration")
struct DemoConfigurationTests {
    private static let repository: String = {
        var path = #filePath
        for _ in 0..<3 { path = String(path[..<path.lastIndex(of: "/")!]) }
        return path
    }()

    private func read(_ path: String) -> String? {
        guard let file = fopen(path, "r") else { return nil }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = fread(&buffer, 1, buffer.count, file)
            if n <= 0 { break }
            bytes += buffer[0..<n]
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The embedded files equal config/*.yaml (run scripts/embed-config after editing config/).
    @Test func embeddedFilesMatchConfigFolder() throws {
        let names = DemoConfiguration.files.map(\.name)
        #expect(names == ["config/node-app.yaml", "config/node-istio.yaml", "config/workloads.yaml"])
        for file in DemoConfiguration.files {
            let onDisk = try #require(read("\(Self.repository)/\(file.name)"), "cannot read \(file.name)")
            #expect(file.text + "\n" == onDisk, "\(file.name) differs from its embedded copy: run scripts/embed-config")
        }
    }

    /// The tutorial's manifests are embedded unchanged.
    @Test func seedManifestsAreTheTutorials() throws {
        for name in ["node-app.yaml", "node-istio.yaml"] {
            let embedded = try #require(DemoConfiguration.files.first { $0.name == "config/\(name)" })
            #expect(embedded.text.contains("kind: ") && !embedded.text.contains("WorkloadEntry"))
        }
    }

    /// Each version's pages say which version they are and link the two pages together.
    @Test(arguments: SharkVersion.allCases)
    func pagesShowTheirVersion(version: SharkVersion) {
        let landing = SharkPages.landing(version)
        let facts = SharkPages.facts(version)
        #expect(landing.contains("version \(version.rawValue)"))
        #expect(landing.contains("Get Shark Info") && landing.contains("href=\"/sharks\""))
        #expect(facts.contains("version \(version.rawValue)") && facts.contains("href=\"/\""))
        #expect(facts.contains(version == .v1 ? "friendly" : "scary"))
    }
}
