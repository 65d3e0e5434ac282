import COpenSSL

extension TLSServerContext {
    /// Installs the leaf certificate, its chain and the private key, checking that the key is the certificate's.
    func loadCredentials(certificateChainFile: String, privateKeyFile: String) throws(TLSConfigurationError) {
        let certificates = try Self.readCertificates(certificateChainFile)
        guard SSL_CTX_use_certificate(context, certificates[0]) == 1 else {
            certificates.forEach { X509_free($0) }
            let reason = OpenSSLErrors.drainReason(fallback: "unknown reason")
            throw TLSConfigurationError(source: .certificateChain, file: certificateChainFile,
                                        message: "OpenSSL refuses the certificate: \(reason)")
        }
        X509_free(certificates[0])
        for index in certificates.indices.dropFirst() where kanaria_SSL_CTX_add0_chain_cert(context, certificates[index]) != 1 {
            certificates[index...].forEach { X509_free($0) }
            let reason = OpenSSLErrors.drainReason(fallback: "unknown reason")
            throw TLSConfigurationError(source: .certificateChain, file: certificateChainFile,
                                        message: "OpenSSL refuses an intermediate certificate: \(reason)")
        }

        let key = try Self.readPrivateKey(privateKeyFile)
        defer { EVP_PKEY_free(key) }
        guard SSL_CTX_use_PrivateKey(context, key) == 1, SSL_CTX_check_private_key(context) == 1 else {
            _ = OpenSSLErrors.drain()
            throw TLSConfigurationError(source: .privateKey, file: privateKeyFile,
                                        message: "the private key does not match the certificate in \(certificateChainFile)")
        }
    }

    /// The PEM certificates in `path`, leaf first; at least one.
    static func readCertificates(_ path: String) throws(TLSConfigurationError) -> [OpaquePointer] {
        func failure(_ message: String) -> TLSConfigurationError {
            TLSConfigurationError(source: .certificateChain, file: path, message: message)
        }
        let bio = try openFile(path, what: "the certificate chain", source: .certificateChain)
        defer { BIO_free(bio) }
        guard let leaf = PEM_read_bio_X509_AUX(bio, nil, nil, nil) else {
            throw failure(pemFailure(path, kind: "certificate", header: "CERTIFICATE") { $0.hasSuffix("CERTIFICATE") })
        }
        var certificates = [leaf]
        while let next = PEM_read_bio_X509(bio, nil, nil, nil) { certificates.append(next) }
        let entries = OpenSSLErrors.drain()
        if let first = entries.first, !isEndOfPEM(first) {
            certificates.forEach { X509_free($0) }
            throw failure("certificate \(certificates.count + 1) in the chain is malformed: \(first.reason)")
        }
        return certificates
    }

    /// The unencrypted PEM private key in `path`.
    static func readPrivateKey(_ path: String) throws(TLSConfigurationError) -> OpaquePointer {
        let bio = try openFile(path, what: "the private key", source: .privateKey)
        defer { BIO_free(bio) }
        var asked = false
        let key = withUnsafeMutablePointer(to: &asked) { asked in
            PEM_read_bio_PrivateKey(bio, nil, refusePassword, asked)
        }
        guard let key else {
            if asked {
                _ = OpenSSLErrors.drain()
                throw TLSConfigurationError(source: .privateKey, file: path,
                                            message: "the private key is encrypted; Kanaria needs it unencrypted, as Istio does")
            }
            throw TLSConfigurationError(source: .privateKey, file: path, message: pemFailure(
                path, kind: "private key", header: "PRIVATE KEY") { $0.hasSuffix("PRIVATE KEY") })
        }
        _ = OpenSSLErrors.drain()
        return key
    }

    /// The password callback for encrypted keys: notes that a password was asked for, and gives none.
    private static let refusePassword: @convention(c) (UnsafeMutablePointer<CChar>?, Int32, Int32, UnsafeMutableRawPointer?) -> Int32 = {
        _, _, _, asked in
        asked?.assumingMemoryBound(to: Bool.self).pointee = true
        return -1
    }

    private static func openFile(_ path: String, what: String, source: TLSConfigurationError.Source) throws(TLSConfigurationError) -> OpaquePointer {
        guard let bio = BIO_new_file(path, "r") else {
            let entries = OpenSSLErrors.drain()
            let cause = entries.first(where: \.isSystemError).map { String(cString: strerror($0.reasonCode)) }
                ?? entries.first?.reason ?? "unknown reason"
            throw TLSConfigurationError(source: source, file: path, message: "cannot open \(what): \(cause)")
        }
        return bio
    }

    /// Why reading the first PEM block of `kind` from `path` failed: the file cannot be read (a directory), it holds
    /// no block that `isKind` accepts (naming the blocks it does hold), or that block is malformed. Empties the
    /// error queue; reads the file again, which only a configuration mistake costs.
    private static func pemFailure(_ path: String, kind: String, header: String, isKind: (String) -> Bool) -> String {
        let reason = OpenSSLErrors.drainReason(fallback: "unknown reason")
        guard let bio = BIO_new_file(path, "r") else { return "cannot read the \(kind): \(reason)" }
        defer { BIO_free(bio) }
        var probe: UInt8 = 0
        if BIO_read(bio, &probe, 1) < 0 {
            let cause = OpenSSLErrors.drain().first(where: \.isSystemError).map { String(cString: strerror($0.reasonCode)) }
            return "cannot read the \(kind): \(cause ?? reason)"
        }
        _ = BIO_ctrl(bio, BIO_CTRL_RESET, 0, nil)  // BIO_reset, a macro: back to the start of the file
        let (names, damage) = pemBlockNames(bio)
        if names.contains(where: isKind) { return "the PEM \(kind) is malformed: \(reason)" }
        if let damage { return "the PEM \(kind) is malformed: \(damage)" }
        let expected = "no PEM \(kind) found (expected a \"-----BEGIN \(header)-----\" block"
        guard !names.isEmpty else { return expected + ")" }
        return expected + "; the file holds " + names.map { "\"\($0)\"" }.joined(separator: ", ") + ")"
    }

    /// The names of the PEM blocks readable from `bio` ("CERTIFICATE", "PRIVATE KEY"), each once, in order, and
    /// why a block could not be read, if one could not ("bad base64 decode").
    private static func pemBlockNames(_ bio: OpaquePointer) -> (names: [String], damage: String?) {
        var names: [String] = []
        while true {
            var name: UnsafeMutablePointer<CChar>?
            var header: UnsafeMutablePointer<CChar>?
            var data: UnsafeMutablePointer<UInt8>?
            var length = 0
            guard PEM_read_bio(bio, &name, &header, &data, &length) == 1 else { break }
            if let name {
                let text = String(cString: name)
                if !names.contains(text) { names.append(text) }
            }
            CRYPTO_free(name, nil, 0)
            CRYPTO_free(header, nil, 0)
            CRYPTO_free(data, nil, 0)
        }
        let end = OpenSSLErrors.drain().first
        return (names, end.flatMap { isEndOfPEM($0) ? nil : $0.reason })
    }

    /// The error PEM reading ends with when no further block is there.
    private static func isEndOfPEM(_ entry: OpenSSLErrors.Entry) -> Bool {
        entry.library == ERR_LIB_PEM && entry.reasonCode == PEM_R_NO_START_LINE
    }
}
