#if canImport(Glibc)
import Glibc
#endif

import KanariaTestCertificates

/// The test certificates (see `TestCertificates`) as files, for the TLS tests.
enum Fixtures {
    static var rootCA: String { TestCertificates.rootCA }
    static var localhostChain: String { TestCertificates.localhostChain }
    static var localhostKey: String { TestCertificates.localhostKey }
    static var otherKey: String { TestCertificates.otherKey }
    static var localhostEncryptedKey: String { TestCertificates.localhostEncryptedKey }
    static var wildcardChain: String { TestCertificates.wildcardChain }
    static var wildcardKey: String { TestCertificates.wildcardKey }

    /// A directory holding every fixture as a file, made once per test run.
    static let directory: String = {
        var template = Array("/tmp/kanaria-tls-tests-XXXXXX".utf8CString)
        guard mkdtemp(&template) != nil else { fatalError("mkdtemp failed") }
        let directory = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        let files = [
            ("root-ca.crt", rootCA), ("localhost-chain.crt", localhostChain), ("localhost.key", localhostKey),
            ("other.key", otherKey), ("wildcard-chain.crt", wildcardChain), ("wildcard.key", wildcardKey), ("localhost-encrypted.key", localhostEncryptedKey),
            ("not-pem.txt", "this is not a certificate\n"), ("empty.pem", ""),
        ]
        for (name, contents) in files { write(contents, to: directory + "/" + name) }
        return directory
    }()

    /// The path of the fixture file `name`.
    static func path(_ name: String) -> String { directory + "/" + name }

    static func write(_ contents: String, to path: String) {
        guard let file = fopen(path, "w") else { fatalError("cannot write \(path)") }
        var contents = contents
        contents.withUTF8 { _ = fwrite($0.baseAddress, 1, $0.count, file) }
        fclose(file)
    }
}
