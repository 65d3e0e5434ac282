import KanariaHTTP
import KanariaPosix
import KanariaTelemetry

/// What is measured of one request, recorded once when it ends (Istio's stats filter does the same at the end of
/// the stream).
struct ExchangeMeasure {
    /// A request is being measured (started and not yet recorded).
    var open = false
    var startNanoseconds: UInt64 = 0
    /// When the upstream's response head arrived (for the upstream service time); 0 if it did not.
    var upstreamAnsweredNanoseconds: UInt64 = 0
    /// Bytes received from the client for this request, head included.
    var requestBytes: UInt64 = 0
    /// Bytes sent to the client for this response, head included.
    var responseBytes: UInt64 = 0
    /// The request head's and the response head's sizes: the access log counts body bytes only, as Envoy does.
    var requestHeadBytes: UInt64 = 0
    var responseHeadBytes: UInt64 = 0
    var responseCode = 0
    var flags: ResponseFlags = []
    /// The metrics destination (an id interned in the registry); 0 is `unknown`.
    var destination: Int32 = 0
    /// Envoy's %RESPONSE_CODE_DETAILS%: why this response code (`via_upstream`, `route_not_found`, …).
    var details: StaticString = "-"
    /// Istio's request_protocol: `grpc` for gRPC requests, else `http`.
    var requestProtocol = RequestProtocol.http
    /// The response's grpc-status, -1 when there was none.
    var grpcStatus = -1
    /// The endpoint's host id for per-host counters; -1 before one is chosen.
    var host: Int32 = -1
}

/// The metrics and the access-log line of one exchange, shared by HTTP/1.1 connections and HTTP/2 streams.
struct ExchangeRecord {
    var measure = ExchangeMeasure()
    /// The access-log line being gathered; nil when access logging is off.
    var log: AccessLogEntry?

    init(logging: Bool) {
        log = logging ? AccessLogEntry() : nil
    }

    /// Starts measuring a request whose head (`headBytes` long) has been parsed.
    mutating func begin(worker: Worker, headBytes: Int) {
        if measure.open { end(worker: worker) }
        measure = ExchangeMeasure(open: true, startNanoseconds: monotonicNanoseconds(), requestBytes: UInt64(headBytes),
                                  requestHeadBytes: UInt64(headBytes))
        worker.shard.requestStarted()
    }

    /// Records the request in the metrics (and the access log, when on). Called once per request, however it ends.
    mutating func end(worker: Worker) {
        guard measure.open else { return }
        measure.open = false
        let micros = (monotonicNanoseconds() &- measure.startNanoseconds) / 1000
        worker.shard.recordRequest(destination: measure.destination, protocol: measure.requestProtocol,
                                   responseCode: measure.responseCode, grpcStatus: measure.grpcStatus, flags: measure.flags,
                                   durationMicroseconds: micros, requestBytes: measure.requestBytes,
                                   responseBytes: measure.responseBytes)
        worker.shard.requestFinished()
        if measure.host >= 0 { worker.shard.recordHost(measure.host, responseCode: measure.responseCode) }
        guard var entry = log else { return }
        log = nil  // keep the entry's storage uniquely referenced while it is mutated
        entry.responseCode = measure.responseCode
        entry.flags = measure.flags
        entry.set(.responseCodeDetails, UnsafeRawBufferPointer(start: measure.details.utf8Start,
                                                              count: measure.details.utf8CodeUnitCount))
        entry.bytesReceived = measure.requestBytes &- measure.requestHeadBytes
        entry.bytesSent = measure.responseBytes > measure.responseHeadBytes ? measure.responseBytes &- measure.responseHeadBytes : 0
        entry.durationMilliseconds = micros / 1000
        if measure.upstreamAnsweredNanoseconds > 0 {
            entry.upstreamServiceTimeMilliseconds = Int64((measure.upstreamAnsweredNanoseconds &- measure.startNanoseconds) / 1_000_000)
        }
        worker.appendAccessLog(entry)
        log = entry
    }

    /// Fills the access-log fields that come from the request head (before its bytes are consumed).
    mutating func captureRequest(_ head: RequestHead, _ message: UnsafeRawBufferPointer,
                                 protocolVersion: AccessLogEntry.ProtocolVersion, requestID: UnsafeRawBufferPointer,
                                 clientEndpoint: [UInt8], localEndpoint: [UInt8]) {
        guard var entry = log else { return }
        log = nil
        entry.reset()
        entry.startTimeMicroseconds = wallClockMicroseconds()
        entry.protocolVersion = protocolVersion
        entry.set(.method, head.methodSpan.bytes(in: message))
        entry.set(.path, head.target.bytes(in: message))
        entry.set(.authority, head.authority.bytes(in: message))
        entry.set(.downstreamRemoteAddress, clientEndpoint)
        entry.set(.downstreamLocalAddress, localEndpoint)
        if !requestID.isEmpty { entry.set(.requestID, requestID) }
        for field in head.headers {
            switch field.kind {
            case .xForwardedFor: entry.set(.forwardedFor, field.value.bytes(in: message))
            case .xRequestId: entry.set(.requestID, field.value.bytes(in: message))
            case .other where field.name.count == 10
                && HTTPBytes.equalsIgnoringCase(field.name.bytes(in: message), "user-agent"):
                entry.set(.userAgent, field.value.bytes(in: message))
            default: break
            }
        }
        log = entry
    }

    /// Fills the fields known once a route and cluster are chosen (and the endpoint, when there is one).
    mutating func captureRoute(route: String, cluster: String, pool: EndpointPool?) {
        guard var entry = log else { return }
        log = nil
        entry.set(.routeName, route)
        entry.set(.upstreamCluster, cluster)
        if let pool { pool.authority.withUnsafeBytes { entry.set(.upstreamHost, $0) } }
        log = entry
    }

    /// Records why the exchange is answered by the proxy itself: Envoy's flags and details, the cluster as the
    /// destination when no endpoint was reached, the route and cluster in the access log.
    mutating func noteLocalAnswer(flags: ResponseFlags, details: StaticString, machine: ExchangeMachine,
                                  snapshot: ConfigSnapshot) {
        if machine.cluster >= 0 && measure.destination == 0 {
            measure.destination = snapshot.clusterDestinations[machine.cluster]
        }
        if log != nil && machine.route >= 0 {
            captureRoute(route: snapshot.table.routes[machine.route].name,
                         cluster: machine.cluster >= 0 ? snapshot.table.clusters[machine.cluster].name : "-", pool: nil)
        }
        measure.flags.insert(flags)
        measure.details = details
    }

    /// The proxy's own address on the upstream connection (%UPSTREAM_LOCAL_ADDRESS%).
    mutating func captureUpstreamLocalAddress(_ address: [UInt8]) {
        guard var entry = log, !address.isEmpty else { return }
        log = nil
        entry.set(.upstreamLocalAddress, address)
        log = entry
    }
}
