import Foundation
import KanariaTelemetry
import Testing

/// The Prometheus exposition: Istio's families, labels and values, and Kanaria's own.
@Suite("Prometheus text")
struct PrometheusTextTests {
    static let source = #"reporter="source",source_workload="istio-ingressgateway",source_canonical_service="istio-ingressgateway",source_canonical_revision="latest",source_workload_namespace="istio-system",source_principal="unknown",source_app="istio-ingressgateway",source_version="unknown",source_cluster="Kubernetes","#
    static let v1 = #"destination_workload="nodejs-v1",destination_workload_namespace="default",destination_principal="unknown",destination_app="nodejs",destination_version="v1",destination_service="nodejs.default.svc.cluster.local",destination_canonical_service="nodejs",destination_canonical_revision="v1",destination_service_name="nodejs",destination_service_namespace="default",destination_cluster="Kubernetes""#

    /// One request to v1 and a few of Kanaria's own counts, printed exactly.
    @Test func exactTextForOneRequest() {
        let registry = TelemetryRegistry(workers: 1)
        let v1 = registry.destinationID(for: Tutorial.v1)
        let shard = registry.shard(forWorker: 0)
        shard.downstreamConnectionAccepted()
        shard.downstreamConnectionAccepted()
        shard.downstreamConnectionClosed()
        shard.requestStarted()
        shard.requestStarted()
        shard.requestFinished()
        shard.upstreamConnectionOpened(destination: v1)
        for _ in 0..<3 { shard.upstreamConnectionReused(destination: v1) }
        shard.record(v1, code: 200, micros: 3_500, requestBytes: 120, responseBytes: 1000)
        registry.setConfigGeneration(1)
        registry.recordConfigReload(succeeded: true, generation: 2)
        registry.recordConfigReload(succeeded: false)

        let l = Self.source + Self.v1 + #",request_protocol="http",response_code="200",grpc_response_status="",response_flags="-",connection_security_policy="unknown""#
        let expected = """
            # HELP istio_requests_total Requests handled by the proxy (Istio standard metric).
            # TYPE istio_requests_total counter
            istio_requests_total{\(l)} 1
            # HELP istio_request_duration_milliseconds Duration of requests in milliseconds (Istio standard metric).
            # TYPE istio_request_duration_milliseconds histogram
            istio_request_duration_milliseconds_bucket{\(l),le="0.5"} 0
            istio_request_duration_milliseconds_bucket{\(l),le="1"} 0
            istio_request_duration_milliseconds_bucket{\(l),le="5"} 1
            istio_request_duration_milliseconds_bucket{\(l),le="10"} 1
            istio_request_duration_milliseconds_bucket{\(l),le="25"} 1
            istio_request_duration_milliseconds_bucket{\(l),le="50"} 1
            istio_request_duration_milliseconds_bucket{\(l),le="100"} 1
            istio_request_duration_milliseconds_bucket{\(l),le="250"} 1
            istio_request_duration_milliseconds_bucket{\(l),le="500"} 1
            istio_request_duration_milliseconds_bucket{\(l),le="1000"} 1
            istio_request_duration_milliseconds_bucket{\(l),le="2500"} 1
            istio_request_duration_milliseconds_bucket{\(l),le="5000"} 1
            istio_request_duration_milliseconds_bucket{\(l),le="10000"} 1
            istio_request_duration_milliseconds_bucket{\(l),le="30000"} 1
            istio_request_duration_milliseconds_bucket{\(l),le="60000"} 1
            istio_request_duration_milliseconds_bucket{\(l),le="300000"} 1
            istio_request_duration_milliseconds_bucket{\(l),le="600000"} 1
            istio_request_duration_milliseconds_bucket{\(l),le="1800000"} 1
            istio_request_duration_milliseconds_bucket{\(l),le="3600000"} 1
            istio_request_duration_milliseconds_bucket{\(l),le="+Inf"} 1
            istio_request_duration_milliseconds_sum{\(l)} 3.5
            istio_request_duration_milliseconds_count{\(l)} 1
            # HELP istio_request_bytes Sizes of requests in bytes, headers included (Istio standard metric).
            # TYPE istio_request_bytes histogram
            istio_request_bytes_bucket{\(l),le="0.5"} 0
            istio_request_bytes_bucket{\(l),le="1"} 0
            istio_request_bytes_bucket{\(l),le="5"} 0
            istio_request_bytes_bucket{\(l),le="10"} 0
            istio_request_bytes_bucket{\(l),le="25"} 0
            istio_request_bytes_bucket{\(l),le="50"} 0
            istio_request_bytes_bucket{\(l),le="100"} 0
            istio_request_bytes_bucket{\(l),le="250"} 1
            istio_request_bytes_bucket{\(l),le="500"} 1
            istio_request_bytes_bucket{\(l),le="1000"} 1
            istio_request_bytes_bucket{\(l),le="2500"} 1
            istio_request_bytes_bucket{\(l),le="5000"} 1
            istio_request_bytes_bucket{\(l),le="10000"} 1
            istio_request_bytes_bucket{\(l),le="30000"} 1
            istio_request_bytes_bucket{\(l),le="60000"} 1
            istio_request_bytes_bucket{\(l),le="300000"} 1
            istio_request_bytes_bucket{\(l),le="600000"} 1
            istio_request_bytes_bucket{\(l),le="1800000"} 1
            istio_request_bytes_bucket{\(l),le="3600000"} 1
            istio_request_bytes_bucket{\(l),le="+Inf"} 1
            istio_request_bytes_sum{\(l)} 120
            istio_request_bytes_count{\(l)} 1
            # HELP istio_response_bytes Sizes of responses in bytes, headers included (Istio standard metric).
            # TYPE istio_response_bytes histogram
            istio_response_bytes_bucket{\(l),le="0.5"} 0
            istio_response_bytes_bucket{\(l),le="1"} 0
            istio_response_bytes_bucket{\(l),le="5"} 0
            istio_response_bytes_bucket{\(l),le="10"} 0
            istio_response_bytes_bucket{\(l),le="25"} 0
            istio_response_bytes_bucket{\(l),le="50"} 0
            istio_response_bytes_bucket{\(l),le="100"} 0
            istio_response_bytes_bucket{\(l),le="250"} 0
            istio_response_bytes_bucket{\(l),le="500"} 0
            istio_response_bytes_bucket{\(l),le="1000"} 1
            istio_response_bytes_bucket{\(l),le="2500"} 1
            istio_response_bytes_bucket{\(l),le="5000"} 1
            istio_response_bytes_bucket{\(l),le="10000"} 1
            istio_response_bytes_bucket{\(l),le="30000"} 1
            istio_response_bytes_bucket{\(l),le="60000"} 1
            istio_response_bytes_bucket{\(l),le="300000"} 1
            istio_response_bytes_bucket{\(l),le="600000"} 1
            istio_response_bytes_bucket{\(l),le="1800000"} 1
            istio_response_bytes_bucket{\(l),le="3600000"} 1
            istio_response_bytes_bucket{\(l),le="+Inf"} 1
            istio_response_bytes_sum{\(l)} 1000
            istio_response_bytes_count{\(l)} 1
            # HELP kanaria_downstream_connections_accepted_total Client connections accepted.
            # TYPE kanaria_downstream_connections_accepted_total counter
            kanaria_downstream_connections_accepted_total 2
            # HELP kanaria_downstream_connections_active Client connections open now.
            # TYPE kanaria_downstream_connections_active gauge
            kanaria_downstream_connections_active 1
            # HELP kanaria_requests_in_flight Requests being handled now.
            # TYPE kanaria_requests_in_flight gauge
            kanaria_requests_in_flight 1
            # HELP kanaria_upstream_connections_opened_total Upstream connections opened, by destination.
            # TYPE kanaria_upstream_connections_opened_total counter
            kanaria_upstream_connections_opened_total{\(Self.v1)} 1
            # HELP kanaria_upstream_connections_reused_total Requests sent on a pooled upstream connection that was reused, by destination.
            # TYPE kanaria_upstream_connections_reused_total counter
            kanaria_upstream_connections_reused_total{\(Self.v1)} 3
            # HELP kanaria_config_reloads_total Configuration reloads, by result.
            # TYPE kanaria_config_reloads_total counter
            kanaria_config_reloads_total{result="success"} 1
            kanaria_config_reloads_total{result="failure"} 1
            # HELP kanaria_config_generation Generation of the configuration in use.
            # TYPE kanaria_config_generation gauge
            kanaria_config_generation 2
            # HELP kanaria_metric_series_dropped_total Requests counted in an overflow series because a worker's series table was full.
            # TYPE kanaria_metric_series_dropped_total counter
            kanaria_metric_series_dropped_total 0

            """
        let text = registry.prometheusText()
        #expect(text == expected)
        if text != expected {
            for (got, want) in zip(text.split(separator: "\n"), expected.split(separator: "\n")) where got != want {
                Issue.record("first difference:\n got: \(got)\nwant: \(want)")
                break
            }
        }
    }

    /// A request with no route, one with no healthy upstream and a gRPC one: the labels Istio's gateway gives them.
    @Test func unroutedUnhealthyAndGRPCRequests() {
        let registry = TelemetryRegistry(workers: 1)
        let service = registry.destinationID(for: Tutorial.serviceOnly)
        let v2 = registry.destinationID(for: Tutorial.v2)
        let shard = registry.shard(forWorker: 0)
        shard.record(0, code: 404, flags: .NR, micros: 200)
        shard.record(service, code: 503, flags: .UH, micros: 300)
        shard.recordRequest(destination: v2, protocol: .grpc, responseCode: 200, grpcStatus: 14, flags: [],
                            durationMicroseconds: 1_234, requestBytes: 10, responseBytes: 20)
        let lines = registry.prometheusText().split(separator: "\n").filter { $0.hasPrefix("istio_requests_total{") }
        #expect(lines.count == 3)
        #expect(lines[0].contains(#"destination_workload="unknown",destination_workload_namespace="unknown",destination_principal="unknown",destination_app="unknown",destination_version="unknown",destination_service="unknown",destination_canonical_service="unknown",destination_canonical_revision="unknown",destination_service_name="unknown",destination_service_namespace="unknown",destination_cluster="unknown",request_protocol="http",response_code="404",grpc_response_status="",response_flags="NR","#))
        #expect(lines[1].contains(#"destination_workload="unknown",destination_workload_namespace="unknown",destination_principal="unknown",destination_app="unknown",destination_version="unknown",destination_service="nodejs.default.svc.cluster.local",destination_canonical_service="unknown",destination_canonical_revision="unknown",destination_service_name="nodejs",destination_service_namespace="default",destination_cluster="unknown",request_protocol="http",response_code="503",grpc_response_status="",response_flags="UH","#))
        #expect(lines[2].contains(#"destination_version="v2","#))
        #expect(lines[2].contains(#"request_protocol="grpc",response_code="200",grpc_response_status="14",response_flags="-","#))
        #expect(registry.prometheusText().contains("istio_request_duration_milliseconds_sum{" + Self.source + #"destination_workload="nodejs-v2""#))
        #expect(registry.prometheusText().contains(#"connection_security_policy="unknown"} 1.234"#))
    }

    /// Label values are escaped as the text format requires: backslash, double quote and newline.
    @Test func labelValuesAreEscaped() {
        let registry = TelemetryRegistry(workers: 1, sourceWorkload: #"gate"way\1"#)
        var odd = Tutorial.v1
        odd.workload = "line\nbreak"
        let id = registry.destinationID(for: odd)
        registry.shard(forWorker: 0).record(id)
        let text = registry.prometheusText()
        #expect(text.contains(#"source_workload="gate\"way\\1""#))
        #expect(text.contains(#"destination_workload="line\nbreak""#))
        #expect(!text.contains("line\nbreak"))
    }

    /// The same key recorded by several workers is one series, summed; a destination id is the same for the same labels.
    @Test func workersMergeIntoOneSeries() {
        let registry = TelemetryRegistry(workers: 3)
        let v1 = registry.destinationID(for: Tutorial.v1)
        #expect(registry.destinationID(for: Tutorial.v1) == v1)
        #expect(registry.destinationID(for: .unknown) == 0)
        #expect(registry.existingDestinationID(for: Tutorial.v1) == v1)
        #expect(registry.existingDestinationID(for: Tutorial.v2) == nil)
        for worker in 0..<3 { registry.shard(forWorker: worker).record(v1, micros: 2_000) }
        let snapshot = registry.snapshot()
        #expect(snapshot.series.count == 1)
        #expect(snapshot.series[0].requests == 3)
        #expect(snapshot.series[0].duration.sum == 6)
        #expect(snapshot.series[0].destination == Tutorial.v1)
        let lines = registry.prometheusText().split(separator: "\n").filter { $0.hasPrefix("istio_requests_total{") }
        let expected = "istio_requests_total{" + Self.source + Self.v1
            + #",request_protocol="http",response_code="200",grpc_response_status="",response_flags="-",connection_security_policy="unknown"} 3"#
        #expect(lines.map(String.init) == [expected])
    }

    /// An id the registry never handed out counts as `unknown`, merged with the real unknown series: never a
    /// duplicate label set.
    @Test func unknownIdsCountAsUnknown() {
        let registry = TelemetryRegistry(workers: 2)
        registry.shard(forWorker: 0).record(0, code: 404, flags: .NR)
        registry.shard(forWorker: 1).record(999, code: 404, flags: .NR)
        registry.shard(forWorker: 1).record(-5, code: 404, flags: .NR)
        let snapshot = registry.snapshot()
        #expect(snapshot.series.count == 1)
        #expect(snapshot.series.first?.requests == 3)
        #expect(snapshot.series.first?.destination == .unknown)
    }

    /// `promtool check metrics` finds nothing but the unit lint that Istio's duration name carries.
    @Test func promtoolFindsOnlyTheMillisecondsLint() throws {
        let registry = TelemetryRegistry(workers: 2)
        let v1 = registry.destinationID(for: Tutorial.v1)
        let v2 = registry.destinationID(for: Tutorial.v2)
        var odd = Tutorial.v2
        odd.version = #"we"ird\"#
        let weird = registry.destinationID(for: odd)
        registry.shard(forWorker: 0).record(v1)
        registry.shard(forWorker: 1).record(v2, code: 503, flags: [.UF, .URX])
        registry.shard(forWorker: 1).record(weird, code: 0, flags: .DC)
        registry.shard(forWorker: 0).record(0, code: 404, flags: .NR)
        registry.shard(forWorker: 0).upstreamConnectionOpened(destination: v1)
        registry.recordConfigReload(succeeded: true, generation: 3)
        guard let (status, output) = try run("promtool", ["check", "metrics"], input: registry.prometheusText()) else {
            Issue.record("promtool is not installed: apt-get install prometheus (Debian's package carries promtool)")
            return
        }
        let problems = output.split(separator: "\n").filter { !$0.isEmpty }
        #expect(problems == [#"istio_request_duration_milliseconds use base unit "seconds" instead of "milliseconds""#],
                "promtool exited \(status): \(output)")
    }
}
