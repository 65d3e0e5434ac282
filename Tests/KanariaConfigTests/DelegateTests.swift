import KanariaConfig
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
}
