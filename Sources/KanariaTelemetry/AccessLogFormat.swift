/// The shape of an access-log line.
public enum AccessLogFormat: Sendable {
    /// Envoy's default format string, what a plain Envoy prints:
    ///
    ///     [%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" %RESPONSE_CODE%
    ///     %RESPONSE_FLAGS% %BYTES_RECEIVED% %BYTES_SENT% %DURATION% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)%
    ///     "%REQ(X-FORWARDED-FOR)%" "%REQ(USER-AGENT)%" "%REQ(X-REQUEST-ID)%" "%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%"
    ///
    /// on one line, e.g.
    /// `[2018-11-23T04:51:00.281Z] "GET / HTTP/1.1" 200 - 0 58 4 1 "-" "curl/7.47.0" "f21ebd42-…" "one.example.com" "172.18.0.4:80"`.
    case envoyText
    /// Istio's default text format (`meshConfig.accessLogFile` with `TEXT` encoding), what
    /// `kubectl logs deploy/istio-ingressgateway` shows: Envoy's, with the response code details, connection
    /// termination details and upstream transport failure reason after the flags, and the upstream cluster, upstream
    /// local address, downstream local and remote addresses, SNI and route name at the end.
    case istioText
    /// Istio's default JSON format (`JSON` encoding): one object per line with the same fields as `istioText`, keys
    /// in alphabetical order as Envoy prints them; numbers for `bytes_received`, `bytes_sent`, `duration`,
    /// `response_code`, strings for the rest (`upstream_service_time` too, as a header value), `null` when missing.
    case json
}

/// Appends one access-log line for `entry`, newline included, to `buffer`. Allocates nothing but the buffer's growth.
public func formatAccessLog(_ entry: AccessLogEntry, format: AccessLogFormat, into buffer: inout [UInt8]) {
    switch format {
    case .envoyText: appendText(entry, istio: false, into: &buffer)
    case .istioText: appendText(entry, istio: true, into: &buffer)
    case .json: appendJSON(entry, into: &buffer)
    }
}

// MARK: Text

private func appendText(_ entry: AccessLogEntry, istio: Bool, into buffer: inout [UInt8]) {
    buffer.append(UInt8(ascii: "["))
    buffer.appendTimestamp(entry.startTimeMicroseconds)
    buffer.appendASCII("] \"")
    buffer.appendField(entry, .method)
    buffer.append(UInt8(ascii: " "))
    buffer.appendField(entry, .path)
    buffer.append(UInt8(ascii: " "))
    if let version = entry.protocolVersion { buffer.appendASCII(version.text) } else { buffer.append(UInt8(ascii: "-")) }
    buffer.appendASCII("\" ")
    buffer.appendDecimal(entry.responseCode)
    buffer.append(UInt8(ascii: " "))
    entry.flags.append(to: &buffer)
    if istio {
        buffer.append(UInt8(ascii: " "))
        buffer.appendField(entry, .responseCodeDetails)
        buffer.append(UInt8(ascii: " "))
        buffer.appendField(entry, .connectionTerminationDetails)
        buffer.appendASCII(" \"")
        buffer.appendField(entry, .upstreamTransportFailureReason)
        buffer.append(UInt8(ascii: "\""))
    }
    buffer.append(UInt8(ascii: " "))
    buffer.appendDecimal(entry.bytesReceived)
    buffer.append(UInt8(ascii: " "))
    buffer.appendDecimal(entry.bytesSent)
    buffer.append(UInt8(ascii: " "))
    buffer.appendDecimal(entry.durationMilliseconds)
    buffer.append(UInt8(ascii: " "))
    if entry.upstreamServiceTimeMilliseconds >= 0 {
        buffer.appendDecimal(Int(entry.upstreamServiceTimeMilliseconds))
    } else {
        buffer.append(UInt8(ascii: "-"))
    }
    // Fields by name, not from an array literal: a line allocates nothing.
    buffer.appendQuotedField(entry, .forwardedFor)
    buffer.appendQuotedField(entry, .userAgent)
    buffer.appendQuotedField(entry, .requestID)
    buffer.appendQuotedField(entry, .authority)
    buffer.appendQuotedField(entry, .upstreamHost)
    if istio {
        buffer.appendSpacedField(entry, .upstreamCluster)
        buffer.appendSpacedField(entry, .upstreamLocalAddress)
        buffer.appendSpacedField(entry, .downstreamLocalAddress)
        buffer.appendSpacedField(entry, .downstreamRemoteAddress)
        buffer.appendSpacedField(entry, .requestedServerName)
        buffer.appendSpacedField(entry, .routeName)
    }
    buffer.append(UInt8(ascii: "\n"))
}

extension Array where Element == UInt8 {
    /// A text field as is, `-` when unset.
    fileprivate mutating func appendField(_ entry: AccessLogEntry, _ field: AccessLogEntry.Field) {
        let start = Int(entry.spans[2 * field.rawValue])
        guard start >= 0 else {
            append(UInt8(ascii: "-"))
            return
        }
        append(contentsOf: entry.storage[start..<Int(entry.spans[2 * field.rawValue + 1])])
    }

    /// ` "field"`
    fileprivate mutating func appendQuotedField(_ entry: AccessLogEntry, _ field: AccessLogEntry.Field) {
        appendASCII(" \"")
        appendField(entry, field)
        append(UInt8(ascii: "\""))
    }

    /// ` field`
    fileprivate mutating func appendSpacedField(_ entry: AccessLogEntry, _ field: AccessLogEntry.Field) {
        append(UInt8(ascii: " "))
        appendField(entry, field)
    }

    /// Envoy's `%START_TIME%`: `2018-11-23T04:51:00.281Z` (UTC, milliseconds).
    mutating func appendTimestamp(_ microseconds: Int64) {
        let milliseconds = microseconds >= 0 ? microseconds / 1000 : (microseconds - 999) / 1000
        var days = milliseconds >= 0 ? milliseconds / 86_400_000 : (milliseconds - 86_399_999) / 86_400_000
        let msOfDay = Int(milliseconds - days * 86_400_000)
        // Howard Hinnant's civil_from_days.
        days += 719_468
        let era = (days >= 0 ? days : days - 146_096) / 146_097
        let dayOfEra = days - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        let day = Int(dayOfYear - (153 * shiftedMonth + 2) / 5 + 1)
        let month = Int(shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9)
        let year = Int(yearOfEra + era * 400 + (month <= 2 ? 1 : 0))
        appendPadded(year, width: 4)
        append(UInt8(ascii: "-"))
        appendPadded(month, width: 2)
        append(UInt8(ascii: "-"))
        appendPadded(day, width: 2)
        append(UInt8(ascii: "T"))
        appendPadded(msOfDay / 3_600_000, width: 2)
        append(UInt8(ascii: ":"))
        appendPadded(msOfDay / 60_000 % 60, width: 2)
        append(UInt8(ascii: ":"))
        appendPadded(msOfDay / 1000 % 60, width: 2)
        append(UInt8(ascii: "."))
        appendPadded(msOfDay % 1000, width: 3)
        append(UInt8(ascii: "Z"))
    }
}

// MARK: JSON

private func appendJSON(_ entry: AccessLogEntry, into buffer: inout [UInt8]) {
    buffer.appendASCII("{\"authority\":")
    buffer.appendJSONField(entry, .authority)
    buffer.appendASCII(",\"bytes_received\":")
    buffer.appendDecimal(entry.bytesReceived)
    buffer.appendASCII(",\"bytes_sent\":")
    buffer.appendDecimal(entry.bytesSent)
    buffer.appendASCII(",\"connection_termination_details\":")
    buffer.appendJSONField(entry, .connectionTerminationDetails)
    buffer.appendASCII(",\"downstream_local_address\":")
    buffer.appendJSONField(entry, .downstreamLocalAddress)
    buffer.appendASCII(",\"downstream_remote_address\":")
    buffer.appendJSONField(entry, .downstreamRemoteAddress)
    buffer.appendASCII(",\"duration\":")
    buffer.appendDecimal(entry.durationMilliseconds)
    buffer.appendASCII(",\"method\":")
    buffer.appendJSONField(entry, .method)
    buffer.appendASCII(",\"path\":")
    buffer.appendJSONField(entry, .path)
    buffer.appendASCII(",\"protocol\":\"")
    if let version = entry.protocolVersion { buffer.appendASCII(version.text) } else { buffer.append(UInt8(ascii: "-")) }
    buffer.appendASCII("\",\"request_id\":")
    buffer.appendJSONField(entry, .requestID)
    buffer.appendASCII(",\"requested_server_name\":")
    buffer.appendJSONField(entry, .requestedServerName)
    buffer.appendASCII(",\"response_code\":")
    buffer.appendDecimal(entry.responseCode)
    buffer.appendASCII(",\"response_code_details\":")
    buffer.appendJSONField(entry, .responseCodeDetails)
    buffer.appendASCII(",\"response_flags\":\"")
    entry.flags.append(to: &buffer)
    buffer.appendASCII("\",\"route_name\":")
    buffer.appendJSONField(entry, .routeName)
    buffer.appendASCII(",\"start_time\":\"")
    buffer.appendTimestamp(entry.startTimeMicroseconds)
    buffer.appendASCII("\",\"upstream_cluster\":")
    buffer.appendJSONField(entry, .upstreamCluster)
    buffer.appendASCII(",\"upstream_host\":")
    buffer.appendJSONField(entry, .upstreamHost)
    buffer.appendASCII(",\"upstream_local_address\":")
    buffer.appendJSONField(entry, .upstreamLocalAddress)
    buffer.appendASCII(",\"upstream_service_time\":")
    if entry.upstreamServiceTimeMilliseconds >= 0 {
        buffer.append(UInt8(ascii: "\""))
        buffer.appendDecimal(Int(entry.upstreamServiceTimeMilliseconds))
        buffer.append(UInt8(ascii: "\""))
    } else {
        buffer.appendASCII("null")
    }
    buffer.appendASCII(",\"upstream_transport_failure_reason\":")
    buffer.appendJSONField(entry, .upstreamTransportFailureReason)
    buffer.appendASCII(",\"user_agent\":")
    buffer.appendJSONField(entry, .userAgent)
    buffer.appendASCII(",\"x_forwarded_for\":")
    buffer.appendJSONField(entry, .forwardedFor)
    buffer.appendASCII("}\n")
}

extension Array where Element == UInt8 {
    /// A text field as a JSON string, `null` when unset.
    fileprivate mutating func appendJSONField(_ entry: AccessLogEntry, _ field: AccessLogEntry.Field) {
        let start = Int(entry.spans[2 * field.rawValue])
        guard start >= 0 else {
            appendASCII("null")
            return
        }
        appendJSONString(entry.storage[start..<Int(entry.spans[2 * field.rawValue + 1])])
    }

    /// `bytes` as a quoted JSON string: `"` and `\` escaped, control characters as `\n`, `\t`, … or `\u00XX`, valid
    /// UTF-8 as is, and each byte of invalid UTF-8 as the `\u00XX` of its Latin-1 reading, so the line is always valid
    /// JSON.
    mutating func appendJSONString(_ bytes: ArraySlice<UInt8>) {
        append(UInt8(ascii: "\""))
        var i = bytes.startIndex
        let end = bytes.endIndex
        while i < end {
            let byte = bytes[i]
            if byte >= 0x80 {
                let length = validUTF8Length(bytes, at: i)
                if length > 0 {
                    append(contentsOf: bytes[i..<i + length])
                    i += length
                } else {
                    appendUnicodeEscape(byte)
                    i += 1
                }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""): appendASCII("\\\"")
            case UInt8(ascii: "\\"): appendASCII("\\\\")
            case 0x08: appendASCII("\\b")
            case 0x0C: appendASCII("\\f")
            case 0x0A: appendASCII("\\n")
            case 0x0D: appendASCII("\\r")
            case 0x09: appendASCII("\\t")
            case 0..<0x20, 0x7F: appendUnicodeEscape(byte)
            default: append(byte)
            }
            i += 1
        }
        append(UInt8(ascii: "\""))
    }

    private mutating func appendUnicodeEscape(_ byte: UInt8) {
        let hex: StaticString = "0123456789abcdef"
        appendASCII("\\u00")
        hex.withUTF8Buffer { digits in
            append(digits[Int(byte >> 4)])
            append(digits[Int(byte & 0xF)])
        }
    }
}

/// The length of the well-formed UTF-8 sequence starting at `i` (a byte ≥ 0x80), or 0 when it is not one.
private func validUTF8Length(_ bytes: ArraySlice<UInt8>, at i: Int) -> Int {
    let lead = bytes[i]
    let length: Int
    var low: UInt8 = 0x80
    var high: UInt8 = 0xBF
    switch lead {
    case 0xC2...0xDF: length = 2
    case 0xE0: length = 3; low = 0xA0
    case 0xE1...0xEC, 0xEE...0xEF: length = 3
    case 0xED: length = 3; high = 0x9F
    case 0xF0: length = 4; low = 0x90
    case 0xF1...0xF3: length = 4
    case 0xF4: length = 4; high = 0x8F
    default: return 0
    }
    guard bytes.endIndex - i >= length else { return 0 }
    guard bytes[i + 1] >= low && bytes[i + 1] <= high else { return 0 }
    for k in 2..<length where bytes[i + k] & 0xC0 != 0x80 { return 0 }
    return length
}
