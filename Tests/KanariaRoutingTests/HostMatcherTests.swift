import KanariaHTTP
import KanariaRouting
import Testing

@Suite("Virtual host selection")
struct HostMatcherTests {
    /// Virtual hosts declared catch-all first, so that precedence, not order, decides.
    static let matcher = HostMatcher([
        VirtualHost(domains: ["*"], routes: []),                     // 0
        VirtualHost(domains: ["*.example.com"], routes: []),         // 1
        VirtualHost(domains: ["api.example.com"], routes: []),       // 2
        VirtualHost(domains: ["*.api.example.com"], routes: []),     // 3
        VirtualHost(domains: ["Shop.Example.COM", "[::1]", "10.0.0.1"], routes: []),  // 4
    ])

    /// An exact name beats the longest matching `*.suffix`, which beats `*`.
    @Test(arguments: [
        ("api.example.com", 2),
        ("www.example.com", 1),
        ("v1.api.example.com", 3),
        ("a.b.api.example.com", 3),
        ("deep.www.example.com", 1),
        ("example.com", 0),
        ("other.org", 0),
        ("shop.example.com", 4),
        ("xapi.example.com", 1),
    ])
    func exactThenLongestSuffixThenCatchAll(authority: String, host: Int) {
        #expect(Self.matcher.match(authority) == host)
    }

    /// The port is ignored, for names, IPv4 and bracketed IPv6 literals.
    @Test(arguments: [
        ("api.example.com:8080", 2), ("www.example.com:443", 1), ("[::1]:15000", 4), ("[::1]", 4),
        ("10.0.0.1:80", 4), ("example.com:80", 0), ("api.example.com:", 2),
    ])
    func ignoresThePort(authority: String, host: Int) {
        #expect(Self.matcher.match(authority) == host)
    }

    /// Names compare case-insensitively on both sides.
    @Test(arguments: [("API.EXAMPLE.COM", 2), ("Www.Example.Com", 1), ("shop.example.com", 4), ("SHOP.EXAMPLE.COM:1", 4)])
    func ignoresCase(authority: String, host: Int) {
        #expect(Self.matcher.match(authority) == host)
    }

    /// A wildcard needs at least one character in place of its `*`: `*.example.com` does not serve `example.com`.
    @Test func wildcardDoesNotMatchTheBareSuffix() {
        let matcher = HostMatcher([VirtualHost(domains: ["*.example.com"], routes: [])])
        #expect(matcher.match("example.com") == nil)
        #expect(matcher.match(".example.com") == nil)
        #expect(matcher.match("a.example.com") == 0)
    }

    /// Without a `*` host, an unknown authority (or none) has no virtual host.
    @Test func noCatchAllMeansNoMatch() {
        let matcher = HostMatcher([VirtualHost(domains: ["a.example"], routes: [])])
        #expect(matcher.match("b.example") == nil)
        #expect(matcher.match("") == nil)
        #expect(matcher.match("a.example") == 0)
    }

    /// With only `*`, every authority, even an empty one, goes to it.
    @Test func catchAllServesEverything() {
        let matcher = HostMatcher([VirtualHost(domains: ["*"], routes: [])])
        for authority in ["", "anything", "x:1", "[::1]:8"] {
            #expect(matcher.match(authority) == 0)
        }
    }

    /// When two virtual hosts claim the same name, the first one declared serves it.
    @Test func firstDeclarationOfANameWins() {
        let matcher = HostMatcher([
            VirtualHost(domains: ["a.example", "*.dup.example", "*"], routes: []),
            VirtualHost(domains: ["A.example", "*.dup.example", "*"], routes: []),
        ])
        #expect(matcher.match("a.example") == 0)
        #expect(matcher.match("x.dup.example") == 0)
        #expect(matcher.match("zzz") == 0)
    }

    /// An HTTP/1.0 request without Host is served by the catch-all, selected through a real parsed request.
    @Test func requestWithoutHostUsesCatchAll() throws {
        let request = try TestRequest(raw: "GET / HTTP/1.0\r\n\r\n")
        #expect(request.withView { Self.matcher.match($0.authority) } == 0)
    }
}
