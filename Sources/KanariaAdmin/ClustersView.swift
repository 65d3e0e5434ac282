import KanariaRouting
import KanariaTelemetry

/// `/clusters`: each cluster's endpoints with their health and counters, in Envoy's text form
/// (`CLUSTER::ADDRESS:PORT::STAT::VALUE`) or as JSON.
enum ClustersView {
    private struct Row {
        var cluster: String
        var address: String
        var workload: String
        var version: String
        var requests: UInt64
        var errors: UInt64
        var connectionsOpened: UInt64
        var connectionsReused: UInt64
        var ejected: Bool
    }

    private static func rows(_ table: RouteTable, snapshot: TelemetrySnapshot, registry: TelemetryRegistry) -> [Row] {
        var rows: [Row] = []
        let hosts = registry.hostCounters()
        let ejected = registry.ejectedHosts()
        for cluster in table.clusters {
            for index in cluster.endpoints {
                let endpoint = table.endpoints[index]
                let id = registry.existingDestinationID(for: DestinationLabels(
                    serviceHost: cluster.serviceHost, serviceName: cluster.serviceName, serviceNamespace: cluster.namespace,
                    workload: endpoint.workload, workloadNamespace: endpoint.namespace, labels: endpoint.labels)) ?? -1
                let connections = id >= 0 && Int(id) < snapshot.upstreamConnections.count ? snapshot.upstreamConnections[Int(id)] : nil
                rows.append(Row(
                    cluster: cluster.name, address: "\(endpoint.address):\(endpoint.port)", workload: endpoint.workload,
                    version: endpoint.version,
                    requests: hosts["\(endpoint.address):\(endpoint.port)"]?.requests ?? 0,
                    errors: hosts["\(endpoint.address):\(endpoint.port)"]?.errors ?? 0,
                    connectionsOpened: connections?.opened ?? 0, connectionsReused: connections?.reused ?? 0,
                    ejected: ejected.contains("\(endpoint.address):\(endpoint.port)")))
            }
        }
        return rows
    }

    /// Envoy's `/clusters` text. Health is `healthy`, or Envoy's `/failed_outlier_check` while outlier detection has
    /// the endpoint ejected (in any worker: each worker has its own detector). Request
    /// counters are per host, as Envoy's are (a host in two clusters shows its total in both); connection counters
    /// are per destination (service and workload).
    static func text(_ table: RouteTable, snapshot: TelemetrySnapshot, registry: TelemetryRegistry) -> String {
        var out = ""
        for row in rows(table, snapshot: snapshot, registry: registry) {
            let prefix = "\(row.cluster)::\(row.address)::"
            out += prefix + (row.ejected ? "health_flags::/failed_outlier_check\n" : "health_flags::healthy\n")
            out += prefix + "rq_total::\(row.requests)\n"
            out += prefix + "rq_error::\(row.errors)\n"
            out += prefix + "cx_opened::\(row.connectionsOpened)\n"
            out += prefix + "cx_reused::\(row.connectionsReused)\n"
            out += prefix + "workload::\(row.workload)\n"
            out += prefix + "version::\(row.version)\n"
        }
        for cluster in table.clusters where cluster.endpoints.isEmpty {
            out += "\(cluster.name)::no endpoints (503 no healthy upstream)\n"
        }
        return out
    }

    static func json(_ table: RouteTable, snapshot: TelemetrySnapshot, registry: TelemetryRegistry) -> String {
        let all = rows(table, snapshot: snapshot, registry: registry)
        var json = JSONWriter()
        json.object { json in
            json.member("clusters", array: { json in
                for cluster in table.clusters {
                    json.object { json in
                        json.member("name", cluster.name)
                        json.member("endpoints", array: { json in
                            for row in all where row.cluster == cluster.name {
                                json.object { json in
                                    json.member("address", row.address)
                                    json.member("health", row.ejected ? "ejected" : "healthy")
                                    json.member("workload", row.workload)
                                    json.member("version", row.version)
                                    json.member("requests", Int(row.requests))
                                    json.member("errors", Int(row.errors))
                                    json.member("connectionsOpened", Int(row.connectionsOpened))
                                    json.member("connectionsReused", Int(row.connectionsReused))
                                }
                            }
                        })
                    }
                }
            })
        }
        return json.text
    }
}
