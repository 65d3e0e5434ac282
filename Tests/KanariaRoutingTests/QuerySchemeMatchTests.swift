import KanariaHTTP
import KanariaRouting
import Testing

/// queryParams, scheme and withoutHeaders, as Istio configures Envoy's route match.
@Suite struct QuerySchemeMatchTests {
    /// The first value of a parameter is matched; `?flag` and `?flag=` have the empty value.
    @Test(arguments: [
        ("/p?version=v2", true), ("/p?a=1&version=v2&version=v3", true), ("/p?version=v3&version=v2", false),
        ("/p?version=v2x", false), ("/p?versions=v2", false), ("/p", false), ("/p?x=1#version=v2", false),
    ])
    func exactQueryParam(target: String, matches: Bool) throws {
        let match = RequestMatch(queryParams: [QueryParamMatcher(name: "version", value: .exact("v2"))])
        #expect(match.matches(try TestRequest("GET", target)) == matches)
    }

    /// Present with an empty value matches `exact: ""` and presence; absence matches neither.
    @Test func emptyAndPresentParams() throws {
        let empty = RequestMatch(queryParams: [QueryParamMatcher(name: "debug", value: .exact(""))])
        let present = RequestMatch(queryParams: [QueryParamMatcher(name: "debug", value: .any)])
        let prefix = RequestMatch(queryParams: [QueryParamMatcher(name: "id", value: .prefix("12"))])
        #expect(empty.matches(try TestRequest("GET", "/?debug")))
        #expect(empty.matches(try TestRequest("GET", "/?debug=&x=1")))
        #expect(!empty.matches(try TestRequest("GET", "/?debug=1")))
        #expect(present.matches(try TestRequest("GET", "/?debug=1")))
        #expect(!present.matches(try TestRequest("GET", "/?x=debug")))
        #expect(prefix.matches(try TestRequest("GET", "/?id=1234")))
        #expect(!RequestMatch(queryParams: [QueryParamMatcher(name: "id", value: .any)]).isCatchAll)
    }

    /// `scheme` is matched against the listener's: https with TLS, http without.
    @Test func schemeFollowsListener() throws {
        let https = RequestMatch(scheme: .exact("https"))
        let request = try TestRequest()
        #expect(request.withView { https.matches($0, listenerPort: 443, isTLS: true) })
        #expect(!request.withView { https.matches($0, listenerPort: 80, isTLS: false) })
        #expect(request.withView { RequestMatch(scheme: .exact("http")).matches($0, listenerPort: 80) })
    }

    /// withoutHeaders treats a missing header as empty, except for a presence match.
    @Test func withoutHeadersMissingIsEmpty() throws {
        let notFoo = RequestMatch(withoutHeaders: [HeaderMatcher(name: "x-user", value: .exact("foo"))])
        let notEmptyPrefix = RequestMatch(withoutHeaders: [HeaderMatcher(name: "x-user", value: .prefix(""))])
        let notPresent = RequestMatch(withoutHeaders: [HeaderMatcher(name: "x-user", value: .any)])
        let bare = try TestRequest()
        #expect(notFoo.matches(bare))
        #expect(!notFoo.matches(try TestRequest(headers: [("x-user", "foo")])))
        #expect(!notEmptyPrefix.matches(bare))
        #expect(notPresent.matches(bare))
        #expect(!notPresent.matches(try TestRequest(headers: [("x-user", "")])))
    }

    /// ignoreUriCase applies to exact, prefix and regex uri matches.
    @Test func ignoreUriCaseIsHonoured() throws {
        let request = try TestRequest("GET", "/API/Users")
        #expect(RequestMatch(uri: .prefix("/api"), ignoreUriCase: true).matches(request))
        #expect(!RequestMatch(uri: .prefix("/api")).matches(request))
        #expect(RequestMatch(uri: .exact("/api/users"), ignoreUriCase: true).matches(request))
    }
}
