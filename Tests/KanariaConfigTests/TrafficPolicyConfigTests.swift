import KanariaConfig
import KanariaRouting
import Testing

/// DestinationRule traffic policies as users write them: read, merged per subset and port, compiled into clusters.
@Suite struct TrafficPolicyConfigTests {
    /// Istio's circuit-breaking task, on the whole host: both subsets get its limits and outlier detection, the
    /// other limits stay Istio's 2³²−1.
    @Test func circuitBreakingTask() throws {
        let rule = destinationRule("""
          trafficPolicy:
            connectionPool:
              tcp:
                maxConnections: 1
              http:
                http1MaxPendingRequests: 1
                maxRequestsPerConnection: 1
            outlierDetection:
              consecutive5xxErrors: 1
              interval: 1s
              baseEjectionTime: 3m
              maxEjectionPercent: 100
        \(seedSubsets())
        """)
        let config = try loadRule(rule)
        // Connection-pool limits and outlier detection are honoured: nothing to warn about.
        #expect(printed(config) == [])
        for subset in ["v1", "v2"] {
            let policy = try policy(of: subset, in: config)
            #expect(policy.connectionPool.maxConnections == 1)
            #expect(policy.connectionPool.maxPendingRequests == 1)
            #expect(policy.connectionPool.maxRequestsPerConnection == 1)
            #expect(policy.connectionPool.maxRequests == ConnectionPoolSettings.unlimited)
            #expect(policy.connectionPool.maxRetries == ConnectionPoolSettings.unlimited)
            #expect(policy.connectionPool.connectTimeoutMilliseconds == 10_000)
            let outlier = try #require(policy.outlierDetection)
            #expect(outlier.consecutive5xxErrors == 1)
            #expect(outlier.consecutiveGatewayErrors == nil)
            #expect(outlier.intervalMilliseconds == 1000)
            #expect(outlier.baseEjectionTimeMilliseconds == 180_000)
            #expect(outlier.maxEjectionPercent == 100)
            #expect(outlier.minHealthPercent == 0)
            #expect(policy.loadBalancer == .leastRequest)
        }
    }

    /// A subset's consistent hash by header overrides the host's round robin for that subset only; the ring is
    /// built with the requested size.
    @Test func consistentHashByHeaderOnASubset() throws {
        let rule = destinationRule("""
          trafficPolicy:
            loadBalancer:
              simple: ROUND_ROBIN
        \(seedSubsets(v1Extra: """
                trafficPolicy:
                  loadBalancer:
                    consistentHash:
                      httpHeaderName: X-User
                      ringHash:
                        minimumRingSize: 2048
            """))
        """)
        let config = try loadRule(rule)
        #expect(printed(config) == [])
        let v1 = try policy(of: "v1", in: config)
        #expect(v1.loadBalancer == .consistentHash(ConsistentHashPolicy(key: .header("x-user"), table: .ringHash(minimumRingSize: 2048))))
        let cluster = try #require(config.table?.clusters.first { $0.subset == "v1" })
        guard case .ring(let ring) = cluster.hashTable else { Issue.record("no ring"); return }
        #expect(ring.size == 2048)
        #expect(try policy(of: "v2", in: config).loadBalancer == .roundRobin)
        #expect(config.table?.clusters.first { $0.subset == "v2" }?.hashTable == nil)
    }

    /// Sticky sessions by cookie with Maglev: name, path and ttl in whole seconds; a zero ttl is kept (a session
    /// cookie), a missing one is nil (no cookie is generated).
    @Test(arguments: [("ttl: 1h", 3600 as Int?), ("ttl: 0s", 0), ("", nil)])
    func consistentHashByCookie(ttl: String, seconds: Int?) throws {
        let rule = destinationRule("""
          trafficPolicy:
            loadBalancer:
              consistentHash:
                httpCookie:
                  name: user
                  path: /
                  \(ttl)
                maglev: {tableSize: 65537}
        \(seedSubsets())
        """)
        let config = try loadRule(rule)
        #expect(!config.hasErrors)
        let key = ConsistentHashPolicy.Key.cookie(name: "user", path: "/", ttlSeconds: seconds)
        #expect(try policy(of: "v2", in: config).loadBalancer == .consistentHash(ConsistentHashPolicy(key: key, table: .maglev(tableSize: 65537))))
    }

    /// portLevelSettings for the cluster's port replace the top-level parts; an entry for another port does nothing.
    @Test func portLevelSettings() throws {
        let rule = destinationRule("""
          trafficPolicy:
            loadBalancer: {simple: ROUND_ROBIN}
            outlierDetection: {consecutive5xxErrors: 2}
            portLevelSettings:
            - port: {number: 8080}
              loadBalancer: {simple: RANDOM}
            - port: {number: 9090}
              loadBalancer: {simple: LEAST_REQUEST}
        \(seedSubsets())
        """)
        let config = try loadRule(rule)
        #expect(!config.hasErrors)
        let v1 = try policy(of: "v1", in: config)
        #expect(v1.loadBalancer == .random)
        #expect(v1.outlierDetection == nil)  // the port entry sets no outlierDetection: the default, not the top's
    }

    /// A subset that no route uses may have a policy; TLS SIMPLE with a CA file relative to the YAML's folder.
    @Test func tlsSimpleOnAnUnusedSubset() throws {
        let rule = destinationRule("""
          trafficPolicy:
            tls:
              mode: SIMPLE
              caCertificates: localhost.crt
              sni: shark.example.test
              subjectAltNames: [localhost]
        \(seedSubsets())
          - name: v3
            labels: {version: v3}
            trafficPolicy:
              tls: {mode: DISABLE}
        """)
        let config = try loadRule(rule, file: TLSFiles.path("dr.yaml"))
        #expect(!config.hasErrors)
        #expect(try policy(of: "v1", in: config).tls == .simple(SimpleUpstreamTLS(
            caCertificatesFile: TLSFiles.path("localhost.crt"), sni: "shark.example.test", subjectAltNames: ["localhost"])))
    }

    /// Values out of range, durations finer than a millisecond or under 1 ms, a table size that is not prime and
    /// fields that need another: each an error on its line, and the configuration does not load.
    @Test func invalidValues() throws {
        let rule = destinationRule("""
          trafficPolicy:
            connectionPool:
              http:
                http1MaxPendingRequests: -1
            outlierDetection:
              interval: 500us
              baseEjectionTime: 1.5ms
              maxEjectionPercent: 120
              consecutiveLocalOriginFailures: 3
            loadBalancer:
              consistentHash:
                useSourceIp: true
                maglev: {tableSize: 1000}
            portLevelSettings:
            - loadBalancer: {simple: RANDOM}
        \(seedSubsets())
        """)
        let config = try loadRule(rule)
        #expect(printed(config) == [
            "\(at("http1MaxPendingRequests", in: rule)) http1MaxPendingRequests must not be negative, got -1 [IST0106]",
            "\(at("interval:", in: rule)) interval 500us must be at least 1ms [IST0106]",
            "\(at("baseEjectionTime", in: rule)) baseEjectionTime 1.5ms is finer than a millisecond; Istio supports durations to ms precision only [IST0106]",
            "\(at("maxEjectionPercent", in: rule)) maxEjectionPercent must be between 0 and 100, got 120 [IST0106]",
            "\(at("consecutiveLocalOriginFailures", in: rule)) consecutiveLocalOriginFailures 3 needs splitExternalLocalOriginErrors: true [IST0106]",
            "\(at("tableSize", in: rule)) maglev tableSize 1000 must be a prime number less than 5000011, such as 65537 [IST0106]",
            "\(at("- loadBalancer", in: rule)) portLevelSettings[0] needs \"port\" with the number of a service port [IST0106]",
        ])
        #expect(config.table == nil)
    }

    /// A typo inside a policy gets the schema's suggestion; two keys of one oneof are an error.
    @Test func typosAndExclusiveFields() throws {
        let rule = destinationRule("""
          trafficPolicy:
            connectionPool:
              tcp:
                maxConection: 1
            loadBalancer:
              consistentHash:
                httpHeaderName: x-user
                useSourceIp: true
        \(seedSubsets())
        """)
        let config = try loadRule(rule)
        #expect(printed(config) == [
            "\(at("maxConection", in: rule)) unknown field \"maxConection\"; did you mean \"maxConnections\"? [IST0106]",
            "\(at("useSourceIp", in: rule)) only one of \"httpHeaderName\", \"httpCookie\", \"useSourceIp\" or \"httpQueryParameterName\" may be set [IST0106]",
        ])
    }

    /// The CA file is loaded at load time: a missing file and a file with no certificate are errors on the line.
    @Test(arguments: [("missing.pem", "no such file"), ("localhost.key", "no PEM certificate (-----BEGIN CERTIFICATE-----) in the file")])
    func badCAFile(file: String, problem: String) throws {
        let rule = destinationRule("""
          trafficPolicy:
            tls: {mode: SIMPLE, caCertificates: \(file)}
        \(seedSubsets())
        """)
        let config = try loadRule(rule, file: TLSFiles.path("dr.yaml"))
        #expect(printed(config).last == "\(TLSFiles.path("dr.yaml")):\(line(of: "caCertificates", in: rule)): DestinationRule/nodejs: caCertificates \"\(file)\" (\(TLSFiles.path(file))): \(problem)")
        #expect(config.hasErrors)
    }

    /// What Kanaria cannot do is said by name: ISTIO_MUTUAL is mesh-only, PASSTHROUGH and LEAST_CONN fall back to
    /// LEAST_REQUEST, a consistent hash without a key hashes at random, deprecated fields are named.
    @Test func warningsForWhatDoesNotApply() throws {
        let rule = destinationRule("""
          trafficPolicy:
            tls: {mode: ISTIO_MUTUAL}
            loadBalancer: {simple: PASSTHROUGH}
            outlierDetection: {consecutiveErrors: 3}
        \(seedSubsets(v1Extra: """
                trafficPolicy:
                  loadBalancer:
                    consistentHash: {minimumRingSize: 16}
            """))
        """)
        let config = try loadRule(rule)
        #expect(printed(config) == [
            "\(at("ISTIO_MUTUAL", in: rule, warning: true)) tls mode ISTIO_MUTUAL uses the mesh's own certificates, which exist only inside an Istio mesh; Kanaria connects to this destination in plain text",
            "\(at("PASSTHROUGH", in: rule, warning: true)) simple PASSTHROUGH sends each request to the address its client connected to, which at a gateway is the gateway itself; it is not implemented, and LEAST_REQUEST (Istio's default) is used",
            "\(at("consecutiveErrors", in: rule, warning: true)) consecutiveErrors is deprecated and Istio ignores it; use consecutiveGatewayErrors or consecutive5xxErrors",
            "\(at("consistentHash", in: rule, warning: true)) consistentHash names no key (httpHeaderName, httpCookie, useSourceIp or httpQueryParameterName), so each request is hashed at random",
            "\(at("consistentHash", in: rule, warning: true)) consistentHash.minimumRingSize is deprecated; use ringHash.minimumRingSize",
        ])
        #expect(try policy(of: "v1", in: config).loadBalancer == .consistentHash(ConsistentHashPolicy(key: nil, table: .ringHash(minimumRingSize: 16))))
        #expect(try policy(of: "v2", in: config).tls == .disable)
    }

    /// Two DestinationRules for one host: subsets merge, the first rule's policy applies and the second is warned about.
    @Test func firstRulesPolicyWins() throws {
        let first = destinationRule("""
          trafficPolicy: {loadBalancer: {simple: RANDOM}}
          subsets:
          - name: v1
            labels: {version: v1}
        """)
        let second = destinationRule("""
          trafficPolicy: {loadBalancer: {simple: ROUND_ROBIN}}
          subsets:
          - name: v2
            labels: {version: v2}
        """, name: "nodejs-more")
        let config = try loadRule(first + "\n---\n" + second)
        let text = first + "\n---\n" + second
        #expect(printed(config).contains(
            "dr.yaml:\(line(of: "trafficPolicy:", in: text, after: "nodejs-more")): DestinationRule/nodejs-more: warning: the trafficPolicy for nodejs.default.svc.cluster.local is already set by an earlier DestinationRule; only the first one applies"))
        #expect(try policy(of: "v2", in: config).loadBalancer == .random)
    }

    /// Istio's rules between fields: TLS settings that exclude each other, MUTUAL's files, Maglev's required size,
    /// the deprecated ring size beside the new one, tunnel with PROXY protocol, client protocol with UPGRADE.
    @Test func fieldsThatExcludeOrNeedEachOther() throws {
        let rule = destinationRule("""
          trafficPolicy:
            tls: {mode: SIMPLE, caCertificates: ca.pem, insecureSkipVerify: true}
            connectionPool:
              http: {h2UpgradePolicy: UPGRADE, useClientProtocol: true}
              tcp: {idleTimeout: 0s}
            tunnel: {targetHost: example.com, targetPort: 443}
            proxyProtocol: {version: V2}
            loadBalancer:
              consistentHash: {httpHeaderName: x-user, minimumRingSize: 64, ringHash: {minimumRingSize: 64}}
          subsets:
          - name: v1
            labels: {version: v1}
            trafficPolicy:
              tls: {mode: MUTUAL, privateKey: /k.pem}
              loadBalancer:
                consistentHash: {useSourceIp: true, maglev: {}}
          - name: v2
            labels: {version: v2}
            trafficPolicy:
              tls: {mode: SIMPLE, credentialName: shark-ca, caCertificates: ca.pem}
        """)
        let config = try loadRule(rule)
        let lines = printed(config).filter { !$0.contains("is valid Istio but not implemented yet") }
        #expect(lines == [
            "\(at("insecureSkipVerify", in: rule)) caCertificates cannot be set when insecureSkipVerify is true, which verifies nothing [IST0106]",
            "\(at("useClientProtocol", in: rule)) useClientProtocol cannot be true with h2UpgradePolicy UPGRADE [IST0106]",
            "\(at("proxyProtocol", in: rule)) tunnel and proxyProtocol cannot be set together [IST0106]",
            "\(at("minimumRingSize", in: rule)) only one of minimumRingSize or ringHash may be set; minimumRingSize is the deprecated form of ringHash.minimumRingSize [IST0106]",
            "\(at("MUTUAL", in: rule)) tls mode MUTUAL requires \"clientCertificate\" [IST0106]",
            "\(at("MUTUAL", in: rule, warning: true)) tls mode MUTUAL (a client certificate) is not implemented yet (only DISABLE and SIMPLE); Kanaria connects to this destination in plain text",
            "\(at("maglev: {}", in: rule)) maglev needs \"tableSize\", a prime number such as 65537 [IST0106]",
            "\(at("shark-ca", in: rule)) clientCertificate, privateKey, caCertificates and caCrl cannot be set together with credentialName [IST0106]",
            "\(at("shark-ca", in: rule, warning: true)) credentialName \"shark-ca\" names a Kubernetes Secret, which Kanaria cannot read (it runs without a cluster); give the CA as a PEM file with \"caCertificates\"",
        ])
    }

    /// `tcp.idleTimeout: 0s` turns the idle timeout off (0), where a zero duration elsewhere is an error.
    @Test func zeroTCPIdleTimeoutDisablesIt() throws {
        let rule = destinationRule("""
          trafficPolicy:
            connectionPool:
              tcp: {idleTimeout: 0s, connectTimeout: 250ms}
        \(seedSubsets())
        """)
        let config = try loadRule(rule)
        #expect(!config.hasErrors)
        #expect(try policy(of: "v1", in: config).connectionPool.idleTimeoutMilliseconds == 0)
        #expect(try policy(of: "v1", in: config).connectionPool.connectTimeoutMilliseconds == 250)
    }
}

/// Upstream TLS to an HTTP/2 port is the one `tls` case not honoured: said on the destination's line.
@Suite struct UpstreamTLSWarningTests {
    @Test func simpleTLSToAnHTTP2PortIsWarnedAbout() throws {
        let app = try configText("node-app.yaml").replacingOccurrences(of: "name: http\n", with: "name: http2\n")
        let rule = destinationRule("""
          trafficPolicy:
            tls: {mode: SIMPLE, insecureSkipVerify: true}
        \(seedSubsets())
        """)
        let istio = try configText("node-istio.yaml")
        let config = load(("app.yaml", app), ("vs.yaml", istio.components(separatedBy: "---\napiVersion: networking.istio.io/v1alpha3\nkind: DestinationRule")[0]),
                          ("dr.yaml", rule), ("workloads.yaml", try configText("workloads.yaml").replacingOccurrences(of: "http:", with: "http2:")))
        #expect(printed(config).contains { $0.hasSuffix("tls mode SIMPLE to an HTTP/2 port (nodejs.default.svc.cluster.local:8080) is not implemented yet (HTTP/1.1 ports only); Kanaria connects to it in plain text") },
                "\(printed(config))")
    }
}

/// A DestinationRule using every traffic-policy field the proxy applies, at the top, per subset and per port:
/// it validates with no warning at all.
@Suite struct EveryTrafficPolicyFieldTests {
    @Test func everyFieldValidatesWithoutAWarning() throws {
        let rule = destinationRule("""
          trafficPolicy:
            loadBalancer:
              consistentHash:
                httpCookie: {name: user, path: /, ttl: 1h}
                maglev: {tableSize: 65537}
            connectionPool:
              tcp: {maxConnections: 100, connectTimeout: 2s}
              http: {http1MaxPendingRequests: 10, http2MaxRequests: 1000, maxRequestsPerConnection: 50, maxRetries: 3, idleTimeout: 30s}
            outlierDetection:
              consecutive5xxErrors: 5
              consecutiveGatewayErrors: 3
              interval: 5s
              baseEjectionTime: 30s
              maxEjectionPercent: 50
              minHealthPercent: 20
            tls: {mode: SIMPLE, insecureSkipVerify: true}
            portLevelSettings:
            - port: {number: 8080}
              loadBalancer: {simple: ROUND_ROBIN}
        \(seedSubsets(v1Extra: """
                trafficPolicy:
                  loadBalancer:
                    consistentHash: {httpHeaderName: x-user, ringHash: {minimumRingSize: 1024}}
                  tls: {mode: DISABLE}
            """))
        """)
        let config = try loadRule(rule)
        #expect(printed(config) == [])
        #expect(config.table != nil)
    }
}
