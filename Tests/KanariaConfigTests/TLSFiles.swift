import Foundation
import KanariaTestCertificates

/// Certificates and keys for Gateway servers with TLS, written to a fresh folder once per test run. The PEM texts
/// are KanariaTLSTests' fixtures (ECDSA P-256, valid 2025-2125): a leaf for `localhost` and one for
/// `*.example.test`, each followed by their intermediate CA, with their keys, and a key that matches neither.
enum TLSFiles {
    /// `localhost.crt` / `localhost.key`, `wildcard.crt` / `wildcard.key`, `other.key`.
    static let folder: String = {
        let folder = FileManager.default.temporaryDirectory
            .appendingPathComponent("kanaria-config-tls-\(UUID().uuidString)").standardizedFileURL.path
        try! FileManager.default.createDirectory(atPath: folder + "/certs", withIntermediateDirectories: true)
        let files = [("localhost.crt", localhostChain), ("localhost.key", localhostKey), ("other.key", otherKey),
                     ("wildcard.crt", wildcardChain), ("wildcard.key", wildcardKey), ("certs/localhost.crt", localhostChain),
                     ("certs/localhost.key", localhostKey)]
        for (name, text) in files {
            try! text.write(toFile: "\(folder)/\(name)", atomically: true, encoding: .utf8)
        }
        return folder
    }()

    /// The absolute path of `name` in `folder`.
    static func path(_ name: String) -> String { "\(folder)/\(name)" }

    static var localhostChain: String { TestCertificates.localhostChain }

    static var localhostKey: String { TestCertificates.localhostKey }

    static var otherKey: String { TestCertificates.otherKey }

    static var wildcardChain: String { TestCertificates.wildcardChain }

    static var wildcardKey: String { TestCertificates.wildcardKey }
}
