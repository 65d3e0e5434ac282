import Foundation
import KanariaRouting
import Yams

/// A Gateway server port Kanaria listens on: what `kanaria run` binds, one per distinct port.
public struct GatewayServer: Sendable, Equatable {
    /// `namespace/name` of the (first) Gateway that declares the port.
    public var gateway: String
    public var port: Int
    public var portName: String
    /// The first server's protocol: plain-text HTTP, HTTP2 and GRPC servers share a port as Istio merges them;
    /// HTTPS servers share one only with each other.
    public var serverProtocol: ServerProtocol
    /// The hosts of every server on this port, as written.
    public var hosts: [String]

    public init(gateway: String, port: Int, portName: String, serverProtocol: ServerProtocol, hosts: [String]) {
        self.gateway = gateway
        self.port = port
        self.portName = portName
        self.serverProtocol = serverProtocol
        self.hosts = hosts
    }

    /// `protocol` is Istio's name (`HTTP`, `https`, …: any case); one Kanaria does not serve reads as HTTP.
    public init(gateway: String, port: Int, portName: String, protocol: String, hosts: [String]) {
        self.init(gateway: gateway, port: port, portName: portName,
                  serverProtocol: ServerProtocol(rawValue: `protocol`.uppercased()) ?? .http, hosts: hosts)
    }

    /// Istio's name of `serverProtocol`: `HTTP`, `HTTPS`, `HTTP2` or `GRPC`.
    public var `protocol`: String { serverProtocol.rawValue }
}

/// The outcome of loading a configuration: every problem found and, when there is no error, the compiled table.
public struct LoadedConfiguration: Sendable {
    /// Errors and warnings by file (in reading order), then by line.
    public var diagnostics: [Diagnostic]
    public var hasErrors: Bool
    /// The compiled routing table; nil when there are errors (a bad file never replaces a good snapshot).
    public var table: RouteTable?
    /// One per distinct Gateway server port; `table.listeners` has the same ports in the same order.
    public var servers: [GatewayServer]
    /// What was checked: files, resources by kind, listeners, routes, endpoints per subset.
    public var summary: ValidationSummary

    public var errors: [Diagnostic] { diagnostics.filter(\.isError) }
    public var warnings: [Diagnostic] { diagnostics.filter { !$0.isError } }
}

/// Loads Istio and Kubernetes YAML unchanged, validates it, and compiles it into a `RouteTable`.
///
/// Reads Gateway, VirtualService, DestinationRule, ServiceEntry, WorkloadEntry (networking.istio.io v1alpha3,
/// v1beta1, v1), Service (v1) and Deployment (apps/v1); other kinds are warned about and ignored.
public enum ConfigLoader {
    /// Loads files and folders: a folder contributes its `*.yaml` and `*.yml` files (not its subfolders), sorted
    /// by name; every file may hold several documents separated by `---`. Files are read in the order given.
    public static func load(paths: [String]) -> LoadedConfiguration {
        let log = DiagnosticLog()
        var sources: [(name: String, text: String)] = []
        for path in paths {
            for file in files(at: path, log: log) {
                log.register(file: file)
                do {
                    sources.append((file, try String(contentsOfFile: file, encoding: .utf8)))
                } catch {
                    log.add(Diagnostic(severity: .error, file: file, line: 0, resource: "",
                                       message: "cannot read the file: \(error.localizedDescription)"))
                }
            }
        }
        if paths.isEmpty {
            log.add(Diagnostic(severity: .error, file: "kanaria", line: 0, resource: "", message: "no configuration files given"))
        }
        return load(sources: sources, log: log)
    }

    /// Loads YAML texts, each named (in diagnostics) by `name`: the demo's embedded configuration and tests.
    public static func load(sources: [(name: String, text: String)]) -> LoadedConfiguration {
        load(sources: sources, log: DiagnosticLog())
    }

    static func load(sources: [(name: String, text: String)], log: DiagnosticLog) -> LoadedConfiguration {
        var reader = DocumentReader(log: log)
        for source in sources {
            log.register(file: source.name)
            for document in YAMLReader.documents(in: source.text, file: source.name, log: log) {
                reader.read(document, file: source.name)
            }
        }
        let compiled = ConfigCompiler(documents: reader.documents, log: log).compile()
        let hasErrors = log.hasErrors
        let diagnostics = log.sorted
        let table = hasErrors ? nil : compiled.table
        return LoadedConfiguration(diagnostics: diagnostics, hasErrors: hasErrors, table: table, servers: compiled.servers,
                                   summary: ValidationSummary(files: sources.map(\.name), documents: reader.documents,
                                                              table: table, diagnostics: diagnostics))
    }

    /// The YAML files `path` stands for: itself, or a folder's `*.yaml` / `*.yml` sorted by name.
    static func files(at path: String, log: DiagnosticLog) -> [String] {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
            log.add(Diagnostic(severity: .error, file: path, line: 0, resource: "", message: "no such file or folder"))
            return []
        }
        guard isFolder.boolValue else { return [path] }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        let yaml = names.filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.sorted()
        if yaml.isEmpty {
            log.add(Diagnostic(severity: .error, file: path, line: 0, resource: "", message: "the folder has no *.yaml or *.yml files"))
        }
        let folder = path.hasSuffix("/") ? String(path.dropLast()) : path
        return yaml.map { "\(folder)/\($0)" }.filter { file in
            var isSubfolder: ObjCBool = false
            return FileManager.default.fileExists(atPath: file, isDirectory: &isSubfolder) && !isSubfolder.boolValue
        }
    }
}
