import KanariaHTTP
import KanariaPosix
import KanariaTelemetry

/// What is measured of the exchange in progress, recorded once when it ends (Istio's stats filter does the same at
/// the end of the stream).
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
}

extension DownstreamConnection {
    /// Starts measuring a request whose head (`headBytes` long) has been parsed.
    func beginMeasure(headBytes: Int) {
        if measure.open { endMeasure() }
        measure = ExchangeMeasure(open: true, startNanoseconds: monotonicNanoseconds(), requestBytes: UInt64(headBytes),
                                  requestHeadBytes: UInt64(headBytes))
        worker.shard.requestStarted()
    }

    /// Records the request in the metrics (and the access log, when on). Called once per request, however it ends.
    func endMeasure() {
        guard measure.open else { return }
        measure.open = false
        let now = monotonicNanoseconds()
        let micros = (now &- measure.startNanoseconds) / 1000
        worker.shard.recordRequest(destination: measure.destination, protocol: .http, responseCode: measure.responseCode,
                                   grpcStatus: -1, flags: measure.flags, durationMicroseconds: micros,
                                   requestBytes: measure.requestBytes, responseBytes: measure.responseBytes)
        worker.shard.requestFinished()
        if logEntry != nil { writeAccessLog(durationMicroseconds: micros) }
    }

    /// Fills the access-log fields that come from the request head; the head's bytes are about to be consumed.
    func captureLogFields(_ message: UnsafeRawBufferPointer) {
        guard var entry = logEntry else { return }
        logEntry = nil  // keep the entry's storage uniquely referenced while it is mutated
        entry.reset()
        entry.startTimeMicroseconds = wallClockMicroseconds()
        entry.protocolVersion = head.versionMinor == 0 ? .http10 : .http11
        entry.set(.method, head.methodSpan.bytes(in: message))
        entry.set(.path, head.target.bytes(in: message))
        entry.set(.authority, head.authority.bytes(in: message))
        entry.set(.downstreamRemoteAddress, clientEndpoint)
        entry.set(.downstreamLocalAddress, localEndpoint)
        for field in head.headers {
            switch field.kind {
            case .xForwardedFor: entry.set(.forwardedFor, field.value.bytes(in: message))
            case .xRequestId: entry.set(.requestID, field.value.bytes(in: message))
            case .other where field.name.count == 10
                && ASCIIBytes.equalsIgnoringCase(field.name.bytes(in: message), "user-agent"):
                entry.set(.userAgent, field.value.bytes(in: message))
            default: break
            }
        }
        logEntry = entry
    }

    /// Fills the access-log fields known once a route and cluster are chosen (and the endpoint, when there is one).
    func captureRouteLogFields(route: String, cluster: String, pool: EndpointPool?) {
        guard var entry = logEntry else { return }
        logEntry = nil
        entry.set(.routeName, route)
        entry.set(.upstreamCluster, cluster)
        if let pool { pool.authority.withUnsafeBytes { entry.set(.upstreamHost, $0) } }
        logEntry = entry
    }

    /// The proxy's own address on a new upstream connection (%UPSTREAM_LOCAL_ADDRESS%).
    func captureUpstreamLocalAddress(_ address: [UInt8]) {
        guard var entry = logEntry else { return }
        logEntry = nil
        entry.set(.upstreamLocalAddress, address)
        logEntry = entry
    }

    private func writeAccessLog(durationMicroseconds: UInt64) {
        guard var entry = logEntry else { return }
        logEntry = nil
        entry.responseCode = measure.responseCode
        entry.flags = measure.flags
        if !requestID.isEmpty { entry.set(.requestID, requestID.readable) }
        entry.set(.responseCodeDetails, UnsafeRawBufferPointer(start: measure.details.utf8Start, count: measure.details.utf8CodeUnitCount))
        entry.bytesReceived = measure.requestBytes &- measure.requestHeadBytes
        entry.bytesSent = measure.responseBytes > measure.responseHeadBytes ? measure.responseBytes &- measure.responseHeadBytes : 0
        entry.durationMilliseconds = durationMicroseconds / 1000
        if measure.upstreamAnsweredNanoseconds > 0 {
            entry.upstreamServiceTimeMilliseconds = Int64((measure.upstreamAnsweredNanoseconds &- measure.startNanoseconds) / 1_000_000)
        }
        worker.appendAccessLog(entry)
        logEntry = entry
    }
}

/// Case-insensitive comparison for the few names the proxy looks for outside `HeaderKind`.
enum ASCIIBytes {
    static func equalsIgnoringCase(_ bytes: UnsafeRawBufferPointer, _ lowercased: StaticString) -> Bool {
        guard bytes.count == lowercased.utf8CodeUnitCount else { return false }
        let expected = lowercased.utf8Start
        for i in 0..<bytes.count {
            let c = bytes[i]
            if ((c >= 65 && c <= 90) ? c | 0x20 : c) != expected[i] { return false }
        }
        return true
    }
}
