/// The Prometheus text exposition (format 0.0.4) of a registry, as `/stats/prometheus` serves it.
extension TelemetryRegistry {
    /// Every metric as Prometheus text, all workers merged, one `# HELP` and `# TYPE` per family. Safe to call from any
    /// thread while workers record.
    ///
    /// Istio's four HTTP families come first, with Istio's labels in the order Istio's stats filter writes them; each
    /// series line of `istio_requests_total` looks like
    ///
    ///     istio_requests_total{reporter="source",source_workload="istio-ingressgateway",…,destination_version="v1",
    ///       …,request_protocol="http",response_code="200",grpc_response_status="",response_flags="-",
    ///       connection_security_policy="unknown"} 400
    ///
    /// then Kanaria's own `kanaria_*` families.
    public func prometheusText() -> String {
        var bytes: [UInt8] = []
        writePrometheusText(into: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends `prometheusText()` to `buffer`.
    public func writePrometheusText(into buffer: inout [UInt8]) {
        let merged = merge()
        let labels = merged.keys.indices.map { seriesLabels(merged, $0) }
        typealias Cell = MetricShard.Cell

        buffer.appendFamily("istio_requests_total", type: "counter",
                            help: "Requests handled by the proxy (Istio standard metric).")
        for (i, text) in labels.enumerated() {
            buffer.appendSample("istio_requests_total", labels: text) { $0.appendDecimal(merged.value(i, Cell.requests)) }
        }
        buffer.appendFamily("istio_request_duration_milliseconds", type: "histogram",
                            help: "Duration of requests in milliseconds (Istio standard metric).")
        for (i, text) in labels.enumerated() {
            appendHistogram("istio_request_duration_milliseconds", labels: text, merged: merged, series: i,
                            buckets: Cell.durationBuckets) { $0.appendThousandths(merged.value(i, Cell.durationSum)) }
        }
        buffer.appendFamily("istio_request_bytes", type: "histogram",
                            help: "Sizes of requests in bytes, headers included (Istio standard metric).")
        for (i, text) in labels.enumerated() {
            appendHistogram("istio_request_bytes", labels: text, merged: merged, series: i,
                            buckets: Cell.requestBytesBuckets) { $0.appendDecimal(merged.value(i, Cell.requestBytesSum)) }
        }
        buffer.appendFamily("istio_response_bytes", type: "histogram",
                            help: "Sizes of responses in bytes, headers included (Istio standard metric).")
        for (i, text) in labels.enumerated() {
            appendHistogram("istio_response_bytes", labels: text, merged: merged, series: i,
                            buckets: Cell.responseBytesBuckets) { $0.appendDecimal(merged.value(i, Cell.responseBytesSum)) }
        }
        writeOwnFamilies(merged: merged, into: &buffer)

        func appendHistogram(_ name: StaticString, labels: [UInt8], merged: Merged, series: Int, buckets: Int,
                             sum: (inout [UInt8]) -> Void) {
            var cumulative: UInt64 = 0
            for bucket in 0..<HistogramBuckets.count {
                cumulative &+= merged.value(series, buckets + bucket)
                buffer.appendASCII(name)
                buffer.appendASCII("_bucket{")
                buffer.append(contentsOf: labels)
                buffer.appendASCII(",le=\"")
                buffer.appendText(HistogramBuckets.labels[bucket])
                buffer.appendASCII("\"} ")
                buffer.appendDecimal(cumulative)
                buffer.append(UInt8(ascii: "\n"))
            }
            buffer.appendASCII(name)
            buffer.appendASCII("_sum{")
            buffer.append(contentsOf: labels)
            buffer.appendASCII("} ")
            sum(&buffer)
            buffer.append(UInt8(ascii: "\n"))
            buffer.appendASCII(name)
            buffer.appendASCII("_count{")
            buffer.append(contentsOf: labels)
            buffer.appendASCII("} ")
            buffer.appendDecimal(cumulative)
            buffer.append(UInt8(ascii: "\n"))
        }
    }

    /// All labels of series `i`, without braces.
    private func seriesLabels(_ merged: Merged, _ i: Int) -> [UInt8] {
        let key = merged.keys[i]
        var text = sourceLabelText
        text.append(contentsOf: merged.destinationText[Int(key.destination)])
        text.appendASCII("request_protocol=\"")
        text.appendText(key.requestProtocol.name)
        text.appendASCII("\",response_code=\"")
        text.appendDecimal(key.responseCode)
        text.appendASCII("\",grpc_response_status=\"")
        if key.grpcStatus >= 0 { text.appendDecimal(key.grpcStatus) }
        text.appendASCII("\",response_flags=\"")
        key.flags.append(to: &text)
        text.appendASCII("\",")
        text.appendLabel("connection_security_policy", source.connectionSecurityPolicy, last: true)
        return text
    }

    private func writeOwnFamilies(merged: Merged, into buffer: inout [UInt8]) {
        let own = ownCounters(destinations: merged.destinations.count)
        let config = configCounters
        buffer.appendFamily("kanaria_downstream_connections_accepted_total", type: "counter",
                            help: "Client connections accepted.")
        buffer.appendSample("kanaria_downstream_connections_accepted_total", labels: []) { $0.appendDecimal(own.accepted) }
        buffer.appendFamily("kanaria_downstream_connections_active", type: "gauge", help: "Client connections open now.")
        buffer.appendSample("kanaria_downstream_connections_active", labels: []) { $0.appendDecimal(own.active) }
        buffer.appendFamily("kanaria_requests_in_flight", type: "gauge", help: "Requests being handled now.")
        buffer.appendSample("kanaria_requests_in_flight", labels: []) { $0.appendDecimal(own.inFlight) }
        buffer.appendFamily("kanaria_upstream_connections_opened_total", type: "counter",
                            help: "Upstream connections opened, by destination.")
        for (id, counts) in own.upstream.enumerated() where counts.opened > 0 {
            var labels = merged.destinationText[id]
            labels.removeLast()  // the trailing comma
            buffer.appendSample("kanaria_upstream_connections_opened_total", labels: labels) {
                $0.appendDecimal(counts.opened)
            }
        }
        buffer.appendFamily("kanaria_upstream_connections_reused_total", type: "counter",
                            help: "Requests sent on a pooled upstream connection that was reused, by destination.")
        for (id, counts) in own.upstream.enumerated() where counts.reused > 0 {
            var labels = merged.destinationText[id]
            labels.removeLast()
            buffer.appendSample("kanaria_upstream_connections_reused_total", labels: labels) {
                $0.appendDecimal(counts.reused)
            }
        }
        writeClusterFamilies(into: &buffer)
        buffer.appendFamily("kanaria_config_reloads_total", type: "counter", help: "Configuration reloads, by result.")
        buffer.appendSample("kanaria_config_reloads_total", labels: Array("result=\"success\"".utf8)) {
            $0.appendDecimal(config.succeeded)
        }
        buffer.appendSample("kanaria_config_reloads_total", labels: Array("result=\"failure\"".utf8)) {
            $0.appendDecimal(config.failed)
        }
        buffer.appendFamily("kanaria_config_generation", type: "gauge",
                            help: "Generation of the configuration in use.")
        buffer.appendSample("kanaria_config_generation", labels: []) { $0.appendDecimal(config.generation) }
        buffer.appendFamily("kanaria_metric_series_dropped_total", type: "counter",
                            help: "Requests counted in an overflow series because a worker's series table was full.")
        buffer.appendSample("kanaria_metric_series_dropped_total", labels: []) { $0.appendDecimal(own.dropped) }
    }

    /// Envoy's per-cluster stats as its Prometheus endpoint prints them: `envoy_cluster_<stat>{cluster_name="…"}`.
    private func writeClusterFamilies(into buffer: inout [UInt8]) {
        let stats = clusterStats()
        guard !stats.isEmpty else { return }
        for stat in ClusterStat.allCases {
            buffer.appendFamily(stat.prometheusName, type: "counter", help: stat.help)
            for (cluster, counts) in stats {
                var labels: [UInt8] = []
                labels.appendLabel("cluster_name", cluster, last: true)
                buffer.appendSample(stat.prometheusName, labels: labels) { $0.appendDecimal(counts[stat.rawValue]) }
            }
        }
    }
}

extension Array where Element == UInt8 {
    /// `# HELP name help` and `# TYPE name type`.
    mutating func appendFamily(_ name: StaticString, type: StaticString, help: StaticString) {
        appendASCII("# HELP ")
        appendASCII(name)
        append(UInt8(ascii: " "))
        appendASCII(help)
        appendASCII("\n# TYPE ")
        appendASCII(name)
        append(UInt8(ascii: " "))
        appendASCII(type)
        append(UInt8(ascii: "\n"))
    }

    /// `name{labels} value` (no braces when there are no labels).
    mutating func appendSample(_ name: StaticString, labels: [UInt8], value: (inout [UInt8]) -> Void) {
        appendASCII(name)
        if !labels.isEmpty {
            append(UInt8(ascii: "{"))
            append(contentsOf: labels)
            append(UInt8(ascii: "}"))
        }
        append(UInt8(ascii: " "))
        value(&self)
        append(UInt8(ascii: "\n"))
    }

    /// `name="value",` with the value escaped as the text format requires: `\` → `\\`, `"` → `\"`, newline → `\n`.
    mutating func appendLabel(_ name: StaticString, _ value: String, last: Bool = false) {
        appendASCII(name)
        appendASCII("=\"")
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "\\"): appendASCII("\\\\")
            case UInt8(ascii: "\""): appendASCII("\\\"")
            case UInt8(ascii: "\n"): appendASCII("\\n")
            default: append(byte)
            }
        }
        append(UInt8(ascii: "\""))
        if !last { append(UInt8(ascii: ",")) }
    }
}
