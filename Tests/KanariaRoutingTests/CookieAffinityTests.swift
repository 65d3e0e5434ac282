import KanariaRouting
import Testing

/// The cookie Envoy generates for a request without the sticky-session cookie.
@Suite struct CookieAffinityTests {
    let addresses = Array("10.0.0.7:51234".utf8) + Array("10.0.0.1:80".utf8)

    /// The value is xxHash64 of client then proxy address (`xxhsum -H1` gives 975c03acbb2c6ce3).
    @Test func valueHashesTheConnectionAddresses() {
        let value = addresses.withUnsafeBytes { CookieAffinity.generatedValue(connectionAddresses: $0) }
        #expect(value == 0x975C_03AC_BB2C_6CE3)
        var hex: [UInt8] = []
        CookieAffinity.appendHex(value, to: &hex)
        #expect(String(decoding: hex, as: UTF8.self) == "975c03acbb2c6ce3")
        CookieAffinity.appendHex(0xAB, to: &hex)
        #expect(String(decoding: hex.suffix(16), as: UTF8.self) == "00000000000000ab")
    }

    /// The request is hashed by the hex text, as the next request carrying the cookie will be.
    @Test func hashKeyIsTheHashOfTheCookieText() {
        #expect(CookieAffinity.hashKey(ofGenerated: 0x975C_03AC_BB2C_6CE3) == XXHash64.hash("975c03acbb2c6ce3"))
        #expect(CookieAffinity.hashKey(ofGenerated: 0x975C_03AC_BB2C_6CE3) == 0x09A3_0746_BE1E_96CB)
    }

    /// `name="value"; Max-Age=ttl; Path=path; HttpOnly`; a zero ttl makes a session cookie, no path no Path.
    @Test func setCookieBytes() {
        var buffer: [UInt8] = []
        CookieAffinity.appendSetCookie(name: "user", value: 0x975C_03AC_BB2C_6CE3, path: "/", ttlSeconds: 3600, to: &buffer)
        #expect(String(decoding: buffer, as: UTF8.self) == #"user="975c03acbb2c6ce3"; Max-Age=3600; Path=/; HttpOnly"#)
        buffer.removeAll()
        CookieAffinity.appendSetCookie(name: "s", value: 1, path: nil, ttlSeconds: 0, to: &buffer)
        #expect(String(decoding: buffer, as: UTF8.self) == #"s="0000000000000001"; HttpOnly"#)
    }
}
