import Foundation
import KanariaRouting
import Yams

/// `tls` to the upstream: DISABLE (the default mode) and SIMPLE. A `caCertificates` file is read at load time so
/// that a wrong path is reported on its line.
extension TrafficPolicyReader {
    func upstreamTLS(_ node: Node) -> UpstreamTLSSettings? {
        let modeNode = node.value("mode")
        switch modeNode?.text ?? "DISABLE" {
        case "SIMPLE":
            return simpleTLS(node)
        case "ISTIO_MUTUAL":
            report.warning(modeNode!.line, "tls mode ISTIO_MUTUAL uses the mesh's own certificates, which exist only inside an Istio mesh; Kanaria connects to this destination in plain text")
            return .disable
        case "MUTUAL":
            checkCredentialName(node)
            if node.value("credentialName") == nil {
                for field in ["clientCertificate", "privateKey"] where node.value(field)?.text?.isEmpty ?? true {
                    report.error(modeNode!.line, "tls mode MUTUAL requires \"\(field)\"", code: IstioCode.schema)
                }
            }
            report.warning(modeNode!.line, "tls mode MUTUAL (a client certificate) is not implemented yet (only DISABLE and SIMPLE); Kanaria connects to this destination in plain text")
            return .disable
        default:
            return .disable
        }
    }

    private func simpleTLS(_ node: Node) -> UpstreamTLSSettings? {
        var tls = SimpleUpstreamTLS()
        tls.sni = node.value("sni")?.text.flatMap { $0.isEmpty ? nil : $0 }
        tls.insecureSkipVerify = node.value("insecureSkipVerify")?.boolean ?? false
        tls.subjectAltNames = node.value("subjectAltNames")?.locatedStrings.map(\.value) ?? []
        checkCredentialName(node)
        if tls.insecureSkipVerify, let other = ["caCertificates", "credentialName", "subjectAltNames"].first(where: { node.value($0) != nil }) {
            report.error(node.keyLine("insecureSkipVerify"), "\(other) cannot be set when insecureSkipVerify is true, which verifies nothing",
                         code: IstioCode.schema)
            return nil
        }
        for field in ["clientCertificate", "privateKey"] {
            if let value = node.value(field) {
                report.warning(value.line, "\(field) is a client certificate setting of mode MUTUAL; mode SIMPLE sends none, so it is ignored")
            }
        }
        if let crl = node.value("caCrl") {
            report.warning(crl.line, "field \"caCrl\" is valid Istio but not implemented yet; it is ignored")
        }
        if node.value("credentialName")?.text.map({ !$0.isEmpty }) == true {
            return .simple(tls)  // the CA would come from the Secret: the system's CAs are used
        }
        if let ca = node.value("caCertificates"), let path = ca.text, !path.isEmpty {
            let resolved = DocumentReader.resolve(path, in: folder)
            guard let problem = Self.problem(withCAFile: resolved) else {
                tls.caCertificatesFile = resolved
                return .simple(tls)
            }
            let shown = path == resolved ? "\"\(path)\"" : "\"\(path)\" (\(resolved))"
            report.error(ca.line, "caCertificates \(shown): \(problem)")
            return nil
        }
        return .simple(tls)
    }

    /// Istio's rule for `credentialName` (the files come from the Secret, so none may be named beside it) and a
    /// warning that Kanaria cannot read Secrets.
    private func checkCredentialName(_ node: Node) {
        guard let credential = node.value("credentialName"), let name = credential.text, !name.isEmpty else { return }
        if ["clientCertificate", "privateKey", "caCertificates", "caCrl"].contains(where: { node.value($0) != nil }) {
            report.error(credential.line, "clientCertificate, privateKey, caCertificates and caCrl cannot be set together with credentialName",
                         code: IstioCode.schema)
        }
        report.warning(credential.line, "credentialName \"\(name)\" names a Kubernetes Secret, which Kanaria cannot read (it runs without a cluster); give the CA as a PEM file with \"caCertificates\"")
    }

    /// Why the PEM file at `path` cannot serve as a CA bundle, or nil when it holds at least one certificate.
    static func problem(withCAFile path: String) -> String? {
        guard let data = FileManager.default.contents(atPath: path) else {
            return FileManager.default.fileExists(atPath: path) ? "cannot read the file" : "no such file"
        }
        let text = String(decoding: data, as: UTF8.self)
        guard text.contains("-----BEGIN CERTIFICATE-----") && text.contains("-----END CERTIFICATE-----") else {
            return "no PEM certificate (-----BEGIN CERTIFICATE-----) in the file"
        }
        return nil
    }
}
