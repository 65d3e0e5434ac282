import KanariaConfig
import KanariaRouting
import Testing

/// Which Gateway servers become listeners, with which protocol, and which share a port.
@Suite struct GatewayProtocolTests {
    /// HTTP2 and GRPC servers (in any case, as Istio reads protocols) are plain-text listeners of their protocol;
    /// VirtualServices bind to them as to HTTP servers.
    @Test func http2AndGRPCServers() throws {
        let text = edgeGateway("""
          - port: {number: 8080, name: h2c, protocol: HTTP2}
            hosts: ["*"]
          - port: {number: 9090, name: grpc, protocol: grpc}
            hosts: ["*"]
        """)
        let config = try loadGateway(text)
        #expect(printed(config) == [])
        let table = try #require(config.table)
        #expect(table.listeners.map(\.serverProtocol) == [.http2, .grpc])
        #expect(table.listeners.map { $0.tls == nil } == [true, true])
        #expect(config.servers.map(\.protocol) == ["HTTP2", "GRPC"])
        for listener in [0, 1] {
            #expect(clusterName("POST /shark.Sharks/Get HTTP/1.1\nHost: sharks\n\n", in: table, listener: listener)
                == "outbound|8080||nodejs.default.svc.cluster.local")
        }
    }

    /// Plain-text HTTP, HTTP2 and GRPC servers on one port share its listener, as Istio merges them; the port
    /// keeps the first server's protocol.
    @Test func plainTextServersShareAPort() throws {
        let text = edgeGateway("""
          - port: {number: 80, name: http, protocol: HTTP}
            hosts: [web.example.com]
          - port: {number: 80, name: grpc, protocol: GRPC}
            hosts: [api.example.com]
        """)
        let config = try loadGateway(text)
        #expect(printed(config) == [])
        #expect(config.table?.listeners.map(\.serverProtocol) == [.http])
        #expect(config.table?.listeners.first?.virtualHosts.map(\.domains) == [["web.example.com", "api.example.com"]])
        #expect(config.servers == [GatewayServer(gateway: "default/edge", port: 80, portName: "http", serverProtocol: .http,
                                                 hosts: ["web.example.com", "api.example.com"])])
    }

    /// A plain-text and a TLS server on one port cannot both be served: an error on the later one, naming the
    /// first, whichever comes first.
    @Test func plainTextAndTLSCannotShareAPort() throws {
        let https = """
          - port: {number: 443, name: https, protocol: HTTPS}
            hosts: ["*"]
            tls: {mode: SIMPLE, serverCertificate: localhost.crt, privateKey: localhost.key}
        """
        let http = """
          - port: {number: 443, name: http, protocol: HTTP}
            hosts: ["*"]
        """
        let tlsFirst = edgeGateway(https + "\n" + http)
        #expect(printed(try loadGateway(tlsFirst)) == [
            "\(gatewayFile):\(line(of: "protocol: HTTP}", in: tlsFirst)): Gateway/edge: port 443 is already served with TLS (protocol HTTPS) by the server at \(gatewayFile):\(line(of: "name: https", in: tlsFirst)); a plain-text server (protocol HTTP) cannot share it",
        ])
        let plainFirst = edgeGateway(http + "\n" + https)
        #expect(printed(try loadGateway(plainFirst)) == [
            "\(gatewayFile):\(line(of: "protocol: HTTPS", in: plainFirst)): Gateway/edge: port 443 is already served with plain text (protocol HTTP) by the server at \(gatewayFile):\(line(of: "name: http,", in: plainFirst)); a TLS server (protocol HTTPS) cannot share it",
        ])
    }

    /// The conflict is found across Gateways and files, and names the other Gateway.
    @Test func conflictAcrossGateways() throws {
        let other = """
        apiVersion: networking.istio.io/v1
        kind: Gateway
        metadata: {name: secure}
        spec:
          servers:
          - port: {number: 80, name: https, protocol: HTTPS}
            hosts: ["*"]
            tls: {mode: SIMPLE, serverCertificate: localhost.crt, privateKey: localhost.key}
        """
        let text = edgeGateway("""
          - port: {number: 80, name: http, protocol: HTTP}
            hosts: ["*"]
        """)
        let otherFile = TLSFiles.path("secure.yaml")
        let config = load(("app.yaml", try configText("node-app.yaml")), (gatewayFile, text), (otherFile, other),
                          ("workloads.yaml", try configText("workloads.yaml")))
        #expect(printed(config) == [
            "\(otherFile):6: Gateway/secure: port 80 is already served with plain text (protocol HTTP) by the server at \(gatewayFile):\(line(of: "name: http,", in: text)) of Gateway/edge; a TLS server (protocol HTTPS) cannot share it",
        ])
    }

    /// Protocols Kanaria does not serve yet are warned about, and their servers make no listener.
    @Test(arguments: ["TCP", "TLS", "MONGO", "GRPC-WEB", "redis"])
    func otherProtocolsAreNotServedYet(protocolName: String) throws {
        let text = edgeGateway("""
          - port: {number: 80, name: http, protocol: HTTP}
            hosts: ["*"]
          - port: {number: 5000, name: other, protocol: \(protocolName)}
            hosts: ["*"]
        """)
        let config = try loadGateway(text)
        #expect(printed(config) == [
            "\(gatewayFile):\(line(of: "name: other", in: text)): Gateway/edge: warning: protocol \"\(protocolName)\" is not served yet (only HTTP, HTTPS, HTTP2 and GRPC for now); this server is ignored",
        ])
        #expect(config.table?.listeners.map(\.port) == [80])
    }

    /// `tls.httpsRedirect: true` on an HTTP server: its listener redirects; the HTTPS listener beside it does not.
    @Test func httpsRedirect() throws {
        let text = edgeGateway("""
          - port: {number: 80, name: http, protocol: HTTP}
            hosts: ["*"]
            tls:
              httpsRedirect: true
          - port: {number: 443, name: https, protocol: HTTPS}
            hosts: ["*"]
            tls: {mode: SIMPLE, serverCertificate: localhost.crt, privateKey: localhost.key}
        """)
        let config = try loadGateway(text)
        #expect(printed(config) == [])
        #expect(config.table?.listeners.map(\.httpsRedirect) == [true, false])
        #expect(config.table?.listeners.map(\.serverProtocol) == [.http, .https])
    }

    /// Servers on one port that disagree about httpsRedirect: Kanaria decides per port for now, redirects, and
    /// says so.
    @Test func httpsRedirectThatDiffersOnAPort() throws {
        let text = edgeGateway("""
          - port: {number: 80, name: http-a, protocol: HTTP}
            hosts: [a.example.com]
          - port: {number: 80, name: http-b, protocol: HTTP}
            hosts: [b.example.com]
            tls: {httpsRedirect: true}
        """)
        let config = try loadGateway(text)
        #expect(printed(config) == [
            "\(gatewayFile):\(line(of: "httpsRedirect", in: text)): Gateway/edge: warning: tls.httpsRedirect differs between the servers on port 80 (it is set by the server at \(gatewayFile):\(line(of: "http-b", in: text))); Kanaria redirects per port for now, so every host on port 80 is redirected to https",
        ])
        #expect(config.table?.listeners.map(\.httpsRedirect) == [true])
    }

    /// A plain-text server may set only httpsRedirect in `tls` (Istio's validation); httpsRedirect on an HTTPS
    /// server changes nothing (Istio warns too).
    @Test func tlsSettingsOnTheWrongProtocol() throws {
        let plain = edgeGateway("""
          - port: {number: 80, name: http, protocol: HTTP2}
            hosts: ["*"]
            tls:
              mode: SIMPLE
              serverCertificate: localhost.crt
              privateKey: localhost.key
        """)
        #expect(printed(try loadGateway(plain)) == [
            "\(gatewayFile):\(line(of: "mode:", in: plain)): Gateway/edge: protocol HTTP2 is plain text, so its \"tls\" can only set httpsRedirect; use protocol HTTPS to terminate TLS [IST0106]",
        ])
        let certificateOnly = edgeGateway("""
          - port: {number: 80, name: http, protocol: HTTP}
            hosts: ["*"]
            tls:
              httpsRedirect: true
              serverCertificate: localhost.crt
        """)
        #expect(printed(try loadGateway(certificateOnly)) == [
            "\(gatewayFile):\(line(of: "serverCertificate", in: certificateOnly)): Gateway/edge: protocol HTTP is plain text, so its \"tls\" can only set httpsRedirect; use protocol HTTPS to terminate TLS [IST0106]",
        ])
        let redirecting = edgeGateway("""
          - port: {number: 443, name: https, protocol: HTTPS}
            hosts: ["*"]
            tls:
              httpsRedirect: true
              mode: SIMPLE
              serverCertificate: localhost.crt
              privateKey: localhost.key
        """)
        let config = try loadGateway(redirecting)
        #expect(printed(config) == [
            "\(gatewayFile):\(line(of: "httpsRedirect", in: redirecting)): Gateway/edge: warning: tls.httpsRedirect only applies to plain-text HTTP servers; it is ignored",
        ])
        #expect(config.table?.listeners.map(\.httpsRedirect) == [false])
    }
}
