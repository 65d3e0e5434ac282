/// A DestinationRule's `trafficPolicy.tls`: how Kanaria connects to the cluster's endpoints.
///
/// `MUTUAL` (client certificates) and `credentialName` (a Kubernetes Secret) are not implemented; `ISTIO_MUTUAL`
/// needs the mesh's own certificates and has no meaning outside a mesh. KanariaConfig reports each.
public enum UpstreamTLSSettings: Sendable, Equatable {
    /// `mode: DISABLE` (and no `tls` at all): plain text.
    case disable
    /// `mode: SIMPLE`: TLS without a client certificate.
    case simple(SimpleUpstreamTLS)

    public static let istioDefault = UpstreamTLSSettings.disable
}

/// The settings of `tls.mode: SIMPLE`.
public struct SimpleUpstreamTLS: Sendable, Equatable {
    /// `caCertificates`: the PEM file of CAs that verify the upstream, as an absolute path; nil for the system's.
    public var caCertificatesFile: String?
    /// `sni`: the server name sent; nil for none.
    public var sni: String?
    /// `insecureSkipVerify`: no verification of the upstream's certificate at all.
    public var insecureSkipVerify: Bool
    /// `subjectAltNames`: names one of which the certificate must carry; empty for no check beyond the CA.
    public var subjectAltNames: [String]

    public init(caCertificatesFile: String? = nil, sni: String? = nil, insecureSkipVerify: Bool = false,
                subjectAltNames: [String] = []) {
        self.caCertificatesFile = caCertificatesFile
        self.sni = sni
        self.insecureSkipVerify = insecureSkipVerify
        self.subjectAltNames = subjectAltNames
    }
}
