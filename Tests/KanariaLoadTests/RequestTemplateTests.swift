import Testing
@testable import KanariaLoad

@Suite struct RequestTemplateTests {
    /// A URL gives scheme, host, port and path; the default port is the scheme's and stays out of Host.
    @Test func urlsAreParsed() throws {
        #expect(try LoadTarget(parsing: "http://127.0.0.1:8080/sharks?x=1")
                == LoadTarget(scheme: .http, host: "127.0.0.1", port: 8080, path: "/sharks?x=1"))
        let plain = try LoadTarget(parsing: "http://localhost")
        #expect(plain.port == 80 && plain.path == "/" && plain.authority == "localhost")
        #expect(try LoadTarget(parsing: "http://[::1]:9/").host == "[::1]")
        #expect(throws: UsageError.self) { try LoadTarget(parsing: "ftp://x/") }
        #expect(throws: UsageError.self) { try LoadTarget(parsing: "http://x:99999/") }
    }

    /// The HTTP/1.1 request carries Host, User-Agent, the extra fields, and Content-Length with a body.
    @Test func http1RequestBytes() throws {
        let target = try LoadTarget(parsing: "http://127.0.0.1:8080/a")
        let template = RequestTemplate(method: "POST", target: target, headers: [try RequestTemplate.header(parsing: "x-canary:  yes")],
                                       body: Array("hi".utf8))
        #expect(String(decoding: template.http1Bytes, as: UTF8.self)
                == "POST /a HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: kanaria-loadtest\r\nx-canary: yes\r\nContent-Length: 2\r\n\r\nhi")
    }

    /// The HTTP/2 fields start with the pseudo-headers; a Host header becomes :authority; names are lowercased.
    @Test func http2Fields() throws {
        let target = try LoadTarget(parsing: "http://127.0.0.1:8080/a")
        let template = RequestTemplate(target: target, headers: [("Host", "shop.example"), ("X-Canary", "yes")])
        let fields = template.http2Fields.map { "\($0.name)=\($0.value)" }
        #expect(fields == [":method=GET", ":scheme=http", ":authority=shop.example", ":path=/a",
                           "user-agent=kanaria-loadtest", "x-canary=yes"])
    }

    /// A header without a colon is a usage error.
    @Test func headerWithoutColonIsRefused() {
        #expect(throws: UsageError.self) { try RequestTemplate.header(parsing: "x-canary yes") }
    }

    /// A body regex needs a capture group, and the group's text names the version.
    @Test func bodyRegexNamesTheVersion() throws {
        #expect(throws: UsageError.self) { try VersionSource.body(checking: "version v[0-9]") }
        #expect(throws: UsageError.self) { try VersionSource.body(checking: "(unclosed") }
        let matcher = try BodyVersionMatcher(pattern: "data-version=\"(v[0-9]+)\"")
        let body = Array("<body data-version=\"v2\">".utf8)
        #expect(body.withUnsafeBytes { matcher.version(in: $0) } == Array("v2".utf8))
        #expect(Array("nothing".utf8).withUnsafeBytes { matcher.version(in: $0) } == nil)
    }
}
