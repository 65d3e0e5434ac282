import Foundation

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

    static let localhostChain = """
    -----BEGIN CERTIFICATE-----
    MIIB2DCCAX6gAwIBAgICEAIwCgYIKoZIzj0EAwIwPzElMCMGA1UEAwwcS2FuYXJp
    YSB0ZXN0IGludGVybWVkaWF0ZSBDQTEWMBQGA1UECgwNS2FuYXJpYSB0ZXN0czAg
    Fw0yNTAxMDEwMDAwMDBaGA8yMTI1MDEwMTAwMDAwMFowFDESMBAGA1UEAwwJbG9j
    YWxob3N0MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAExlIL9BdurvJeo62RCcwZ
    bi2sjno7kDIW5+3IaTYpy/qu75dMr7TvBxuLi1XM2HePUu90s+ir38wt/HSoAnq5
    bKOBkjCBjzAMBgNVHRMBAf8EAjAAMA4GA1UdDwEB/wQEAwIHgDATBgNVHSUEDDAK
    BggrBgEFBQcDATAaBgNVHREEEzARgglsb2NhbGhvc3SHBH8AAAEwHQYDVR0OBBYE
    FBUlroGuD0WtXMMi4qSdtoNMYVUqMB8GA1UdIwQYMBaAFFVE8ExNnAcFqeCPinrP
    iHb1nT2NMAoGCCqGSM49BAMCA0gAMEUCIQCK2Eeb1RS+pMN0Ysr1TI2ADWpK4NxR
    2ZzRuBfXD0qZIAIgTK/57I3ZJOwWcEN4O4Xc3Dsxjv3VrmWK60wKcLGFXv4=
    -----END CERTIFICATE-----
    -----BEGIN CERTIFICATE-----
    MIIBzzCCAXSgAwIBAgICEAEwCgYIKoZIzj0EAwIwNzEdMBsGA1UEAwwUS2FuYXJp
    YSB0ZXN0IHJvb3QgQ0ExFjAUBgNVBAoMDUthbmFyaWEgdGVzdHMwIBcNMjUwMTAx
    MDAwMDAwWhgPMjEyNTAxMDEwMDAwMDBaMD8xJTAjBgNVBAMMHEthbmFyaWEgdGVz
    dCBpbnRlcm1lZGlhdGUgQ0ExFjAUBgNVBAoMDUthbmFyaWEgdGVzdHMwWTATBgcq
    hkjOPQIBBggqhkjOPQMBBwNCAAQkYF71TWW+3MGmQtjG/yT53rzRhqYcNrScyIHx
    VsytEuxSmLNp5WmC5TBcpCNpnHk2n6hjSDXo7wOUNxtfpITvo2YwZDASBgNVHRMB
    Af8ECDAGAQH/AgEAMA4GA1UdDwEB/wQEAwIBBjAdBgNVHQ4EFgQUVUTwTE2cBwWp
    4I+Kes+IdvWdPY0wHwYDVR0jBBgwFoAUkByCwNuvkJ8InoN/gMIvlyuJa2swCgYI
    KoZIzj0EAwIDSQAwRgIhAILq+h53uhWUgZjrCNBaPHPN+XlVZLvf/xNNKV503PZp
    AiEA5VmruqiIYBhbUelpHyP22QXx/I5LewDEmlhT89OZQ+U=
    -----END CERTIFICATE-----
    """

    static let localhostKey = """
    -----BEGIN PRIVATE KEY-----
    MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgyVWcB249SuglIlDf
    BLJgvgZiargZ7P7IJTP9PkECLvKhRANCAATGUgv0F26u8l6jrZEJzBluLayOejuQ
    Mhbn7chpNinL+q7vl0yvtO8HG4uLVczYd49S73Sz6KvfzC38dKgCerls
    -----END PRIVATE KEY-----
    """

    static let otherKey = """
    -----BEGIN PRIVATE KEY-----
    MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg9Al8RwfU2adoFL17
    VhqLgVM8LlIgYuRArfyvNe9OS0uhRANCAAQ0wNGfNyDB/khDmgiDhPybuMc7BRlb
    DzAakebOVArVXa7nOaCN1wQQveQrjl7FaSzlwlSj1x9n8pGM1SGcADxa
    -----END PRIVATE KEY-----
    """

    static let wildcardChain = """
    -----BEGIN CERTIFICATE-----
    MIIB3DCCAYKgAwIBAgICEAMwCgYIKoZIzj0EAwIwPzElMCMGA1UEAwwcS2FuYXJp
    YSB0ZXN0IGludGVybWVkaWF0ZSBDQTEWMBQGA1UECgwNS2FuYXJpYSB0ZXN0czAg
    Fw0yNTAxMDEwMDAwMDBaGA8yMTI1MDEwMTAwMDAwMFowGTEXMBUGA1UEAwwOKi5l
    eGFtcGxlLnRlc3QwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAARpRQAyzraU4iuC
    jjnxJ2xJJTrLNeQtAzzO5gQMC+GuPe+GVsCYzZibfBDBRot3ADz9aqDb3oGXALA0
    YkFVS6Hto4GRMIGOMAwGA1UdEwEB/wQCMAAwDgYDVR0PAQH/BAQDAgeAMBMGA1Ud
    JQQMMAoGCCsGAQUFBwMBMBkGA1UdEQQSMBCCDiouZXhhbXBsZS50ZXN0MB0GA1Ud
    DgQWBBQybsXHbkavKinyb6TMD6nACMGR3DAfBgNVHSMEGDAWgBRVRPBMTZwHBang
    j4p6z4h29Z09jTAKBggqhkjOPQQDAgNIADBFAiEAk1DI2xcZs1JN2xWf27KwxMxT
    GjzNCDSD+/KJMW4GmNACIFCKqBpgbHsSTQiCzY+1+/E+pAfCRqFt9a5WU9e7M532
    -----END CERTIFICATE-----
    -----BEGIN CERTIFICATE-----
    MIIBzzCCAXSgAwIBAgICEAEwCgYIKoZIzj0EAwIwNzEdMBsGA1UEAwwUS2FuYXJp
    YSB0ZXN0IHJvb3QgQ0ExFjAUBgNVBAoMDUthbmFyaWEgdGVzdHMwIBcNMjUwMTAx
    MDAwMDAwWhgPMjEyNTAxMDEwMDAwMDBaMD8xJTAjBgNVBAMMHEthbmFyaWEgdGVz
    dCBpbnRlcm1lZGlhdGUgQ0ExFjAUBgNVBAoMDUthbmFyaWEgdGVzdHMwWTATBgcq
    hkjOPQIBBggqhkjOPQMBBwNCAAQkYF71TWW+3MGmQtjG/yT53rzRhqYcNrScyIHx
    VsytEuxSmLNp5WmC5TBcpCNpnHk2n6hjSDXo7wOUNxtfpITvo2YwZDASBgNVHRMB
    Af8ECDAGAQH/AgEAMA4GA1UdDwEB/wQEAwIBBjAdBgNVHQ4EFgQUVUTwTE2cBwWp
    4I+Kes+IdvWdPY0wHwYDVR0jBBgwFoAUkByCwNuvkJ8InoN/gMIvlyuJa2swCgYI
    KoZIzj0EAwIDSQAwRgIhAILq+h53uhWUgZjrCNBaPHPN+XlVZLvf/xNNKV503PZp
    AiEA5VmruqiIYBhbUelpHyP22QXx/I5LewDEmlhT89OZQ+U=
    -----END CERTIFICATE-----
    """

    static let wildcardKey = """
    -----BEGIN PRIVATE KEY-----
    MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgg83WZFqj2Ghv45Iy
    LaZ5N230XW9q2vgUk44xRS3+OB2hRANCAARpRQAyzraU4iuCjjnxJ2xJJTrLNeQt
    AzzO5gQMC+GuPe+GVsCYzZibfBDBRot3ADz9aqDb3oGXALA0YkFVS6Ht
    -----END PRIVATE KEY-----
    """
}
