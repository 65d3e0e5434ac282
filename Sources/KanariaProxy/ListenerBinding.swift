import KanariaPosix
import KanariaRouting
import KanariaTelemetry
import KanariaTLS

/// Where a Gateway server port is served, and with which TLS certificates when it is HTTPS.
public struct ListenerBinding: Sendable {
    /// The Gateway server's port number (the key in `RouteTable.listeners`).
    public var gatewayPort: Int
    public var address: SocketAddress
    /// The certificates of an HTTPS server; nil for plain TCP.
    public var tls: TLSServerContext?

    public init(gatewayPort: Int, address: SocketAddress, tls: TLSServerContext? = nil) {
        self.gatewayPort = gatewayPort
        self.address = address
        self.tls = tls
    }
}

/// One worker's listening socket for a gateway port.
struct ListenerSocket {
    var fd: Int32
    /// The index of the route-table listener it serves.
    var listener: Int
    var gatewayPort: Int
    var tls: TLSServerContext?
    /// The bound `ip:port`, for the access log's %DOWNSTREAM_LOCAL_ADDRESS%.
    var localAddress: [UInt8]
}

extension TLSServerContext {
    /// The certificates of Gateway port `port`'s HTTPS servers, picked by SNI, offering h2 and http/1.1 by ALPN;
    /// nil when the port is plain TCP. Reads the certificate and key files now.
    public static func gatewayPort(_ port: Int, in table: RouteTable) throws -> TLSServerContext? {
        guard let index = table.listenerIndex(port: port), let tls = table.listeners[index].tls else { return nil }
        return try TLSServerContext(
            servers: tls.servers.map {
                TLSServerCredentials(hosts: $0.hosts, certificateChainFile: $0.serverCertificate, privateKeyFile: $0.privateKey)
            },
            applicationProtocols: [.http2, .http1_1])
    }
}
