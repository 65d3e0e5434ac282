import KanariaConfig
import Testing

/// Fields checked against Istio's schema: the exact line a user sees for each mistake [IST0106].
@Suite struct SchemaErrorTests {
    /// A misspelled field is named with its file and line and the field the user meant.
    @Test func misspelledWeightSuggestsWeight() throws {
        let istio = try configText("node-istio.yaml").replacingOccurrences(of: "weight: 80", with: "wieght: 80")
        let config = try loadSeed(istio: istio)
        let typo = line(of: "wieght", in: istio)
        #expect(printed(config) == [
            "node-istio.yaml:\(typo): VirtualService/nodejs: unknown field \"wieght\"; did you mean \"weight\"? [IST0106]",
        ])
        #expect(config.hasErrors)
        #expect(config.table == nil)
    }

    /// The diagnostic's parts are available separately, for tools.
    @Test func diagnosticCarriesItsParts() throws {
        let istio = try configText("node-istio.yaml").replacingOccurrences(of: "subset: v2", with: "subste: v2")
        let diagnostic = try #require(try loadSeed(istio: istio).diagnostics.first)
        #expect(diagnostic.severity == .error)
        #expect(diagnostic.file == "node-istio.yaml")
        #expect(diagnostic.line == line(of: "subste", in: istio))
        #expect(diagnostic.resource == "VirtualService/nodejs")
        #expect(diagnostic.message == "unknown field \"subste\"; did you mean \"subset\"?")
        #expect(diagnostic.code == "IST0106")
    }

    /// A name far from every valid field gets no suggestion; snake_case gets its camelCase spelling.
    @Test func suggestsOnlyWhenClose() throws {
        let vs = virtualService("""
          - route:
            - destination:
                host: nodejs
                subset: v1
              colour: blue
            retry_policy: {}
            ignore_uri_case: true
        """)
        let config = try loadVS(istioWith(vs))
        let text = istioWith(vs)
        #expect(printed(config) == [
            "vs.yaml:\(line(of: "colour", in: text)): VirtualService/nodejs: unknown field \"colour\" [IST0106]",
            "vs.yaml:\(line(of: "retry_policy", in: text)): VirtualService/nodejs: unknown field \"retry_policy\" [IST0106]",
            "vs.yaml:\(line(of: "ignore_uri_case", in: text)): VirtualService/nodejs: unknown field \"ignore_uri_case\" [IST0106]",
        ])
    }

    /// `ignore_uri_case` belongs in a match: there it is suggested as `ignoreUriCase`.
    @Test func snakeCaseSuggestsCamelCase() throws {
        let vs = virtualService("""
          - match:
            - uri:
                prefix: /sharks
              ignore_uri_case: true
            route:
            - destination:
                host: nodejs
        """)
        let text = istioWith(vs)
        let config = try loadVS(text)
        #expect(printed(config) == [
            "vs.yaml:\(line(of: "ignore_uri_case", in: text)): VirtualService/nodejs: unknown field \"ignore_uri_case\"; did you mean \"ignoreUriCase\"? [IST0106]",
        ])
    }

    /// A string where a number is needed, and a list where a string is needed, name the field and the value.
    @Test func wrongTypesNameFieldAndValue() throws {
        let vs = virtualService("""
          - route:
            - destination:
                host: nodejs
                subset: v1
                port:
                  number: "8080"
              weight: eighty
            - destination:
                host: [nodejs]
        """)
        let text = istioWith(vs)
        let config = try loadVS(text)
        #expect(printed(config) == [
            "vs.yaml:\(line(of: "number: \"8080\"", in: text)): VirtualService/nodejs: field \"number\" must be an integer, got \"8080\" [IST0106]",
            "vs.yaml:\(line(of: "weight: eighty", in: text)): VirtualService/nodejs: field \"weight\" must be an integer, got eighty [IST0106]",
            "vs.yaml:\(line(of: "host: [nodejs]", in: text)): VirtualService/nodejs: field \"host\" must be a string, got a list [IST0106]",
        ])
    }

    /// A label value that YAML reads as a number must be quoted, as Kubernetes requires.
    @Test func numericLabelValueMustBeQuoted() throws {
        let workloads = try configText("workloads.yaml").replacingOccurrences(of: "version: v2", with: "version: 2.0")
        let config = try loadSeed(workloads: workloads)
        #expect(printed(config).contains(
            "workloads.yaml:\(line(of: "version: 2.0", in: workloads)): WorkloadEntry/nodejs-v2: field \"version\" must be a string, got 2.0; quote it: \"2.0\" [IST0106]"))
    }

    /// `hosts: "*"` (a string, not a list) is a type error on the hosts line.
    @Test func scalarWhereListIsNeeded() throws {
        let istio = try configText("node-istio.yaml").replacingOccurrences(of: "  hosts:\n  - \"*\"\n  gateways", with: "  hosts: \"*\"\n  gateways")
        let config = try loadSeed(istio: istio)
        #expect(printed(config).contains(
            "node-istio.yaml:\(line(of: "hosts: \"*\"", in: istio)): VirtualService/nodejs: field \"hosts\" must be a list, got \"*\" [IST0106]"))
        #expect(config.hasErrors)
    }

    /// Required fields: a destination without host, a Gateway port without name, a DestinationRule without host.
    @Test func missingRequiredFields() throws {
        let istio = """
        apiVersion: networking.istio.io/v1
        kind: Gateway
        metadata:
          name: nodejs-gateway
        spec:
          servers:
          - port:
              number: 80
              protocol: HTTP
            hosts: ["*"]
        ---
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata:
          name: nodejs
        spec:
          subsets:
          - name: v1
        ---
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata:
          name: nodejs
        spec:
          hosts: ["*"]
          gateways: [nodejs-gateway]
          http:
          - route:
            - destination:
                subset: v1
        """
        let config = load(("istio.yaml", istio))
        #expect(printed(config) == [
            "istio.yaml:\(line(of: "- port:", in: istio)): Gateway/nodejs-gateway: missing required field \"name\" [IST0106]",
            "istio.yaml:\(line(of: "spec:", in: istio, after: "kind: DestinationRule")): DestinationRule/nodejs: missing required field \"host\" [IST0106]",
            "istio.yaml:\(line(of: "- destination:", in: istio)): VirtualService/nodejs: missing required field \"host\" [IST0106]",
        ])
    }

    /// An unknown protocol suggests the nearest one; exact, prefix and regex are mutually exclusive.
    @Test func enumValuesAndExclusiveFields() throws {
        let istio = try configText("node-istio.yaml").replacingOccurrences(of: "protocol: HTTP", with: "protocol: HTTTP")
        let config = try loadSeed(istio: istio)
        #expect(printed(config).contains(
            "node-istio.yaml:\(line(of: "HTTTP", in: istio)): Gateway/nodejs-gateway: invalid value \"HTTTP\" for field \"protocol\"; did you mean \"HTTP\"? [IST0106]"))

        let vs = virtualService("""
          - match:
            - uri:
                exact: /a
                prefix: /b
            route:
            - destination:
                host: nodejs
        """)
        let text = istioWith(vs)
        let both = try loadVS(text)
        #expect(printed(both) == [
            "vs.yaml:\(line(of: "prefix: /b", in: text)): VirtualService/nodejs: only one of \"exact\", \"prefix\" or \"regex\" may be set [IST0106]",
        ])
    }

    /// A regex that does not compile is an error on its line, and the route is not served.
    @Test func invalidRegex() throws {
        let vs = virtualService("""
          - match:
            - headers:
                x-shark:
                  regex: "[great"
            route:
            - destination:
                host: nodejs
        """)
        let text = istioWith(vs)
        let config = try loadVS(text)
        let diagnostic = try #require(config.diagnostics.first)
        #expect(config.diagnostics.count == 1)
        #expect(diagnostic.line == line(of: "regex:", in: text))
        #expect(diagnostic.message.hasPrefix("invalid regex \"[great\" in field \"x-shark\": "))
        #expect(diagnostic.code == "IST0106")
    }

    /// Kubernetes fields are accepted without warning, but a typo in them is still caught.
    @Test func kubernetesFieldsAreTypoChecked() throws {
        let app = try configText("node-app.yaml").replacingOccurrences(of: "  replicas: 1", with: "  replica: 1")
        let config = load(("node-app.yaml", app))
        #expect(printed(config).first ==
            "node-app.yaml:\(line(of: "replica:", in: app)): Deployment/nodejs-v1: unknown field \"replica\"; did you mean \"replicas\"? [IST0106]")
    }
}
