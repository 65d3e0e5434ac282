import KanariaHTTP
import KanariaRouting
import Testing

/// The hash a request gives under each consistent-hash key, read from real request bytes.
@Suite struct RequestHashKeyTests {
    func hash(_ key: ConsistentHashPolicy.Key, _ request: TestRequest, clientIP: String = "10.0.0.7") -> UInt64? {
        let ip = Array(clientIP.utf8)
        let policy = ConsistentHashPolicy(key: key)
        return ip.withUnsafeBytes { ip in request.withView { policy.hash(of: $0, clientIP: ip) } }
    }

    /// A header's value, found whatever its case; absent gives nil.
    @Test func header() throws {
        let request = try TestRequest(headers: [("X-User", "alice")])
        #expect(hash(.header("x-user"), request) == XXHash64.hash("alice"))
        #expect(hash(.header("x-other"), request) == nil)
    }

    /// A header sent twice hashes its values sorted and joined, so the order they came in does not matter.
    @Test func repeatedHeader() throws {
        let ab = try TestRequest(headers: [("x-user", "b"), ("x-user", "a")])
        let ba = try TestRequest(headers: [("x-user", "a"), ("x-user", "b")])
        #expect(hash(.header("x-user"), ab) == XXHash64.hash("ab"))
        #expect(hash(.header("x-user"), ba) == XXHash64.hash("ab"))
    }

    /// The named cookie among others, its quotes removed (so a generated cookie hashes as it was generated).
    @Test func cookie() throws {
        let key = ConsistentHashPolicy.Key.cookie(name: "user", path: "/", ttlSeconds: 3600)
        let request = try TestRequest(headers: [("Cookie", #"theme=dark; user="975c03acbb2c6ce3"; lang=en"#)])
        #expect(hash(key, request) == XXHash64.hash("975c03acbb2c6ce3"))
        #expect(hash(key, request) == CookieAffinity.hashKey(ofGenerated: 0x975C_03AC_BB2C_6CE3))
        #expect(hash(key, try TestRequest(headers: [("Cookie", "username=bob")])) == nil)
        #expect(hash(key, try TestRequest(headers: [("Cookie", "user; user=bob")])) == XXHash64.hash("bob"))
        #expect(hash(key, try TestRequest()) == nil)
    }

    /// The first value of the query parameter, as sent; a name alone is the empty value.
    @Test func queryParameter() throws {
        let key = ConsistentHashPolicy.Key.queryParameter("user")
        #expect(hash(key, try TestRequest("GET", "/sharks?x=1&user=bob&user=eve")) == XXHash64.hash("bob"))
        #expect(hash(key, try TestRequest("GET", "/sharks?user")) == XXHash64.hash(""))
        #expect(hash(key, try TestRequest("GET", "/sharks?username=bob")) == nil)
        #expect(hash(key, try TestRequest("GET", "/sharks")) == nil)
    }

    /// A policy with no key gives no hash (a draw stands in); changing the key changes the name read.
    @Test func noKeyAndChangedKey() throws {
        let request = try TestRequest(headers: [("x-a", "1"), ("x-b", "2")])
        var policy = ConsistentHashPolicy(key: nil)
        #expect(request.withView { policy.hash(of: $0, clientIP: UnsafeRawBufferPointer(start: nil, count: 0)) } == nil)
        policy.key = .header("x-b")
        #expect(request.withView { policy.hash(of: $0, clientIP: UnsafeRawBufferPointer(start: nil, count: 0)) } == XXHash64.hash("2"))
    }

    /// The client's IP address without its port.
    @Test func sourceIP() throws {
        #expect(hash(.sourceIP, try TestRequest(), clientIP: "10.0.0.7") == XXHash64.hash("10.0.0.7"))
    }
}
