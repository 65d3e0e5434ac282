import COpenSSL
import KanariaTLS
import Testing

/// Two Gateway servers on one port, as Istio users write them: `localhost` with its certificate, and
/// `*.example.test` with a wildcard one.
let twoServers = try! TLSServerContext(servers: [
    TLSServerCredentials(hosts: ["localhost"], certificateChainFile: Fixtures.path("localhost-chain.crt"),
                         privateKeyFile: Fixtures.path("localhost.key")),
    TLSServerCredentials(hosts: ["*.example.test"], certificateChainFile: Fixtures.path("wildcard-chain.crt"),
                         privateKeyFile: Fixtures.path("wildcard.key")),
])

@Suite struct ServerNameTests {
    /// A name under the wildcard gets the wildcard certificate, verified, and ALPN still picks h2.
    @Test func picksTheWildcardCertificateBySNI() {
        let pair = Pair(client: TestClient(alpn: ["h2", "http/1.1"], serverName: "api.example.test"), context: twoServers)
        #expect(pair.run())
        #expect(pair.client.verifyResult == Int(X509_V_OK))
        #expect(pair.client.peerCommonName == "*.example.test")
        #expect(pair.server.negotiatedProtocol == .http2)
        #expect(pair.server.serverName == "api.example.test")
    }

    /// An exact name gets its own certificate.
    @Test func picksTheExactCertificateBySNI() {
        let pair = Pair(client: TestClient(alpn: ["http/1.1"], serverName: "LOCALHOST"), context: twoServers)
        #expect(pair.run())
        #expect(pair.client.peerCommonName == "localhost")
        #expect(pair.server.negotiatedProtocol == .http1_1)
    }

    /// Any depth under a wildcard matches it, as in Envoy (the client then judges the certificate for itself).
    @Test func matchesWildcardsAtAnyDepth() {
        let pair = Pair(client: TestClient(serverName: "a.b.example.test", verify: false), context: twoServers)
        #expect(pair.run())
        #expect(pair.client.peerCommonName == "*.example.test")
    }

    /// No SNI (curl to an IP address), or a name no server lists, gets the first server's certificate.
    @Test(arguments: [nil, "unknown.test", "example.test"])
    func fallsBackToTheFirstServer(serverName: String?) {
        let pair = Pair(client: TestClient(alpn: ["h2"], serverName: serverName, verify: false), context: twoServers)
        #expect(pair.run())
        #expect(pair.client.peerCommonName == "localhost")
        #expect(pair.server.negotiatedProtocol == .http2)
    }

    /// `*` takes every name that no more specific pattern covers, ahead of the first server.
    @Test func letsAStarCatchTheRest() throws {
        let context = try TLSServerContext(servers: [
            TLSServerCredentials(hosts: ["localhost"], certificateChainFile: Fixtures.path("localhost-chain.crt"),
                                 privateKeyFile: Fixtures.path("localhost.key")),
            TLSServerCredentials(hosts: ["*"], certificateChainFile: Fixtures.path("wildcard-chain.crt"),
                                 privateKeyFile: Fixtures.path("wildcard.key")),
        ])
        let other = Pair(client: TestClient(serverName: "unknown.test", verify: false), context: context)
        #expect(other.run())
        #expect(other.client.peerCommonName == "*.example.test")
        let exact = Pair(client: TestClient(serverName: "localhost"), context: context)
        #expect(exact.run())
        #expect(exact.client.peerCommonName == "localhost")
    }

    /// A bad file in any server is reported by its name.
    @Test func reportsTheBadServersFile() {
        do {
            _ = try TLSServerContext(servers: [
                TLSServerCredentials(hosts: ["localhost"], certificateChainFile: Fixtures.path("localhost-chain.crt"),
                                     privateKeyFile: Fixtures.path("localhost.key")),
                TLSServerCredentials(hosts: ["*.example.test"], certificateChainFile: Fixtures.path("wildcard-chain.crt"),
                                     privateKeyFile: Fixtures.path("localhost.key")),
            ])
            Issue.record("a mismatched key was accepted")
        } catch {
            #expect(error.description == "\(Fixtures.path("localhost.key")): the private key does not match the certificate in \(Fixtures.path("wildcard-chain.crt"))")
        }
    }
}
