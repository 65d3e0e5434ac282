/// A certificate or key that cannot be used, named by its file: what a Gateway's `tls.serverCertificate` and
/// `tls.privateKey` diagnostics say.
///
///     /etc/istio/ingressgateway-certs/tls.crt: cannot open the certificate chain: No such file or directory
///     /etc/istio/ingressgateway-certs/tls.key: no PEM private key found (expected a "-----BEGIN PRIVATE KEY-----" block)
///     /etc/istio/ingressgateway-certs/tls.key: the private key does not match the certificate in .../tls.crt
public struct TLSConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Which of the two files the problem is in.
    public enum Source: Sendable, Equatable {
        /// `tls.serverCertificate`: the leaf certificate, then any intermediates.
        case certificateChain
        /// `tls.privateKey`.
        case privateKey
    }

    public var source: Source
    /// The path as it was given.
    public var file: String
    /// What is wrong, in words for the person who wrote the Gateway.
    public var message: String

    public init(source: Source, file: String, message: String) {
        self.source = source
        self.file = file
        self.message = message
    }

    /// `FILE: MESSAGE`.
    public var description: String { "\(file): \(message)" }
}
