import KanariaRouting

/// The compiled configuration as JSON, for `/config_dump`: what the proxy really runs (after defaults, host
/// resolution and any live weight change), not the files as written.
enum ConfigDump {
    static func json(_ state: AdminConfigurationState) -> String {
        let table = state.table
        var json = JSONWriter()
        json.object { json in
            json.member("generation", state.generation)
            json.member("sources", array: { json in for file in state.sources { json.value(file) } })
            json.member("liveWeightChanges", array: { json in
                for (route, weights) in state.weightOverrides.sorted(by: { $0.key < $1.key }) {
                    json.object { json in
                        json.member("route", route)
                        json.member("weights", array: { json in for weight in weights { json.value(weight) } })
                    }
                }
            })
            json.member("liveWeightChangesLastUntil", "the next reload of the files, which replaces them")
            json.member("listeners", array: { json in
                for listener in table.listeners {
                    json.object { json in
                        json.member("port", listener.port)
                        json.member("gateway", listener.gateway)
                        json.member("virtualHosts", array: { json in
                            for host in listener.virtualHosts {
                                json.object { json in
                                    json.member("domains", array: { json in for domain in host.domains { json.value(domain) } })
                                    json.member("routes", array: { json in for route in host.routes { json.value(route) } })
                                }
                            }
                        })
                    }
                }
            })
            json.member("routes", array: { json in
                for (index, route) in table.routes.enumerated() { routeJSON(index, route, table, &json) }
            })
            json.member("clusters", array: { json in
                for cluster in table.clusters {
                    json.object { json in
                        json.member("name", cluster.name)
                        json.member("service", cluster.serviceHost)
                        json.member("subset", cluster.subset)
                        json.member("port", cluster.port)
                        json.member("protocol", cluster.upstreamProtocol.rawValue)
                        json.member("endpoints", array: { json in
                            for index in cluster.endpoints {
                                json.value("\(table.endpoints[index].address):\(table.endpoints[index].port)")
                            }
                        })
                    }
                }
            })
            json.member("endpoints", array: { json in
                for endpoint in table.endpoints {
                    json.object { json in
                        json.member("address", endpoint.address)
                        json.member("port", endpoint.port)
                        json.member("workload", endpoint.workload)
                        json.member("namespace", endpoint.namespace)
                        json.member("labels", object: { json in
                            for (name, value) in endpoint.labels.sorted(by: { $0.key < $1.key }) { json.member(name, value) }
                        })
                    }
                }
            })
        }
        return json.text
    }

    /// One route with its matches and weighted destinations (shared by `/config_dump` and `/routes`).
    static func routeJSON(_ index: Int, _ route: HTTPRoute, _ table: RouteTable, _ json: inout JSONWriter) {
        json.object { json in
            json.member("index", index)
            json.member("name", route.name)
            json.member("virtualService", route.virtualService)
            json.member("matches", array: { json in
                for match in route.matches {
                    json.object { json in
                        if let name = match.name { json.member("name", name) }
                        if let uri = match.uri { json.member("uri", uri.description + (match.ignoreUriCase ? " (ignoring case)" : "")) }
                        if let authority = match.authority { json.member("authority", authority.description) }
                        if let method = match.method { json.member("method", method.description) }
                        if let port = match.port { json.member("port", port) }
                        if !match.headers.isEmpty {
                            json.member("headers", object: { json in
                                for header in match.headers { json.member(String(decoding: header.name, as: UTF8.self), header.value.description) }
                            })
                        }
                        if !match.withoutHeaders.isEmpty {
                            json.member("withoutHeaders", object: { json in
                                for header in match.withoutHeaders { json.member(String(decoding: header.name, as: UTF8.self), header.value.description) }
                            })
                        }
                    }
                }
            })
            json.member("destinations", array: { json in
                for destination in route.destinations {
                    let cluster = table.clusters[destination.cluster]
                    json.object { json in
                        json.member("cluster", cluster.name)
                        json.member("host", cluster.serviceHost)
                        json.member("subset", cluster.subset)
                        json.member("weight", destination.weight)
                        json.member("share", Double(destination.weight) / Double(max(route.totalWeight, 1)))
                    }
                }
            })
        }
    }
}
