import KanariaRouting
import Yams

extension DocumentReader {
    static func gateway(_ spec: Node?, _ header: ResourceHeader, _ report: Reporter) -> GatewayResource {
        var servers: [GatewayServerSpec] = []
        for node in spec?.value("servers")?.items ?? [] {
            guard let port = node.value("port"), let numberNode = port.value("number"), let number = numberNode.integer,
                  let protocolNode = port.value("protocol"), let protocolName = protocolNode.text else {
                continue  // reported by the schema check
            }
            guard (1...65535).contains(number) else {
                report.error(numberNode.line, "port number \(number) is out of range 1-65535", code: IstioCode.schema)
                continue
            }
            var server = GatewayServerSpec(port: number, portName: port.value("name")?.text ?? "",
                                           protocolName: protocolName.uppercased(), protocolLine: protocolNode.line,
                                           hosts: node.value("hosts")?.locatedStrings ?? [], line: node.line,
                                           httpsRedirectLine: node.line)
            if let served = ServerProtocol(rawValue: server.protocolName) {
                server.serving = served
                serverTLS(node, &server, header, report)
            } else {
                report.warning(server.protocolLine, "protocol \"\(protocolName)\" is not served yet (only HTTP, HTTPS, HTTP2 and GRPC for now); this server is ignored")
            }
            servers.append(server)
        }
        return GatewayResource(header: header, servers: servers)
    }
}
