import Foundation
import KanariaRouting
import KanariaTLS
import Yams

/// A Gateway server's `tls` (Istio's ServerTLSSettings), validated as Istio validates it and then as far as
/// Kanaria serves it: mode SIMPLE on HTTPS servers, with certificate and key files that are loaded to check them,
/// and `httpsRedirect` on plain-text ones.
extension DocumentReader {
    /// The `tls` modes that verify no client certificate and terminate TLS here.
    static let servedTLSModes = ["SIMPLE"]

    /// Reads the `tls` of a server whose protocol Kanaria serves into `server`; clears `server.serving` when the
    /// server cannot be served (no certificate, a mode not implemented yet).
    static func serverTLS(_ node: Node, _ server: inout GatewayServerSpec, _ header: ResourceHeader, _ report: Reporter) {
        let tls = node.value("tls")
        let tlsLine = node.keyLine("tls")
        if server.serving?.usesTLS == true {
            guard let tls else {
                report.error(server.protocolLine, "a server with protocol \(server.protocolName) needs \"tls\" settings: mode SIMPLE with serverCertificate and privateKey",
                             code: IstioCode.schema)
                server.serving = nil
                return
            }
            if !terminatingTLS(tls, tlsLine: tlsLine, &server, header, report) { server.serving = nil }
        } else if let tls {
            plainTextTLS(tls, tlsLine: tlsLine, &server, report)
        }
    }

    /// An HTTP, HTTP2 or GRPC server's `tls`: Istio allows only `httpsRedirect` there (and a passthrough mode,
    /// its default, which changes nothing on a plain-text port).
    private static func plainTextTLS(_ tls: Node, tlsLine: Int, _ server: inout GatewayServerSpec, _ report: Reporter) {
        // Istio's validation: "server cannot have TLS settings for plain text HTTP ports".
        let mode = tls.value("mode")
        let terminates = mode?.text.map { !["PASSTHROUGH", "AUTO_PASSTHROUGH"].contains($0) } ?? false
        let file = ["serverCertificate", "privateKey", "caCertificates"].first { tls.value($0) != nil }
        if let line = terminates ? mode?.line : file.map(tls.keyLine) {
            report.error(line, "protocol \(server.protocolName) is plain text, so its \"tls\" can only set httpsRedirect; use protocol HTTPS to terminate TLS",
                         code: IstioCode.schema)
        }
        if let redirect = tls.value("httpsRedirect")?.boolean {
            server.httpsRedirect = redirect
            server.httpsRedirectLine = tls.keyLine("httpsRedirect")
        }
    }

    /// An HTTPS server's `tls`; false when the server cannot be served.
    private static func terminatingTLS(_ tls: Node, tlsLine: Int, _ server: inout GatewayServerSpec,
                                       _ header: ResourceHeader, _ report: Reporter) -> Bool {
        if tls.value("httpsRedirect")?.boolean == true {
            report.warning(tls.keyLine("httpsRedirect"), "tls.httpsRedirect only applies to plain-text HTTP servers; it is ignored")
        }
        if let mode = tls.value("mode") {
            guard let name = mode.text, Schema.serverTLSModes.contains(name) else { return false }  // a schema error
            guard servedTLSModes.contains(name) else {
                report.warning(mode.line, "tls mode \(name) is not implemented yet (only SIMPLE for now); this server is ignored")
                return false
            }
        } else {
            report.warning(tlsLine, "tls has no \"mode\", which Istio reads as PASSTHROUGH: not implemented yet (only SIMPLE for now); this server is ignored (set mode: SIMPLE to terminate TLS with serverCertificate and privateKey)")
            return false
        }
        warnAboutSettingsWithoutEffect(tls, report)
        guard let files = certificateFiles(tls, tlsLine: tlsLine, header, report) else { return false }
        server.certificate = files
        return true
    }

    /// Mode SIMPLE's certificate and key, resolved against the YAML file's folder and checked by loading them; nil
    /// (with an error) when they are missing or cannot be used.
    private static func certificateFiles(_ tls: Node, tlsLine: Int, _ header: ResourceHeader, _ report: Reporter) -> ServerCertificateFiles? {
        let certificateNode = tls.value("serverCertificate"), keyNode = tls.value("privateKey")
        let credential = credentialName(tls)
        guard let certificateNode, let certificate = certificateNode.path, let keyNode, let key = keyNode.path else {
            if let credential {
                report.error(credential.line, "credentialName \"\(credential.name)\" names a Kubernetes Secret, which Kanaria cannot read (it runs without a cluster); give the certificate and key as PEM files with \"serverCertificate\" and \"privateKey\"")
                return nil
            }
            if certificateNode?.path == nil {
                report.error(tlsLine, "tls mode SIMPLE requires \"serverCertificate\", the PEM certificate chain file", code: IstioCode.schema)
            }
            if keyNode?.path == nil {
                report.error(tlsLine, "tls mode SIMPLE requires \"privateKey\", the PEM private key file", code: IstioCode.schema)
            }
            return nil
        }
        if let credential {
            report.warning(credential.line, "credentialName \"\(credential.name)\" names a Kubernetes Secret, which Kanaria cannot read; the serverCertificate and privateKey files are used instead")
        }
        let folder = URL(fileURLWithPath: header.file).deletingLastPathComponent()
        let files = ServerCertificateFiles(serverCertificate: resolve(certificate, in: folder), privateKey: resolve(key, in: folder))
        do {
            _ = try TLSServerContext(certificateChainFile: files.serverCertificate, privateKeyFile: files.privateKey)
        } catch {
            let isKey = error.source == .privateKey
            let written = isKey ? key : certificate
            let shown = written == error.file ? "\"\(written)\"" : "\"\(written)\" (\(error.file))"
            report.error(isKey ? keyNode.line : certificateNode.line, "\(isKey ? "privateKey" : "serverCertificate") \(shown): \(error.message)")
            return nil
        }
        return files
    }

    /// `credentialName`, or the first of `credentialNames`, with its line.
    private static func credentialName(_ tls: Node) -> (name: String, line: Int)? {
        if let node = tls.value("credentialName"), let name = node.path { return (name, node.line) }
        if let node = tls.value("credentialNames")?.items.first, let name = node.path { return (name, node.line) }
        return nil
    }

    /// A file path from the configuration as Kanaria opens it: an absolute path as written; a relative one
    /// against `folder`, the folder of the YAML file that names it. (In Istio these are paths inside the gateway
    /// pod, where relative paths have no useful meaning.)
    static func resolve(_ path: String, in folder: URL) -> String {
        if path.hasPrefix("/") { return path }
        return URL(fileURLWithPath: path, relativeTo: folder).standardizedFileURL.path
    }

    /// Warns about the settings of a SIMPLE server that change nothing here: those Kanaria does not implement
    /// yet, and those that only check client certificates (MUTUAL's), which Istio ignores in SIMPLE mode too.
    private static func warnAboutSettingsWithoutEffect(_ tls: Node, _ report: Reporter) {
        for entry in tls.entries where !entry.value.isNull {
            let version = entry.value.text.flatMap { Schema.tlsVersions.contains($0) ? $0 : nil }
            switch entry.key {
            case "cipherSuites":
                report.warning(entry.keyLine, "field \"cipherSuites\" is valid Istio but not implemented yet; it is ignored (Kanaria offers Istio's default cipher suites)")
            case "tlsCertificates":
                report.warning(entry.keyLine, "field \"tlsCertificates\" is valid Istio but not implemented yet; it is ignored")
            case "minProtocolVersion" where version != nil && !["TLS_AUTO", "TLSV1_2"].contains(version!),
                 "maxProtocolVersion" where version != nil && !["TLS_AUTO", "TLSV1_3"].contains(version!):
                report.warning(entry.keyLine, "\(entry.key) \(version!) is not implemented yet: Kanaria serves TLS 1.2 and 1.3; it is ignored")
            case "caCertificates", "caCertCredentialName", "subjectAltNames", "verifyCertificateSpki", "verifyCertificateHash":
                report.warning(entry.keyLine, "field \"\(entry.key)\" checks client certificates, which mode SIMPLE does not ask for; it is ignored, as Istio ignores it")
            case "caCrl":
                report.error(entry.keyLine, "field \"caCrl\" cannot be used with tls mode SIMPLE, which checks no client certificate", code: IstioCode.schema)
            default:
                break
            }
        }
    }
}

private extension Node {
    /// A non-empty string: Istio treats an empty path or name as unset.
    var path: String? {
        guard let text, !text.isEmpty else { return nil }
        return text
    }
}
