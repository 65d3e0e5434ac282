/// One Gateway server's certificate: its `hosts` ("bookinfo.example.com", "*.example.com", "*"; without the
/// `namespace/` prefix) with its `tls.serverCertificate` and `tls.privateKey` files.
public struct TLSServerCredentials: Sendable, Equatable {
    public var hosts: [String]
    public var certificateChainFile: String
    public var privateKeyFile: String

    public init(hosts: [String], certificateChainFile: String, privateKeyFile: String) {
        self.hosts = hosts
        self.certificateChainFile = certificateChainFile
        self.privateKeyFile = privateKeyFile
    }

    func sameFiles(as other: TLSServerCredentials) -> Bool {
        certificateChainFile == other.certificateChainFile && privateKeyFile == other.privateKeyFile
    }
}
