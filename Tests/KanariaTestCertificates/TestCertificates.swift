/// Test certificates and keys (ECDSA P-256), valid from 2025-01-01 to 2125-01-01: a root CA, an intermediate CA, and
/// a leaf for CN=localhost with SAN DNS:localhost and IP:127.0.0.1, signed by the intermediate. A client that trusts
/// only the root verifies the server only if the server sends the intermediate too. Made once with the openssl CLI:
///
///     openssl ca -selfsign … -extensions root_ext  -startdate 20250101000000Z -enddate 21250101000000Z  (root)
///     openssl ca -cert root.crt … -extensions inter_ext (CA:TRUE, pathlen:0)                         (intermediate)
///     openssl ca -cert inter.crt … -extensions leaf_ext (serverAuth, SAN localhost, 127.0.0.1)          (leaf)
///     openssl ca -cert inter.crt … -extensions wild_ext (serverAuth, SAN *.example.test)                (wildcard)
///     openssl pkey -in localhost.key -aes256 -passout pass:secret                                   (encrypted key)
public enum TestCertificates {
    public static let rootCA = """
    -----BEGIN CERTIFICATE-----
    MIIBojCCAUigAwIBAgICEAAwCgYIKoZIzj0EAwIwNzEdMBsGA1UEAwwUS2FuYXJp
    YSB0ZXN0IHJvb3QgQ0ExFjAUBgNVBAoMDUthbmFyaWEgdGVzdHMwIBcNMjUwMTAx
    MDAwMDAwWhgPMjEyNTAxMDEwMDAwMDBaMDcxHTAbBgNVBAMMFEthbmFyaWEgdGVz
    dCByb290IENBMRYwFAYDVQQKDA1LYW5hcmlhIHRlc3RzMFkwEwYHKoZIzj0CAQYI
    KoZIzj0DAQcDQgAEzHGFs5Vaq2u2JihG9cuYKzwtNs2x5MfbVCmzfiSQwc0Dmph/
    C0iqGcEakj0+qSp1Cu7IlixbNtNSeZtK/mgWq6NCMEAwDwYDVR0TAQH/BAUwAwEB
    /zAOBgNVHQ8BAf8EBAMCAQYwHQYDVR0OBBYEFJAcgsDbr5CfCJ6Df4DCL5criWtr
    MAoGCCqGSM49BAMCA0gAMEUCIQCldFTn5FLBvznWE877IYx5KcYD3US5cQQQBiKS
    TPgsRQIgHDG2YbYgt6oDEuhg91o6C0rIsaAhEd2WPytEKI2UU7c=
    -----END CERTIFICATE-----
    """

    /// The leaf, then the intermediate.
    public static let localhostChain = """
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

    public static let localhostKey = """
    -----BEGIN PRIVATE KEY-----
    MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgyVWcB249SuglIlDf
    BLJgvgZiargZ7P7IJTP9PkECLvKhRANCAATGUgv0F26u8l6jrZEJzBluLayOejuQ
    Mhbn7chpNinL+q7vl0yvtO8HG4uLVczYd49S73Sz6KvfzC38dKgCerls
    -----END PRIVATE KEY-----
    """

    /// A key that belongs to no certificate here.
    public static let otherKey = """
    -----BEGIN PRIVATE KEY-----
    MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg9Al8RwfU2adoFL17
    VhqLgVM8LlIgYuRArfyvNe9OS0uhRANCAAQ0wNGfNyDB/khDmgiDhPybuMc7BRlb
    DzAakebOVArVXa7nOaCN1wQQveQrjl7FaSzlwlSj1x9n8pGM1SGcADxa
    -----END PRIVATE KEY-----
    """

    /// `localhostKey`, encrypted with the password "secret".
    public static let localhostEncryptedKey = """
    -----BEGIN ENCRYPTED PRIVATE KEY-----
    MIHsMFcGCSqGSIb3DQEFDTBKMCkGCSqGSIb3DQEFDDAcBAj7jlKAYjVw+gICCAAw
    DAYIKoZIhvcNAgkFADAdBglghkgBZQMEASoEEMhbokVjUxDZuD19ae35BrgEgZC7
    rhHQa/vtWccC28qF0U3w+9nJ4tC795pOFqTMj5AYhwF3Lr3NEfHv9YWapfudPeHn
    G5CVQLpOGI5Ce8Fl7NruZGcxVP2Eh0phwm4fD3LMUuqUXcVodgdJMJeM/1zwRgBt
    UFd1WI55A49Wj+nCNB7DOnGctzGV5VbONrkuAmttOKja9sl1rDRnwD9QQcYzoO0=
    -----END ENCRYPTED PRIVATE KEY-----
    """

    /// A leaf for `*.example.test`, signed by the same intermediate, then the intermediate.
    public static let wildcardChain = """
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

    /// The key of `wildcardChain`.
    public static let wildcardKey = """
    -----BEGIN PRIVATE KEY-----
    MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgg83WZFqj2Ghv45Iy
    LaZ5N230XW9q2vgUk44xRS3+OB2hRANCAARpRQAyzraU4iuCjjnxJ2xJJTrLNeQt
    AzzO5gQMC+GuPe+GVsCYzZibfBDBRot3ADz9aqDb3oGXALA0YkFVS6Ht
    -----END PRIVATE KEY-----
    """
}
