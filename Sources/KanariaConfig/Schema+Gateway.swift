/// Istio's `Gateway`, field for field from the API reference.
extension Schema {
    /// The protocols Istio accepts on a port (matched case-insensitively, as Istio parses them).
    static let protocols = ["HTTP", "HTTPS", "GRPC", "GRPC-WEB", "HTTP2", "MONGO", "REDIS", "MYSQL", "TCP", "TLS"]

    static let gatewaySpec: Shape = .object([
        "servers": .honoured(.list(server), required: true),
        // The gateway workloads this Gateway configures: Kanaria is that gateway, whatever the labels say.
        "selector": .accepted(.labels),
    ])

    static let server: Shape = .object([
        "port": .honoured(.object([
            "number": .honoured(.integer, required: true),
            "protocol": .honoured(.oneOf(protocols, ignoringCase: true), required: true),
            "name": .honoured(.string, required: true),
            "targetPort": .unimplemented(.integer),
        ]), required: true),
        "bind": .unimplemented(.string),
        "hosts": .honoured(.strings, required: true),
        "tls": .honoured(serverTLSSettings),
        "defaultEndpoint": .unimplemented(.string),
        // Only names the server in Istio's own status and stats.
        "name": .accepted(.string),
    ])

    static let serverTLSModes = ["PASSTHROUGH", "SIMPLE", "MUTUAL", "AUTO_PASSTHROUGH", "ISTIO_MUTUAL", "OPTIONAL_MUTUAL"]
    static let tlsVersions = ["TLS_AUTO", "TLSV1_0", "TLSV1_1", "TLSV1_2", "TLSV1_3"]

    /// Read by `DocumentReader.serverTLS`, which warns about the fields that change nothing yet only when the
    /// server is served (a server skipped for its mode gets one warning, not one per field).
    static let serverTLSSettings: Shape = .object([
        "httpsRedirect": .honoured(.boolean),
        "mode": .honoured(.oneOf(serverTLSModes)),
        "serverCertificate": .honoured(.string),
        "privateKey": .honoured(.string),
        "caCertificates": .accepted(.string),
        "caCertCredentialName": .accepted(.string),
        "caCrl": .accepted(.string),
        "credentialName": .accepted(.string),
        "credentialNames": .accepted(.strings),
        "tlsCertificates": .accepted(.list(.object([
            "serverCertificate": .accepted(.string),
            "privateKey": .accepted(.string),
            "caCertificates": .accepted(.string),
        ]))),
        "subjectAltNames": .accepted(.strings),
        "verifyCertificateSpki": .accepted(.strings),
        "verifyCertificateHash": .accepted(.strings),
        "minProtocolVersion": .accepted(.oneOf(tlsVersions)),
        "maxProtocolVersion": .accepted(.oneOf(tlsVersions)),
        "cipherSuites": .accepted(.strings),
    ])
}
