import KanariaHTTP
import KanariaRouting
import Testing

/// Redirect locations and path rewrites, built from request bytes as Envoy builds them.
@Suite struct RedirectRewriteTests {
    /// The Location `redirect` gives for `target` with `Host: host` arriving on `listenerPort`.
    func location(_ redirect: RedirectAction, _ target: String, host: String = "shop.example:8080", scheme: String = "http",
                  listenerPort: Int = 80, tls: Bool = false) -> String {
        var output = ByteBuffer(capacity: 8)
        defer { output.deallocate() }
        let path = Array(target.utf8), authority = Array(host.utf8), requestScheme = Array(scheme.utf8)
        path.withUnsafeBytes { p in
            authority.withUnsafeBytes { a in
                requestScheme.withUnsafeBytes { s in
                    redirect.location(requestScheme: s, authority: a, path: p, listenerPort: listenerPort, listenerIsTLS: tls, into: &output)
                }
            }
        }
        return String(decoding: output.readable, as: UTF8.self)
    }

    /// `uri` replaces the path and keeps the query unless it has its own.
    @Test func uriReplacesPathKeepingQuery() {
        #expect(location(RedirectAction(uri: "/new"), "/old?x=1") == "http://shop.example:8080/new?x=1")
        #expect(location(RedirectAction(uri: "/new?y=2"), "/old?x=1") == "http://shop.example:8080/new?y=2")
        #expect(location(RedirectAction(authority: "other.example"), "/old?x=1") == "http://other.example/old?x=1")
        #expect(RedirectAction(uri: "/new").code == 301)
    }

    /// A port replaces the request's; Istio drops 80 for http and 443 for https.
    @Test func portsFollowIstio() {
        #expect(location(RedirectAction(port: .number(8443), scheme: "https"), "/old?x=1") == "https://shop.example:8443/old?x=1")
        #expect(location(RedirectAction(port: .number(443), scheme: "https"), "/a", host: "shop.example") == "https://shop.example/a")
        // Istio drops the 443, so Envoy has no port to set and keeps the request's non-default one.
        #expect(location(RedirectAction(port: .number(443), scheme: "https"), "/a") == "https://shop.example:8080/a")
        #expect(location(RedirectAction(port: .fromRequestPort), "/a", host: "shop.example", listenerPort: 8000) == "http://shop.example:8000/a")
        #expect(location(RedirectAction(port: .fromRequestPort), "/a", host: "shop.example:9", listenerPort: 80) == "http://shop.example:9/a")
        #expect(location(RedirectAction(authority: "b.example", port: .number(81)), "/a") == "http://b.example:81/a")
    }

    /// Changing the scheme drops the request's port only when it is the old scheme's default.
    @Test func schemeChangeStripsDefaultPort() {
        #expect(location(RedirectAction(scheme: "https"), "/a", host: "shop.example:80") == "https://shop.example/a")
        #expect(location(RedirectAction(scheme: "https"), "/a", host: "shop.example:8080") == "https://shop.example:8080/a")
        #expect(location(RedirectAction(scheme: "http"), "/a", host: "[::1]:443", scheme: "https", tls: true) == "http://[::1]/a")
        #expect(location(RedirectAction(uri: "/b"), "/a", host: "shop.example:80") == "http://shop.example:80/b")
    }

    /// The rewritten path for `target` matched by `match`.
    func rewritten(_ rewrite: URIRewrite, _ target: String, match: RequestMatch?) throws -> String? {
        let request = try TestRequest("GET", target)
        var output = ByteBuffer(capacity: 8)
        defer { output.deallocate() }
        let done = request.withView { rewrite.rewritePath($0.path, pathWithoutQuery: $0.pathWithoutQuery, matchedBy: match, into: &output) }
        return done ? String(decoding: output.readable, as: UTF8.self) : nil
    }

    /// `uri` replaces the matched prefix, `/` for a match without uri, the whole path for exact and regex.
    @Test func uriRewriteReplacesWhatMatched() throws {
        let rewrite = URIRewrite(path: .prefix(Array("/v2".utf8)))
        #expect(try rewritten(rewrite, "/v1/users?id=3", match: RequestMatch(uri: .prefix("/v1"))) == "/v2/users?id=3")
        #expect(try rewritten(rewrite, "/users", match: nil) == "/v2users")
        #expect(try rewritten(rewrite, "/users", match: RequestMatch(method: .exact("GET"))) == "/v2users")
        #expect(try rewritten(rewrite, "/old?x=1", match: RequestMatch(uri: .exact("/old"))) == "/v2?x=1")
        #expect(try rewritten(rewrite, "/Old/x", match: RequestMatch(uri: .prefix("/old"), ignoreUriCase: true)) == "/v2/x")
        #expect(try rewritten(URIRewrite(authority: "a.example"), "/x", match: nil) == nil)
    }

    /// `uriRegexRewrite` replaces every match in the path, with `\1` groups, and keeps the query.
    @Test func regexRewriteSubstitutesGroups() throws {
        let rewrite = URIRewrite(path: .regex(try RegexMatcher("^/service/([^/]+)(/.*)$"), substitution: "\\2/instance/\\1"))
        #expect(try rewritten(rewrite, "/service/foo/v1/api?x=1", match: nil) == "/v1/api/instance/foo?x=1")
        let all = URIRewrite(path: .regex(try RegexMatcher("o"), substitution: "0"))
        #expect(try rewritten(all, "/foo/boo", match: nil) == "/f00/b00")
    }

    /// A mirrored copy's authority gets `-shadow` after the host, before the port.
    @Test(arguments: [("shark.local:8080", "shark.local-shadow:8080"), ("shark.local", "shark.local-shadow"),
                      ("[::1]:80", "[::1]-shadow:80")])
    func shadowAuthority(authority: String, shadow: String) {
        var output = ByteBuffer(capacity: 4)
        defer { output.deallocate() }
        Array(authority.utf8).withUnsafeBytes { MirrorPolicy.shadowAuthority($0, into: &output) }
        #expect(String(decoding: output.readable, as: UTF8.self) == shadow)
    }
}
