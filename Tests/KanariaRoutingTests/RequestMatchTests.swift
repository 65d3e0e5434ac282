import KanariaHTTP
import KanariaRouting
import Testing

private func regex(_ pattern: String) throws -> StringMatcher { .regex(try RegexMatcher(pattern)) }

@Suite("Request matches")
struct RequestMatchTests {
    /// A match with no condition catches every request.
    @Test func emptyMatchCatchesAll() throws {
        let match = RequestMatch()
        #expect(match.isCatchAll)
        #expect(match.matches(try TestRequest("DELETE", "/anything?x=1", host: "any.host:9")))
        #expect(!RequestMatch(uri: .prefix("/")).isCatchAll)
        #expect(!RequestMatch(port: 80).isCatchAll)
        #expect(!RequestMatch(withoutHeaders: [HeaderMatcher(name: "x", value: .any)]).isCatchAll)
    }

    /// uri exact compares the path without its query string, case-sensitively.
    @Test(arguments: [
        ("/shark", true), ("/shark?lang=en", true), ("/shark?", true), ("/shark/", false), ("/Shark", false),
        ("/shar", false), ("/sharks", false),
    ])
    func uriExactIgnoresTheQuery(target: String, matches: Bool) throws {
        #expect(RequestMatch(uri: .exact("/shark")).matches(try TestRequest("GET", target)) == matches)
    }

    /// uri prefix compares the start of the path with its query string, so a prefix may include the query.
    @Test(arguments: [
        ("/api", "/api", true), ("/api", "/api/v1/x", true), ("/api", "/apix", true), ("/api", "/ap", false),
        ("/api", "/API/v1", false), ("/", "/", true), ("/", "/anything?x", true),
        ("/search?q=", "/search?q=shark", true), ("/search?q=", "/search?p=1", false), ("/search?q=", "/search", false),
    ])
    func uriPrefixIncludesTheQuery(prefix: String, target: String, matches: Bool) throws {
        #expect(RequestMatch(uri: .prefix(prefix)).matches(try TestRequest("GET", target)) == matches)
    }

    /// uri regex must match the whole path without its query string.
    @Test(arguments: [
        ("/user/42", true), ("/user/42?tab=1", true), ("/user/", false), ("/user/42/edit", false),
        ("/x/user/42", false), ("/USER/42", false),
    ])
    func uriRegexMatchesTheWholePathWithoutQuery(target: String, matches: Bool) throws {
        let match = RequestMatch(uri: try regex("/user/[0-9]+"))
        #expect(match.matches(try TestRequest("GET", target)) == matches)
    }

    /// ignoreUriCase makes exact, prefix and regex uri matches case-insensitive (ASCII letters).
    @Test(arguments: ["/SHARK/Facts", "/shark/facts", "/Shark/FACTS?q=1"])
    func ignoreUriCaseAppliesToEveryKind(target: String) throws {
        let request = try TestRequest("GET", target)
        #expect(RequestMatch(uri: .exact("/shark/facts"), ignoreUriCase: true).matches(request))
        #expect(RequestMatch(uri: .prefix("/Shark/"), ignoreUriCase: true).matches(request))
        #expect(RequestMatch(uri: try regex("/shark/[a-z]+"), ignoreUriCase: true).matches(request))
    }

    /// Without ignoreUriCase, the case of the path matters.
    @Test func uriCaseMattersByDefault() throws {
        let request = try TestRequest("GET", "/SHARK/facts")
        #expect(!RequestMatch(uri: .exact("/shark/facts")).matches(request))
        #expect(!RequestMatch(uri: .prefix("/shark")).matches(request))
        #expect(!RequestMatch(uri: try regex("/shark/[a-z]+")).matches(request))
    }

    /// Header conditions: exact, prefix, regex and presence; names in any case, values case-sensitive.
    @Test(arguments: [
        ("exact v2", "X-Version", "v2", true), ("exact v2", "x-version", "V2", false), ("exact v2", "X-VERSION", "v2 ", true),
        ("exact v2", "X-Version", "v22", false), ("prefix Mozilla/", "User-Agent", "Mozilla/5.0 (X11)", false),
        ("prefix v", "x-version", "v1", true), ("prefix v", "x-version", "1v", false),
        ("regex v[0-9]+", "x-version", "v10", true), ("regex v[0-9]+", "x-version", "v1x", false),
        ("present", "x-version", "", true), ("present", "x-version", "anything", true), ("present", "x-other", "v2", false),
    ])
    func headerConditions(kind: String, name: String, value: String, matches: Bool) throws {
        let matcher: StringMatcher
        switch kind {
        case "exact v2": matcher = .exact("v2")
        case "prefix Mozilla/", "prefix v": matcher = .prefix(String(kind.dropFirst(7)))
        case "regex v[0-9]+": matcher = try regex("v[0-9]+")
        default: matcher = .any
        }
        let match = RequestMatch(headers: [HeaderMatcher(name: "X-Version", value: matcher)])
        let request = try TestRequest("GET", "/", headers: [(name, value)])
        #expect(match.matches(request) == matches, "\(kind) against \(name): \(value)")
    }

    /// A header condition fails when the header is absent, and every listed header must hold.
    @Test func allHeaderConditionsMustHold() throws {
        let match = RequestMatch(headers: [
            HeaderMatcher(name: "end-user", value: .exact("jason")),
            HeaderMatcher(name: "x-canary", value: .any),
        ])
        #expect(match.matches(try TestRequest(headers: [("end-user", "jason"), ("X-Canary", "1")])))
        #expect(!match.matches(try TestRequest(headers: [("end-user", "jason")])))
        #expect(!match.matches(try TestRequest(headers: [("x-canary", "1")])))
        #expect(!match.matches(try TestRequest(headers: [("end-user", "json"), ("x-canary", "1")])))
        #expect(!match.matches(try TestRequest()))
    }

    /// The first field of a repeated name is the one compared.
    @Test func repeatedHeaderUsesTheFirst() throws {
        let match = RequestMatch(headers: [HeaderMatcher(name: "x-version", value: .exact("v2"))])
        #expect(match.matches(try TestRequest(headers: [("x-version", "v2"), ("x-version", "v1")])))
        #expect(!match.matches(try TestRequest(headers: [("x-version", "v1"), ("x-version", "v2")])))
    }

    /// withoutHeaders excludes requests whose header matches, and lets through those where it is absent or differs.
    @Test func withoutHeadersExcludes() throws {
        let match = RequestMatch(uri: .prefix("/"), withoutHeaders: [
            HeaderMatcher(name: "x-debug", value: .any),
            HeaderMatcher(name: "x-version", value: .exact("v1")),
        ])
        #expect(match.matches(try TestRequest()))
        #expect(match.matches(try TestRequest(headers: [("x-version", "v2")])))
        #expect(!match.matches(try TestRequest(headers: [("x-version", "v1")])))
        #expect(!match.matches(try TestRequest(headers: [("X-Debug", "")])))
    }

    /// method compares the method's name exactly, also for methods the parser does not know.
    @Test(arguments: [("GET", true), ("POST", false), ("get", false), ("PURGE", false)])
    func methodMatchesTheName(method: String, matches: Bool) throws {
        #expect(RequestMatch(method: .exact("GET")).matches(try TestRequest(method, "/")) == matches)
        #expect(RequestMatch(method: .exact("PURGE")).matches(try TestRequest(method, "/")) == (method == "PURGE"))
        #expect(RequestMatch(method: try regex("GET|HEAD")).matches(try TestRequest(method, "/")) == matches)
    }

    /// authority compares the Host as sent (port included), or the authority of an absolute-form target.
    @Test func authorityMatchesTheHostAsSent() throws {
        let exact = RequestMatch(authority: .exact("sharks.example"))
        #expect(exact.matches(try TestRequest(host: "sharks.example")))
        #expect(!exact.matches(try TestRequest(host: "sharks.example:8080")))
        #expect(RequestMatch(authority: .prefix("sharks.example")).matches(try TestRequest(host: "sharks.example:8080")))
        #expect(RequestMatch(authority: try regex("[a-z]+\\.example(:[0-9]+)?")).matches(try TestRequest(host: "sharks.example:80")))
        let absolute = try TestRequest(raw: "GET http://sharks.example/x HTTP/1.1\r\nHost: other.example\r\n\r\n")
        #expect(exact.matches(absolute))
    }

    /// port restricts a match to the gateway port the request arrived on.
    @Test func portMustBeTheListenerPort() throws {
        let match = RequestMatch(uri: .prefix("/"), port: 8080)
        let request = try TestRequest()
        #expect(match.matches(request, listenerPort: 8080))
        #expect(!match.matches(request, listenerPort: 80))
    }

    /// Every condition of one match must hold together.
    @Test func conditionsCombineWithAnd() throws {
        let match = RequestMatch(uri: .prefix("/api"), method: .exact("POST"),
                                 headers: [HeaderMatcher(name: "x-version", value: .exact("v2"))])
        #expect(match.matches(try TestRequest("POST", "/api/x", headers: [("x-version", "v2")])))
        #expect(!match.matches(try TestRequest("GET", "/api/x", headers: [("x-version", "v2")])))
        #expect(!match.matches(try TestRequest("POST", "/web", headers: [("x-version", "v2")])))
        #expect(!match.matches(try TestRequest("POST", "/api/x", headers: [("x-version", "v1")])))
    }

    /// An invalid regular expression is refused when the match is built.
    @Test func invalidRegexThrows() {
        #expect(throws: (any Error).self) { try RegexMatcher("(unclosed") }
    }

    /// Matchers describe themselves for diagnostics.
    @Test func describesItself() throws {
        #expect(StringMatcher.exact("/a").description == "exact \"/a\"")
        #expect(StringMatcher.prefix("/b").description == "prefix \"/b\"")
        #expect(try regex("c+").description == "regex \"c+\"")
        #expect(StringMatcher.any.description == "present")
    }
}
