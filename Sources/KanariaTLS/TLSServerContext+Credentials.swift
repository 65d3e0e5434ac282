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
        for intermediate in certificates.dropFirst() where kanaria_SSL_CTX_add0_chain_cert(context, intermediate) != 1 {
            X509_free(intermediate)
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
            throw failure(pemFailure(kind: "certificate", header: "CERTIFICATE"))
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
            throw TLSConfigurationError(source: .privateKey, file: path,
                                        message: pemFailure(kind: "private key", header: "PRIVATE KEY"))
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

    /// Why reading the first PEM block of `kind` failed, from the error queue (which this empties).
    private static func pemFailure(kind: String, header: String) -> String {
        let entries = OpenSSLErrors.drain()
        if let system = entries.first(where: \.isSystemError) {
            return "cannot read the \(kind): \(String(cString: strerror(system.reasonCode)))"
        }
        guard let first = entries.first else { return "no PEM \(kind) found" }
        if isEndOfPEM(first) {
            return "no PEM \(kind) found (expected a \"-----BEGIN \(header)-----\" block)"
        }
        return "the PEM \(kind) is malformed: \(first.reason)"
    }

    /// The error PEM reading ends with when no further block is there.
    private static func isEndOfPEM(_ entry: OpenSSLErrors.Entry) -> Bool {
        entry.library == ERR_LIB_PEM && entry.reasonCode == PEM_R_NO_START_LINE
    }
}
