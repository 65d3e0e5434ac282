import KanariaTLS
import Testing

/// What a Gateway's `tls.serverCertificate` / `tls.privateKey` problems read like: the file, then the problem.
@Suite struct ServerContextTests {
    func loadError(certificate: String, key: String = Fixtures.path("localhost.key")) -> TLSConfigurationError? {
        do {
            _ = try TLSServerContext(certificateChainFile: certificate, privateKeyFile: key)
            return nil
        } catch {
            return error
        }
    }

    /// A missing certificate file is named, with the system's reason.
    @Test func namesAMissingCertificateFile() {
        let error = loadError(certificate: "/nonexistent/tls.crt")
        #expect(error?.description == "/nonexistent/tls.crt: cannot open the certificate chain: No such file or directory")
        #expect(error?.source == .certificateChain)
    }

    /// A missing key file is named, with the system's reason.
    @Test func namesAMissingKeyFile() {
        let error = loadError(certificate: Fixtures.path("localhost-chain.crt"), key: "/nonexistent/tls.key")
        #expect(error?.description == "/nonexistent/tls.key: cannot open the private key: No such file or directory")
        #expect(error?.source == .privateKey)
    }

    /// A file that is not PEM and an empty file say what was expected.
    @Test(arguments: ["not-pem.txt", "empty.pem"])
    func explainsACertificateFileWithoutPEM(name: String) {
        let path = Fixtures.path(name)
        let error = loadError(certificate: path)
        #expect(error?.description == "\(path): no PEM certificate found (expected a \"-----BEGIN CERTIFICATE-----\" block)")
    }

    /// The key given as the certificate, and the certificate as the key (swapped fields), say what the file holds.
    @Test func explainsSwappedFiles() {
        let certificate = Fixtures.path("localhost-chain.crt")
        let key = Fixtures.path("localhost.key")
        #expect(loadError(certificate: key, key: certificate)?.description
            == "\(key): no PEM certificate found (expected a \"-----BEGIN CERTIFICATE-----\" block; the file holds \"PRIVATE KEY\")")
        #expect(loadError(certificate: certificate, key: certificate)?.description
            == "\(certificate): no PEM private key found (expected a \"-----BEGIN PRIVATE KEY-----\" block; the file holds \"CERTIFICATE\")")
    }

    /// A key that belongs to another certificate is refused, naming both files.
    @Test func refusesAKeyThatDoesNotMatch() {
        let certificate = Fixtures.path("localhost-chain.crt")
        let key = Fixtures.path("other.key")
        let error = loadError(certificate: certificate, key: key)
        #expect(error?.description == "\(key): the private key does not match the certificate in \(certificate)")
    }

    /// An encrypted key is refused without prompting for a password.
    @Test func refusesAnEncryptedKey() {
        let key = Fixtures.path("localhost-encrypted.key")
        let error = loadError(certificate: Fixtures.path("localhost-chain.crt"), key: key)
        #expect(error?.description == "\(key): the private key is encrypted; Kanaria needs it unencrypted, as Istio does")
    }

    /// A PEM block whose base64 is damaged is called malformed.
    @Test func callsADamagedCertificateMalformed() {
        let path = Fixtures.path("damaged.crt")
        Fixtures.write("-----BEGIN CERTIFICATE-----\nMIIB!!!!not base64\n-----END CERTIFICATE-----\n", to: path)
        let error = loadError(certificate: path)
        #expect(error?.description.hasPrefix("\(path): the PEM certificate is malformed: ") == true)
    }

    /// A damaged intermediate is reported by its place in the chain.
    @Test func namesADamagedIntermediate() {
        let path = Fixtures.path("damaged-chain.crt")
        Fixtures.write(Fixtures.localhostChain.split(separator: "\n").prefix(12).joined(separator: "\n")
                       + "\n-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", to: path)
        let error = loadError(certificate: path)
        #expect(error?.description.hasPrefix("\(path): certificate 2 in the chain is malformed: ") == true)
    }

    /// A directory given as a file is named as such.
    @Test func namesADirectory() {
        let error = loadError(certificate: Fixtures.directory)
        #expect(error?.description == "\(Fixtures.directory): cannot read the certificate: Is a directory")
    }

    /// The fixture pair loads, offering h2 then http/1.1 by default.
    @Test func loadsAValidPair() throws {
        let context = try TLSServerContext(certificateChainFile: Fixtures.path("localhost-chain.crt"),
                                           privateKeyFile: Fixtures.path("localhost.key"))
        #expect(context.applicationProtocols == [.http2, .http1_1])
    }
}
