import Yams

/// Reads YAML documents into typed resources: checks each against its kind's schema, decodes what Kanaria acts
/// on, and reports what is wrong within one resource (cross-resource references are the compiler's job).
struct DocumentReader {
    let log: DiagnosticLog
    private(set) var documents = ConfigDocuments()
    /// Where each `Kind namespace/name` was first defined, to report duplicates.
    private var defined: [String: ResourceHeader] = [:]

    init(log: DiagnosticLog) {
        self.log = log
    }

    /// The kinds Kanaria reads and the apiVersions each may have.
    static let kinds: [String: (group: String, versions: [String])] = [
        "Gateway": ("networking.istio.io", istioVersions),
        "VirtualService": ("networking.istio.io", istioVersions),
        "DestinationRule": ("networking.istio.io", istioVersions),
        "ServiceEntry": ("networking.istio.io", istioVersions),
        "WorkloadEntry": ("networking.istio.io", istioVersions),
        "Service": ("", ["v1"]),
        "Deployment": ("apps", ["v1"]),
    ]
    static let istioVersions = ["v1", "v1beta1", "v1alpha3"]

    mutating func read(_ root: Node, file: String) {
        if root.isNull { return }  // an empty document: `---` with nothing (or only comments) after it
        let anonymous = Reporter(log: log, file: file, resource: "")
        guard root.mapping != nil else {
            return anonymous.error(root.line, "a document must be a mapping with apiVersion, kind, metadata and spec, got \(SchemaChecker.describe(root))")
        }
        guard let kind = root.value("kind")?.text, let apiVersion = root.value("apiVersion")?.text else {
            let missing = root.value("kind")?.text == nil ? "kind" : "apiVersion"
            return anonymous.error(root.line, "missing required field \"\(missing)\"", code: IstioCode.schema)
        }
        let metadata = root.value("metadata")
        let name = metadata?.value("name")?.text ?? ""
        let header = ResourceHeader(kind: kind, name: name, namespace: metadata?.value("namespace")?.text ?? "default",
                                    file: file, line: metadata?.value("name")?.line ?? root.line)
        let report = Reporter(log: log, file: file, resource: name.isEmpty ? kind : header.label)

        if kind == "List" && apiVersion == "v1" {
            SchemaChecker(report: report).check(root, Schema.list, name: "List", keyLine: root.line)
            for item in root.value("items")?.items ?? [] { read(item, file: file) }
            return
        }
        guard let (group, versions) = Self.kinds[kind], apiVersion.group == group else {
            return report.warning(root.keyLine("kind"), "kind \(kind) of \(apiVersion) is not one Kanaria reads; it is ignored")
        }
        guard versions.contains(apiVersion.version) else {
            let expected = versions.map { group.isEmpty ? $0 : "\(group)/\($0)" }.joined(separator: ", ")
            return report.error(root.keyLine("apiVersion"), "apiVersion \"\(apiVersion)\" has no kind \(kind); expected \(expected)",
                                code: IstioCode.schema)
        }
        SchemaChecker(report: report).check(root, Self.schema(of: kind), name: kind, keyLine: root.line)
        guard !name.isEmpty else {
            // Without metadata at all, the schema check has reported it already.
            if metadata != nil {
                report.error(root.keyLine("metadata"), "missing required field \"name\"", code: IstioCode.schema)
            }
            return
        }
        guard defineOnce(header, report: report) else { return }
        decode(kind: kind, root: root, header: header, report: report)
    }

    private static func schema(of kind: String) -> Shape {
        switch kind {
        case "Gateway": Schema.resource(spec: Schema.gatewaySpec, specRequired: true)
        case "VirtualService": Schema.resource(spec: Schema.virtualServiceSpec, specRequired: true)
        case "DestinationRule": Schema.resource(spec: Schema.destinationRuleSpec, specRequired: true)
        case "ServiceEntry": Schema.resource(spec: Schema.serviceEntrySpec, specRequired: true)
        case "WorkloadEntry": Schema.resource(spec: Schema.workloadEntrySpec, specRequired: true)
        case "Service": Schema.resource(spec: Schema.serviceSpec, specRequired: false)
        default: Schema.resource(spec: Schema.deploymentSpec, specRequired: true)
        }
    }

    /// Records `header`; false (with an error) when the same kind, namespace and name was defined before.
    private mutating func defineOnce(_ header: ResourceHeader, report: Reporter) -> Bool {
        let key = "\(header.kind) \(header.key)"
        if let first = defined[key] {
            report.error(header.line, "duplicate \(header.kind) \"\(header.key)\"; first defined at \(first.file):\(first.line)")
            return false
        }
        defined[key] = header
        return true
    }

    private mutating func decode(kind: String, root: Node, header: ResourceHeader, report: Reporter) {
        let spec = root.value("spec")
        switch kind {
        case "Gateway":
            documents.gateways.append(Self.gateway(spec, header, report))
        case "VirtualService":
            documents.virtualServices.append(Self.virtualService(spec, header, report))
        case "DestinationRule":
            if let rule = Self.destinationRule(spec, header, report) { documents.destinationRules.append(rule) }
        case "ServiceEntry":
            documents.serviceEntries.append(Self.serviceEntry(spec, header, report))
        case "WorkloadEntry":
            if let entry = Self.workloadEntry(spec, root, header, report) { documents.workloadEntries.append(entry) }
        case "Service":
            documents.services.append(Self.service(spec, header, report))
        default:
            documents.deployments.append(Self.deployment(spec, header))
        }
    }
}

private extension String {
    /// `networking.istio.io/v1` → `networking.istio.io`; `v1` → ``.
    var group: String {
        guard let slash = lastIndex(of: "/") else { return "" }
        return String(self[..<slash])
    }

    var version: String {
        guard let slash = lastIndex(of: "/") else { return self }
        return String(self[index(after: slash)...])
    }
}
