import Foundation
import KanariaTelemetry
import Testing

/// Access-log lines, as Envoy and Istio print them.
@Suite("Access logs")
struct AccessLogTests {
    /// The request of Envoy's own documentation example: a GET proxied to 172.18.0.4:80.
    private func envoyExample() -> AccessLogEntry {
        var entry = AccessLogEntry()
        entry.startTimeMicroseconds = 1_542_948_660_281_000  // 2018-11-23T04:51:00.281Z
        entry.set(.method, "GET")
        entry.set(.path, "/")
        entry.protocolVersion = .http11
        entry.responseCode = 200
        entry.bytesReceived = 0
        entry.bytesSent = 58
        entry.durationMilliseconds = 4
        entry.upstreamServiceTimeMilliseconds = 1
        entry.set(.userAgent, "curl/7.47.0")
        entry.set(.requestID, "f21ebd42-6770-4aa5-88d4-e56118165a7d")
        entry.set(.authority, "one.example.com")
        entry.set(.upstreamHost, "172.18.0.4:80")
        return entry
    }

    private func line(_ entry: AccessLogEntry, _ format: AccessLogFormat) -> String {
        var buffer: [UInt8] = []
        formatAccessLog(entry, format: format, into: &buffer)
        return String(decoding: buffer, as: UTF8.self)
    }

    /// Envoy's default format, byte for byte as in Envoy's documentation.
    @Test func envoyDefaultFormat() {
        #expect(line(envoyExample(), .envoyText) == """
            [2018-11-23T04:51:00.281Z] "GET / HTTP/1.1" 200 - 0 58 4 1 "-" "curl/7.47.0" \
            "f21ebd42-6770-4aa5-88d4-e56118165a7d" "one.example.com" "172.18.0.4:80"\n
            """)
    }

    /// A 503 with no upstream: flags, no service time, missing fields as `-`.
    @Test func envoyFormatForANoHealthyUpstream() {
        var entry = AccessLogEntry()
        entry.startTimeMicroseconds = 951_868_799_999_999  // 2000-02-29T23:59:59.999999Z
        entry.set(.method, "POST")
        entry.set(.path, "/orders?id=7")
        entry.protocolVersion = .http2
        entry.responseCode = 503
        entry.flags = .UH
        entry.bytesReceived = 12
        entry.bytesSent = 19
        entry.durationMilliseconds = 0
        entry.set(.forwardedFor, "10.0.0.1")
        entry.set(.authority, "shop")
        #expect(line(entry, .envoyText) == """
            [2000-02-29T23:59:59.999Z] "POST /orders?id=7 HTTP/2" 503 UH 12 19 0 - "10.0.0.1" "-" "-" "shop" "-"\n
            """)
    }

    /// Istio's default text format: the details after the flags, the addresses, cluster and route at the end.
    @Test func istioDefaultFormat() {
        var entry = envoyExample()
        entry.set(.responseCodeDetails, "via_upstream")
        entry.set(.upstreamCluster, "outbound|8080|v1|nodejs.default.svc.cluster.local")
        entry.set(.upstreamLocalAddress, "172.18.0.2:41234")
        entry.set(.downstreamLocalAddress, "172.18.0.2:8080")
        entry.set(.downstreamRemoteAddress, "172.18.0.9:52000")
        entry.set(.routeName, "default")
        #expect(line(entry, .istioText) == """
            [2018-11-23T04:51:00.281Z] "GET / HTTP/1.1" 200 - via_upstream - "-" 0 58 4 1 "-" "curl/7.47.0" \
            "f21ebd42-6770-4aa5-88d4-e56118165a7d" "one.example.com" "172.18.0.4:80" \
            outbound|8080|v1|nodejs.default.svc.cluster.local 172.18.0.2:41234 172.18.0.2:8080 172.18.0.9:52000 - default\n
            """)
    }

    /// Istio's JSON: sorted keys, numbers as numbers, the service time as a string, missing values as null.
    @Test func jsonFormat() throws {
        var entry = envoyExample()
        entry.set(.responseCodeDetails, "via_upstream")
        entry.set(.upstreamCluster, "outbound|8080|v1|nodejs.default.svc.cluster.local")
        entry.set(.routeName, "default")
        let text = line(entry, .json)
        #expect(text == #"""
            {"authority":"one.example.com","bytes_received":0,"bytes_sent":58,"connection_termination_details":null,"downstream_local_address":null,"downstream_remote_address":null,"duration":4,"method":"GET","path":"/","protocol":"HTTP/1.1","request_id":"f21ebd42-6770-4aa5-88d4-e56118165a7d","requested_server_name":null,"response_code":200,"response_code_details":"via_upstream","response_flags":"-","route_name":"default","start_time":"2018-11-23T04:51:00.281Z","upstream_cluster":"outbound|8080|v1|nodejs.default.svc.cluster.local","upstream_host":"172.18.0.4:80","upstream_local_address":null,"upstream_service_time":"1","upstream_transport_failure_reason":null,"user_agent":"curl/7.47.0","x_forwarded_for":null}

            """#)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        #expect(object.count == 24)
        #expect(object["bytes_sent"] as? Int == 58)
        #expect(object["x_forwarded_for"] is NSNull)
    }

    /// Quotes, backslashes, control characters and broken UTF-8 in header values still make valid JSON.
    @Test func jsonEscaping() throws {
        var entry = AccessLogEntry()
        entry.set(.userAgent, "say \"hi\" \\ tab\there\u{1}\u{7F} é 🦈")
        entry.set(.path, [0x2F, 0xFF, 0xC3, 0x28, 0x61] as [UInt8])  // "/", an invalid byte, a broken pair, "a"
        entry.flags = [.UF, .URX]
        let text = line(entry, .json)
        #expect(text.contains(#""user_agent":"say \"hi\" \\ tab\there\u0001\u007f é 🦈""#))
        #expect(text.contains(#""path":"/\u00ff\u00c3(a""#))
        #expect(text.contains(#""response_flags":"UF,URX""#))
        #expect(text.contains(#""protocol":"-""#))
        #expect(text.contains(#""start_time":"1970-01-01T00:00:00.000Z""#))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        #expect(object["user_agent"] as? String == "say \"hi\" \\ tab\there\u{1}\u{7F} é 🦈")
    }

    /// Timestamps across leap days, year ends and before the epoch.
    @Test func startTimes() {
        var entry = AccessLogEntry()
        for (micros, text) in [(Int64(1_735_603_200_000_000), "2024-12-31T00:00:00.000Z"),
                               (951_868_799_999_999, "2000-02-29T23:59:59.999Z"),
                               (-500_000, "1969-12-31T23:59:59.500Z")] {
            entry.startTimeMicroseconds = micros
            #expect(line(entry, .envoyText).hasPrefix("[\(text)] "))
        }
    }

    /// A reset entry forgets every field and keeps its storage; reused for many lines, the buffer only grows.
    @Test func resetClearsAndReuses() {
        var entry = envoyExample()
        entry.reset()
        #expect(entry.value(of: .method) == nil)
        #expect(line(entry, .envoyText) == "[1970-01-01T00:00:00.000Z] \"- - -\" 0 - 0 0 0 - \"-\" \"-\" \"-\" \"-\" \"-\"\n")
        entry.set(.method, "PUT")
        #expect(entry.value(of: .method) == "PUT")
        entry.clear(.method)
        #expect(entry.value(of: .method) == nil)
    }
}
