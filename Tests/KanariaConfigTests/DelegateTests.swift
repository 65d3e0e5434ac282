@testable import KanariaConfig
import KanariaRouting
import Testing

/// Delegate VirtualServices: the delegate's routes take the root route's place, narrowed by its matches.
@Suite struct DelegateTests {
    let root = virtualService("""
      - match:
        - uri:
            prefix: /sharks
        delegate:
          name: sharks
        timeout: 2s
      - route:
        - destination: {host: nodejs, subset: v1}
    """)

    let delegate = """
    apiVersion: networking.istio.io/v1
    kind: VirtualService
    metadata:
      name: sharks
    spec:
      http:
      - name: canary
        match:
        - uri:
            prefix: /sharks/v2
          headers:
            x-canary: {exact: "yes"}
        route:
        - destination: {host: nodejs, subset: v2}
        timeout: 1s
      - name: elsewhere
        match:
        - uri:
            prefix: /fish
        route:
        - destination: {host: nodejs, subset: v2}
      - route:
        - destination: {host: nodejs, subset: v1}
    """

    /// The merged routes sit in the root route's place, in the delegate's order; a conflicting one is left out.
    @Test func mergesInPlace() throws {
        let text = istioWith(root) + "\n---\n" + delegate
        let config = try loadVS(text)
        #expect(config.errors.isEmpty)
        #expect(config.warnings.map(\.description) == [
            "vs.yaml:\(line(of: "name: sharks", in: text, after: "delegate:")): VirtualService/nodejs: warning: http[1] \"elsewhere\" of VirtualService default/sharks has matches that conflict with http[0]'s; it is left out, as Istio does",
        ])
        let table = try #require(config.table)
        let served = table.listeners[0].virtualHosts[0].routes.map { table.routes[$0] }
        #expect(served.map(\.name) == ["canary", "sharks.2", "nodejs.1"])
        #expect(served.map(\.virtualService) == ["default/sharks", "default/sharks", "default/nodejs"])
        // The child's timeout wins; the parent's fills in where the child has none.
        #expect(served.map(\.timeout) == [.seconds(1), .seconds(2), nil])
        #expect(clusterName("GET /sharks/v2/x HTTP/1.1\nHost: a\nx-canary: yes\n\n", in: table) == "outbound|8080|v2|nodejs.default.svc.cluster.local")
        #expect(clusterName("GET /sharks/v2/x HTTP/1.1\nHost: a\n\n", in: table) == "outbound|8080|v1|nodejs.default.svc.cluster.local")
        #expect(clusterName("GET /fish HTTP/1.1\nHost: a\n\n", in: table) == "outbound|8080|v1|nodejs.default.svc.cluster.local")
        let merged = served[1].matches
        #expect(merged.count == 1 && merged[0].uri?.description == "prefix \"/sharks\"")
    }

    /// A missing delegate is a reference error; a hostless VirtualService nobody delegates to is ignored with a warning.
    @Test func missingDelegate() throws {
        let text = istioWith(root.replacingOccurrences(of: "name: sharks", with: "name: shark"))
            + "\n---\n" + delegate
        let config = try loadVS(text)
        #expect(config.errors.map(\.description) == [
            "vs.yaml:\(line(of: "name: shark", in: text, after: "delegate:")): VirtualService/nodejs: referenced delegate not found: no VirtualService default/shark; did you mean \"sharks\"? [IST0101]",
        ])
        #expect(config.warnings.map(\.description).contains(
            "vs.yaml:\(line(of: "name: sharks", in: text)): VirtualService/sharks: warning: no hosts and no route delegates to this VirtualService; it is ignored"))
    }

    /// Istio's rules: a root route has no route of its own, a delegate's route delegates no further.
    @Test func delegationRules() throws {
        let text = istioWith(root.replacingOccurrences(of: "    timeout: 2s\n", with: "    route:\n    - destination: {host: nodejs}\n"))
            + "\n---\n" + delegate.replacingOccurrences(of: "  - route:\n    - destination: {host: nodejs, subset: v1}", with: "  - delegate: {name: other}")
        let config = try loadVS(text)
        #expect(config.errors.map(\.description) == [
            "vs.yaml:\(line(of: "route:", in: text, after: "delegate:")): VirtualService/nodejs: root HTTP route http[0] must not specify route [IST0106]",
            "vs.yaml:\(line(of: "- delegate: {name: other}", in: text)): VirtualService/sharks: delegate HTTP route cannot contain delegate [IST0106]",
        ])
    }

    /// Istio's stringMatchConflict: a child must narrow the parent's exact or prefix; regexes never combine.
    @Test func stringMatchConflicts() throws {
        let regex = StringMatcher.regex(try RegexMatcher("/a.*"))
        let cases: [(StringMatcher?, StringMatcher?, Bool)] = [
            (nil, .exact("/a"), false), (.prefix("/a"), nil, false),
            (.prefix("/a"), .prefix("/a/b"), false), (.prefix("/a/b"), .prefix("/a"), true),
            (.prefix("/a"), .exact("/a/x"), false), (.prefix("/a"), .exact("/b"), true),
            (.exact("/a"), .exact("/a"), false), (.exact("/a"), .exact("/b"), true), (.exact("/a"), .prefix("/a"), true),
            (regex, .exact("/a"), true), (.prefix("/a"), regex, true), (.any, .exact("/a"), true),
        ]
        for (root, leaf, conflict) in cases {
            #expect(RouteDelegation.conflicts(root, leaf) == conflict, "\(String(describing: root)) / \(String(describing: leaf))")
        }
    }

    /// Istio's mergeHTTPMatchRequest: the child's conditions, the parent's where the child has none, header maps
    /// merged with the child's winning; names joined; case rules and ports must agree.
    @Test func combinesMatches() {
        let root = RequestMatch(name: "root", uri: .prefix("/a"), method: .exact("GET"),
                                headers: [HeaderMatcher(name: "x-a", value: .exact("1")), HeaderMatcher(name: "x-b", value: .prefix("1"))], port: 80)
        let leaf = RequestMatch(name: "leaf", uri: .prefix("/a/b"), headers: [HeaderMatcher(name: "x-b", value: .exact("12"))])
        let merged = RouteDelegation.combine(root: root, leaf: leaf)
        #expect(merged.name == "root-leaf")
        #expect(merged.uri?.description == "prefix \"/a/b\"" && merged.method?.description == "exact \"GET\"" && merged.port == 80)
        #expect(merged.headers.map { "\(String(decoding: $0.name, as: UTF8.self))=\($0.value)" } == ["x-a=exact \"1\"", "x-b=exact \"12\""])
        let overriding = RequestMatch(headers: [HeaderMatcher(name: "x-a", value: .exact("2"))])
        #expect(RouteDelegation.conflicts(root: root, leaf: overriding))
        #expect(RouteDelegation.conflicts(root: root, leaf: RequestMatch(uri: .prefix("/a"), ignoreUriCase: true)))
        #expect(RouteDelegation.conflicts(root: root, leaf: RequestMatch(port: 8080)))
        #expect(!RouteDelegation.conflicts(root: root, leaf: leaf))
    }
}
