import Foundation
import KanariaConfig
import Testing

/// Files, folders and documents: what is read, in which order, and what is wrong with the YAML itself.
@Suite struct DocumentTests {
    /// A YAML syntax error names its file and line, outside any resource.
    @Test func yamlSyntaxError() throws {
        let text = """
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata:
          name: nodejs
        spec:
          hosts: ["*"
          gateways: [nodejs-gateway]
        """
        let config = load(("bad.yaml", text))
        let diagnostic = try #require(config.diagnostics.first)
        #expect(config.diagnostics.count == 1)
        #expect(diagnostic.file == "bad.yaml")
        #expect(diagnostic.resource == "")
        #expect(diagnostic.line == 7)
        #expect(diagnostic.description.hasPrefix("bad.yaml:7: YAML syntax error: "))
        #expect(config.hasErrors)
    }

    /// A bad indentation is reported on the line where the parser gives up.
    @Test func badIndentation() throws {
        let text = "apiVersion: v1\nkind: Service\nmetadata:\n  name: nodejs\n   labels: {}\n"
        let config = load(("bad.yaml", text))
        #expect(printed(config) == ["bad.yaml:5: YAML syntax error: mapping values are not allowed in this context"])
    }

    /// A key written twice in one mapping is a YAML error on the line of the key.
    @Test func duplicateKey() throws {
        let text = "apiVersion: v1\nkind: Service\nmetadata:\n  name: nodejs\nspec:\n  selector:\n    app: nodejs\n  selector:\n    app: other\n"
        let config = load(("dup.yaml", text))
        #expect(printed(config) == ["dup.yaml:6: YAML syntax error: duplicate key \"selector\" in a mapping"])
    }

    /// The documents before a syntax error are still checked.
    @Test func documentsBeforeASyntaxErrorAreChecked() throws {
        let text = "apiVersion: v1\nkind: Service\nmetadata:\n  name: nodejs\nspec:\n  selektor: {}\n---\nkind: [\n"
        let config = load(("two.yaml", text))
        #expect(printed(config).count == 2)
        #expect(printed(config).first == "two.yaml:6: Service/nodejs: unknown field \"selektor\"; did you mean \"selector\"? [IST0106]")
    }

    /// Two resources of the same kind, namespace and name: the second is an error naming the first.
    @Test func duplicateResourceNames() throws {
        let istio = try configText("node-istio.yaml")
        let copy = istio.components(separatedBy: "---\n")[2]  // the DestinationRule
        let config = load(("node-app.yaml", try configText("node-app.yaml")), ("node-istio.yaml", istio),
                          ("extra.yaml", copy), ("workloads.yaml", try configText("workloads.yaml")))
        #expect(printed(config) == [
            "extra.yaml:4: DestinationRule/nodejs: duplicate DestinationRule \"default/nodejs\"; first defined at node-istio.yaml:\(line(of: "name: nodejs", in: istio, after: "kind: DestinationRule"))",
        ])
        // The same name in another namespace or of another kind is fine.
        let elsewhere = copy.replacingOccurrences(of: "  name: nodejs\n", with: "  name: nodejs\n  namespace: other\n")
        let fine = load(("node-app.yaml", try configText("node-app.yaml")), ("node-istio.yaml", istio),
                        ("extra.yaml", elsewhere), ("workloads.yaml", try configText("workloads.yaml")))
        #expect(fine.errors.isEmpty)
    }

    /// Kinds Kanaria does not read are warned about and ignored; a wrong apiVersion for a known kind is an error.
    @Test func otherKindsAndVersions() throws {
        let text = """
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: settings
        data:
          colour: blue
        ---
        apiVersion: gateway.networking.k8s.io/v1
        kind: Gateway
        metadata:
          name: web
        ---
        apiVersion: networking.istio.io/v2
        kind: VirtualService
        metadata:
          name: nodejs
        """
        let config = load(("kinds.yaml", text))
        #expect(printed(config) == [
            "kinds.yaml:2: ConfigMap/settings: warning: kind ConfigMap of v1 is not one Kanaria reads; it is ignored",
            "kinds.yaml:9: Gateway/web: warning: kind Gateway of gateway.networking.k8s.io/v1 is not one Kanaria reads; it is ignored",
            "kinds.yaml:13: VirtualService/nodejs: apiVersion \"networking.istio.io/v2\" has no kind VirtualService; expected networking.istio.io/v1, networking.istio.io/v1beta1, networking.istio.io/v1alpha3 [IST0106]",
        ])
    }

    /// A document without kind, or that is not a mapping, is an error; empty documents are skipped.
    @Test func malformedDocuments() throws {
        let text = "---\n# nothing here\n---\napiVersion: v1\nmetadata:\n  name: x\n---\n- a\n- b\n"
        let config = load(("odd.yaml", text))
        #expect(printed(config) == [
            "odd.yaml:4: missing required field \"kind\" [IST0106]",
            "odd.yaml:8: a document must be a mapping with apiVersion, kind, metadata and spec, got a list",
        ])
    }

    /// `kind: List` (as `kubectl get -o yaml` prints) contributes its items.
    @Test func kubernetesListItems() throws {
        let items = try configText("workloads.yaml").components(separatedBy: "---\n")
            .map { "- " + $0.split(separator: "\n").filter { !$0.hasPrefix("#") }.joined(separator: "\n  ") }
            .joined(separator: "\n")
        let list = "apiVersion: v1\nkind: List\nitems:\n" + items + "\n"
        let config = load(("node-app.yaml", try configText("node-app.yaml")), ("node-istio.yaml", try configText("node-istio.yaml")),
                          ("list.yaml", list))
        #expect(printed(config) == [])
        #expect(config.table?.endpoints.map(\.port) == [9081, 9082])
    }

    /// A folder contributes its *.yaml and *.yml files sorted by name, other files and subfolders are left out;
    /// diagnostics name the folder as given joined with the file's name.
    @Test func foldersAreReadSortedByName() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("kanaria-config-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("nested.yaml"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try configText("node-app.yaml").write(to: folder.appendingPathComponent("a-app.yml"), atomically: true, encoding: .utf8)
        let istio = try configText("node-istio.yaml").replacingOccurrences(of: "weight: 20", with: "wieght: 20")
        try istio.write(to: folder.appendingPathComponent("b-istio.yaml"), atomically: true, encoding: .utf8)
        try configText("workloads.yaml").write(to: folder.appendingPathComponent("c-workloads.yaml"), atomically: true, encoding: .utf8)
        try "not: yaml: at all".write(to: folder.appendingPathComponent("notes.txt"), atomically: true, encoding: .utf8)

        let config = ConfigLoader.load(paths: [folder.path])
        #expect(printed(config) == [
            "\(folder.path)/b-istio.yaml:\(line(of: "wieght", in: istio)): VirtualService/nodejs: unknown field \"wieght\"; did you mean \"weight\"? [IST0106]",
        ])
        let fixed = folder.appendingPathComponent("b-istio.yaml")
        try configText("node-istio.yaml").write(to: fixed, atomically: true, encoding: .utf8)
        let good = ConfigLoader.load(paths: [folder.path + "/"])
        #expect(printed(good) == [])
        #expect(good.table?.clusters.count == 2)
    }

    /// A path that does not exist, and a folder without YAML, are errors naming the path.
    @Test func missingPaths() throws {
        let config = ConfigLoader.load(paths: ["/nonexistent/kanaria.yaml"])
        #expect(printed(config) == ["/nonexistent/kanaria.yaml: no such file or folder"])
        #expect(config.hasErrors)
    }

    /// Diagnostics come by file in reading order, then by line.
    @Test func diagnosticsAreSortedByFileThenLine() throws {
        let first = "apiVersion: v1\nkind: Service\nmetadata:\n  name: a\nspec:\n  portz: []\n  selectr: {}\n"
        let second = "apiVersion: v1\nkind: Service\nmetadata:\n  name: b\n  labls: {}\n"
        let config = load(("z.yaml", first), ("a.yaml", second))
        #expect(config.diagnostics.map { "\($0.file):\($0.line)" } == ["z.yaml:6", "z.yaml:7", "a.yaml:5"])
    }
}
