import KanariaConfig
import KanariaRouting
import Testing

/// queryParams, scheme, withoutHeaders and ignoreUriCase, read from YAML and honoured by routing.
@Suite struct MatchConfigTests {
    let table: RouteTable

    init() throws {
        let config = try loadVS(istioWith(virtualService("""
          - match:
            - queryParams:
                version: {exact: v2}
            - queryParams:
                canary: {}
            - queryParams:
                debug: {regex: "*"}
              ignoreUriCase: true
              uri: {prefix: /Debug}
            route:
            - destination: {host: nodejs, subset: v2}
          - match:
            - scheme: {exact: https}
            - withoutHeaders:
                x-user: {exact: admin}
              uri: {exact: /admin}
            route:
            - destination: {host: nodejs, subset: v2}
          - route:
            - destination: {host: nodejs, subset: v1}
        """)))
        #expect(config.errors.isEmpty)
        table = try #require(config.table)
    }

    func subset(_ target: String, _ headers: String = "") -> String? {
        clusterName("GET \(target) HTTP/1.1\nHost: a\n\(headers)\n", in: table).map { String($0.split(separator: "|")[2]) }
    }

    /// Query parameters: exact on the first value, `{}` and `regex: "*"` for presence.
    @Test func queryParams() {
        #expect(subset("/?version=v2") == "v2")
        #expect(subset("/?version=v1") == "v1")
        #expect(subset("/x?canary") == "v2")
        #expect(subset("/debug/x?debug=0") == "v2")
        #expect(subset("/other?debug=0") == "v1")
    }

    /// scheme is the listener's (plain HTTP here); withoutHeaders excludes, a missing header counts as empty.
    @Test func schemeAndWithoutHeaders() {
        #expect(subset("/secure") == "v1")
        #expect(subset("/admin") == "v2")
        #expect(subset("/admin", "x-user: admin\n") == "v1")
        #expect(subset("/ADMIN") == "v1")
    }
}
