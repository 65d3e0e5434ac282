import KanariaConfig
import KanariaRouting
import Testing

/// The YAML of a Gateway `edge` with `servers` (indented under `servers:`), and a VirtualService for every host
/// bound to it that sends everything to the seed's `nodejs` Service.
func edgeGateway(_ servers: String) -> String {
    """
    apiVersion: networking.istio.io/v1
    kind: Gateway
    metadata:
      name: edge
    spec:
      servers:
    \(servers)
    ---
    apiVersion: networking.istio.io/v1
    kind: VirtualService
    metadata:
      name: nodejs
    spec:
      hosts: ["*"]
      gateways: [edge]
      http:
      - route:
        - destination: {host: nodejs}
    """
}

/// The seed's Service, Deployments and WorkloadEntries, with `text` read from `gw.yaml` in `TLSFiles.folder`
/// (relative certificate paths are relative to it).
func loadGateway(_ text: String) throws -> LoadedConfiguration {
    load(("app.yaml", try configText("node-app.yaml")), (gatewayFile, text), ("workloads.yaml", try configText("workloads.yaml")))
}

/// Where `loadGateway` says its Gateway was read from.
let gatewayFile = TLSFiles.path("gw.yaml")

/// Gateway servers with `protocol: HTTPS` and `tls.mode: SIMPLE`: listeners that terminate TLS with the files
/// named, which are loaded at load time so that a wrong file is reported on its line.
@Suite struct GatewayTLSTests {
    /// An HTTPS server with absolute paths: a listener with its protocol, hosts and files; VirtualServices bind
    /// to it as to an HTTP server.
    @Test func httpsServerCompilesToATLSListener() throws {
        let text = edgeGateway("""
          - port: {number: 80, name: http, protocol: HTTP}
            hosts: ["*"]
          - port: {number: 443, name: https, protocol: HTTPS}
            hosts: ["*"]
            tls:
              mode: SIMPLE
              serverCertificate: \(TLSFiles.path("localhost.crt"))
              privateKey: \(TLSFiles.path("localhost.key"))
        """)
        let config = try loadGateway(text)
        #expect(printed(config) == [])
        let table = try #require(config.table)
        #expect(table.listeners.map(\.port) == [80, 443])
        #expect(table.listeners.map(\.serverProtocol) == [.http, .https])
        #expect(table.listeners[0].tls == nil)
        #expect(table.listeners[1].tls == ListenerTLS(mode: .simple, servers: [
            ListenerTLS.Server(hosts: ["*"], serverCertificate: TLSFiles.path("localhost.crt"), privateKey: TLSFiles.path("localhost.key")),
        ]))
        #expect(table.listeners.map(\.httpsRedirect) == [false, false])
        #expect(config.servers.map(\.serverProtocol) == [.http, .https])
        #expect(config.servers.map(\.protocol) == ["HTTP", "HTTPS"])
        #expect(clusterName("GET / HTTP/1.1\nHost: localhost\n\n", in: table, listener: 1) == "outbound|8080||nodejs.default.svc.cluster.local")
    }

    /// Relative paths are relative to the folder of the YAML file that names them (in Istio they are paths inside
    /// the gateway's pod); the listener gets them absolute and without `.` or `..`.
    @Test func relativePathsAreRelativeToTheYAMLFile() throws {
        let text = edgeGateway("""
          - port: {number: 443, name: https, protocol: https}
            hosts: [localhost]
            tls:
              mode: SIMPLE
              serverCertificate: certs/localhost.crt
              privateKey: ./certs/../certs/localhost.key
        """)
        let config = try loadGateway(text)
        #expect(printed(config) == [])
        #expect(config.table?.listeners.first?.tls?.servers == [
            ListenerTLS.Server(hosts: ["localhost"], serverCertificate: TLSFiles.path("certs/localhost.crt"),
                               privateKey: TLSFiles.path("certs/localhost.key")),
        ])
    }

    /// A Gateway with an HTTPS server whose files are `certificate` and `key`.
    private func httpsGateway(certificate: String, key: String) -> String {
        edgeGateway("""
          - port: {number: 443, name: https, protocol: HTTPS}
            hosts: ["*"]
            tls:
              mode: SIMPLE
              serverCertificate: \(certificate)
              privateKey: \(key)
        """)
    }

    /// A certificate file that does not exist: one error on the line of serverCertificate, naming the path as
    /// written and as resolved, and the system's reason.
    @Test func missingCertificateFile() throws {
        let text = httpsGateway(certificate: "missing.crt", key: "localhost.key")
        let config = try loadGateway(text)
        #expect(printed(config) == [
            "\(gatewayFile):\(line(of: "serverCertificate", in: text)): Gateway/edge: serverCertificate \"missing.crt\" (\(TLSFiles.path("missing.crt"))): cannot open the certificate chain: No such file or directory",
        ])
        #expect(config.table == nil)
    }

    /// A key file that does not exist: one error on the line of privateKey.
    @Test func missingKeyFile() throws {
        let text = httpsGateway(certificate: TLSFiles.path("localhost.crt"), key: "/nonexistent/tls.key")
        let config = try loadGateway(text)
        #expect(printed(config) == [
            "\(gatewayFile):\(line(of: "privateKey", in: text)): Gateway/edge: privateKey \"/nonexistent/tls.key\": cannot open the private key: No such file or directory",
        ])
    }

    /// The key given as serverCertificate and the certificate as privateKey: one error, on serverCertificate,
    /// saying what the file holds instead.
    @Test func swappedCertificateAndKey() throws {
        let text = httpsGateway(certificate: "localhost.key", key: "localhost.crt")
        let config = try loadGateway(text)
        #expect(printed(config) == [
            "\(gatewayFile):\(line(of: "serverCertificate", in: text)): Gateway/edge: serverCertificate \"localhost.key\" (\(TLSFiles.path("localhost.key"))): no PEM certificate found (expected a \"-----BEGIN CERTIFICATE-----\" block; the file holds \"PRIVATE KEY\")",
        ])
    }

    /// A key that is not the certificate's: one error, on privateKey, naming both files.
    @Test func keyThatDoesNotMatchTheCertificate() throws {
        let text = httpsGateway(certificate: TLSFiles.path("localhost.crt"), key: TLSFiles.path("other.key"))
        let config = try loadGateway(text)
        #expect(printed(config) == [
            "\(gatewayFile):\(line(of: "privateKey", in: text)): Gateway/edge: privateKey \"\(TLSFiles.path("other.key"))\": the private key does not match the certificate in \(TLSFiles.path("localhost.crt"))",
        ])
    }

    /// HTTPS without `tls`, and SIMPLE without its files, are invalid Istio.
    @Test func httpsNeedsACertificateAndKey() throws {
        let bare = edgeGateway("""
          - port: {number: 443, name: https, protocol: HTTPS}
            hosts: ["*"]
        """)
        #expect(printed(try loadGateway(bare)) == [
            "\(gatewayFile):\(line(of: "protocol: HTTPS", in: bare)): Gateway/edge: a server with protocol HTTPS needs \"tls\" settings: mode SIMPLE with serverCertificate and privateKey [IST0106]",
        ])
        let noFiles = edgeGateway("""
          - port: {number: 443, name: https, protocol: HTTPS}
            hosts: ["*"]
            tls:
              mode: SIMPLE
        """)
        let tlsLine = line(of: "tls:", in: noFiles)
        #expect(printed(try loadGateway(noFiles)) == [
            "\(gatewayFile):\(tlsLine): Gateway/edge: tls mode SIMPLE requires \"serverCertificate\", the PEM certificate chain file [IST0106]",
            "\(gatewayFile):\(tlsLine): Gateway/edge: tls mode SIMPLE requires \"privateKey\", the PEM private key file [IST0106]",
        ])
    }

    /// `credentialName` is a Kubernetes Secret: alone, the server cannot work (an error saying what to write
    /// instead); beside serverCertificate and privateKey, the files are used and the Secret is warned about.
    @Test func credentialName() throws {
        let secretOnly = edgeGateway("""
          - port: {number: 443, name: https, protocol: HTTPS}
            hosts: ["*"]
            tls:
              mode: SIMPLE
              credentialName: shark-cert
        """)
        #expect(printed(try loadGateway(secretOnly)) == [
            "\(gatewayFile):\(line(of: "credentialName", in: secretOnly)): Gateway/edge: credentialName \"shark-cert\" names a Kubernetes Secret, which Kanaria cannot read (it runs without a cluster); give the certificate and key as PEM files with \"serverCertificate\" and \"privateKey\"",
        ])
        let both = edgeGateway("""
          - port: {number: 443, name: https, protocol: HTTPS}
            hosts: ["*"]
            tls:
              mode: SIMPLE
              credentialName: shark-cert
              serverCertificate: localhost.crt
              privateKey: localhost.key
        """)
        let config = try loadGateway(both)
        #expect(printed(config) == [
            "\(gatewayFile):\(line(of: "credentialName", in: both)): Gateway/edge: warning: credentialName \"shark-cert\" names a Kubernetes Secret, which Kanaria cannot read; the serverCertificate and privateKey files are used instead",
        ])
        #expect(config.table?.listeners.first?.tls?.servers.first?.serverCertificate == TLSFiles.path("localhost.crt"))
    }

    /// Modes other than SIMPLE are valid Istio not implemented yet: a warning, and no listener for the server. No
    /// mode at all is PASSTHROUGH, Istio's default.
    @Test(arguments: ["PASSTHROUGH", "MUTUAL", "OPTIONAL_MUTUAL", "ISTIO_MUTUAL", "AUTO_PASSTHROUGH"])
    func unimplementedModes(mode: String) throws {
        let text = edgeGateway("""
          - port: {number: 80, name: http, protocol: HTTP}
            hosts: ["*"]
          - port: {number: 443, name: https, protocol: HTTPS}
            hosts: ["*"]
            tls:
              mode: \(mode)
        """)
        let config = try loadGateway(text)
        #expect(printed(config) == [
            "\(gatewayFile):\(line(of: "mode:", in: text)): Gateway/edge: warning: tls mode \(mode) is not implemented yet (only SIMPLE for now); this server is ignored",
        ])
        #expect(config.table?.listeners.map(\.port) == [80])
        #expect(config.servers.map(\.port) == [80])
    }

    /// `tls` without `mode` is PASSTHROUGH in Istio, even with certificate files: the warning says how to
    /// terminate TLS instead.
    @Test func missingModeIsPassthrough() throws {
        let text = edgeGateway("""
          - port: {number: 443, name: https, protocol: HTTPS}
            hosts: ["*"]
            tls:
              serverCertificate: localhost.crt
              privateKey: localhost.key
        """)
        #expect(printed(try loadGateway(text)) == [
            "\(gatewayFile):\(line(of: "tls:", in: text)): Gateway/edge: warning: tls has no \"mode\", which Istio reads as PASSTHROUGH: not implemented yet (only SIMPLE for now); this server is ignored (set mode: SIMPLE to terminate TLS with serverCertificate and privateKey)",
        ])
    }

    /// Settings that change nothing yet are warned about by name; Kanaria's own choices (TLS 1.2 to 1.3) are not.
    /// Settings that only check client certificates are ignored in SIMPLE mode, as by Istio; a CRL is an error.
    @Test func settingsWithoutEffect() throws {
        let text = edgeGateway("""
          - port: {number: 443, name: https, protocol: HTTPS}
            hosts: ["*"]
            tls:
              mode: SIMPLE
              serverCertificate: localhost.crt
              privateKey: localhost.key
              minProtocolVersion: TLSV1_2
              maxProtocolVersion: TLSV1_2
              cipherSuites: [ECDHE-RSA-AES256-GCM-SHA384]
              subjectAltNames: [client.example.com]
              caCertificates: /etc/ca.pem
              tlsCertificates:
              - {serverCertificate: localhost.crt, privateKey: localhost.key}
        """)
        let config = try loadGateway(text)
        #expect(printed(config) == [
            "\(gatewayFile):\(line(of: "maxProtocolVersion", in: text)): Gateway/edge: warning: maxProtocolVersion TLSV1_2 is not implemented yet: Kanaria serves TLS 1.2 and 1.3; it is ignored",
            "\(gatewayFile):\(line(of: "cipherSuites", in: text)): Gateway/edge: warning: field \"cipherSuites\" is valid Istio but not implemented yet; it is ignored (Kanaria offers Istio's default cipher suites)",
            "\(gatewayFile):\(line(of: "subjectAltNames", in: text)): Gateway/edge: warning: field \"subjectAltNames\" checks client certificates, which mode SIMPLE does not ask for; it is ignored, as Istio ignores it",
            "\(gatewayFile):\(line(of: "caCertificates", in: text)): Gateway/edge: warning: field \"caCertificates\" checks client certificates, which mode SIMPLE does not ask for; it is ignored, as Istio ignores it",
            "\(gatewayFile):\(line(of: "tlsCertificates", in: text)): Gateway/edge: warning: field \"tlsCertificates\" is valid Istio but not implemented yet; it is ignored",
        ])
        #expect(config.table?.listeners.first?.tls != nil)

        let crl = text.replacingOccurrences(of: "      caCertificates: /etc/ca.pem", with: "      caCrl: /etc/crl.pem")
        #expect(try loadGateway(crl).errors.map(\.description) == [
            "\(gatewayFile):\(line(of: "caCrl", in: crl)): Gateway/edge: field \"caCrl\" cannot be used with tls mode SIMPLE, which checks no client certificate [IST0106]",
        ])
    }

    /// Several HTTPS servers on port 443, each with its hosts and certificate: one listener whose TLS lists them
    /// in order, hosts without their namespace, for the TLS layer to choose by SNI.
    @Test func httpsServersShareAPort() throws {
        let text = edgeGateway("""
          - port: {number: 443, name: https-localhost, protocol: HTTPS}
            hosts: [./localhost]
            tls: {mode: SIMPLE, serverCertificate: localhost.crt, privateKey: localhost.key}
          - port: {number: 443, name: https-test, protocol: HTTPS}
            hosts: ["*/*.example.test", "*.example.test"]
            tls: {mode: SIMPLE, serverCertificate: wildcard.crt, privateKey: wildcard.key}
        """)
        let config = try loadGateway(text)
        #expect(printed(config) == [])
        let table = try #require(config.table)
        #expect(table.listeners.count == 1)
        #expect(table.listeners[0].tls?.servers == [
            ListenerTLS.Server(hosts: ["localhost"], serverCertificate: TLSFiles.path("localhost.crt"), privateKey: TLSFiles.path("localhost.key")),
            ListenerTLS.Server(hosts: ["*.example.test"], serverCertificate: TLSFiles.path("wildcard.crt"), privateKey: TLSFiles.path("wildcard.key")),
        ])
        #expect(table.listeners[0].virtualHosts.map(\.domains) == [["localhost", "*.example.test"]])
        #expect(config.servers.map(\.hosts) == [["./localhost", "*/*.example.test", "*.example.test"]])
    }

    /// A host that already has a certificate on the port: Istio skips the later server (with a warning in its
    /// log); Kanaria does the same and says so.
    @Test func duplicateTLSHostSkipsTheLaterServer() throws {
        let text = edgeGateway("""
          - port: {number: 443, name: https-a, protocol: HTTPS}
            hosts: [localhost]
            tls: {mode: SIMPLE, serverCertificate: localhost.crt, privateKey: localhost.key}
          - port: {number: 443, name: https-b, protocol: HTTPS}
            hosts: [shop.example.test, LOCALHOST]
            tls: {mode: SIMPLE, serverCertificate: wildcard.crt, privateKey: wildcard.key}
        """)
        let config = try loadGateway(text)
        #expect(printed(config) == [
            "\(gatewayFile):\(line(of: "LOCALHOST", in: text)): Gateway/edge: warning: host \"LOCALHOST\" already has a certificate on port 443 from the server at \(gatewayFile):\(line(of: "https-a", in: text)); as in Istio, this server is ignored",
        ])
        #expect(config.table?.listeners.first?.tls?.servers.map(\.hosts) == [["localhost"]])
    }
}
