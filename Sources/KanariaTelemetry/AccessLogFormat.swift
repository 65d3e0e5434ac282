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
///
/// The line is written through a raw pointer into room made at the end of `buffer` for the longest line the entry
/// could give, then the unused room is cut: about a thousand instructions a line, where appending piece by piece to an
/// array costs four times that.
public func formatAccessLog(_ entry: AccessLogEntry, format: AccessLogFormat, into buffer: inout [UInt8]) {
    let json = format == .json
    // Fixed text (keys, numbers, flags, time) stays well under 1 KiB; a JSON escape is at most 6 bytes per byte.
    let room = 1024 + entry.storage.count * (json ? 6 : 1)
    let start = buffer.count
    buffer.append(contentsOf: repeatElement(0, count: room))
    let written = buffer.withUnsafeMutableBufferPointer { all in
        entry.storage.withUnsafeBufferPointer { storage in
            var writer = LineWriter(base: all.baseAddress! + start, storage: storage, spans: entry.spans)
            switch format {
            case .envoyText: writer.text(entry, istio: false)
            case .istioText: writer.text(entry, istio: true)
            case .json: writer.json(entry)
            }
            return writer.position
        }
    }
    buffer.removeLast(room - written)
}

/// Writes one line into room made beforehand.
private struct LineWriter {
    let base: UnsafeMutablePointer<UInt8>
    let storage: UnsafeBufferPointer<UInt8>
    let spans: [Int32]
    var position = 0

    init(base: UnsafeMutablePointer<UInt8>, storage: UnsafeBufferPointer<UInt8>, spans: [Int32]) {
        self.base = base
        self.storage = storage
        self.spans = spans
    }

    @inline(__always)
    mutating func byte(_ value: UInt8) {
        base[position] = value
        position &+= 1
    }

    mutating func ascii(_ text: StaticString) {
        text.withUTF8Buffer { copy($0) }
    }

    @inline(__always)
    mutating func copy(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard let from = bytes.baseAddress else { return }
        (base + position).update(from: from, count: bytes.count)
        position &+= bytes.count
    }

    mutating func decimal(_ value: UInt64) {
        var digits = 1
        var power: UInt64 = 10
        while digits < 20 && value >= power {
            digits &+= 1
            power = power &* 10
        }
        var rest = value
        var i = position &+ digits
        repeat {
            i &-= 1
            base[i] = UInt8(truncatingIfNeeded: rest % 10) &+ 48
            rest /= 10
        } while rest != 0
        position &+= digits
    }

    mutating func decimal(_ value: Int) {
        if value < 0 { byte(UInt8(ascii: "-")) }
        decimal(UInt64(value.magnitude))
    }

    /// `value` (≥ 0) in exactly `width` digits, zero-padded; wider values (a year past 9999) in full.
    mutating func padded(_ value: Int, width: Int) {
        var limit = 1
        for _ in 0..<width { limit &*= 10 }
        guard value >= 0 && value < limit else { return decimal(value) }
        var rest = UInt(value)
        var i = position &+ width
        while i > position {
            i &-= 1
            base[i] = UInt8(truncatingIfNeeded: rest % 10) &+ 48
            rest /= 10
        }
        position &+= width
    }

    mutating func flags(_ flags: ResponseFlags) {
        guard flags.rawValue != 0 else { return byte(UInt8(ascii: "-")) }
        var rest = flags.rawValue
        var first = true
        while rest != 0 {
            let bit = rest.trailingZeroBitCount
            rest &= rest &- 1
            if !first { byte(UInt8(ascii: ",")) }
            first = false
            ascii(ResponseFlags.codes[bit])
        }
    }

    mutating func protocolVersion(_ version: AccessLogEntry.ProtocolVersion?) {
        if let version { ascii(version.text) } else { byte(UInt8(ascii: "-")) }
    }

    /// A text field's bytes, nil when unset.
    func field(_ field: AccessLogEntry.Field) -> UnsafeBufferPointer<UInt8>? {
        let start = Int(spans[2 * field.rawValue])
        guard start >= 0 else { return nil }
        return UnsafeBufferPointer(rebasing: storage[start..<Int(spans[2 * field.rawValue + 1])])
    }

    // MARK: Text

    /// A text field as is, `-` when unset.
    mutating func plain(_ name: AccessLogEntry.Field) {
        guard let value = field(name) else { return byte(UInt8(ascii: "-")) }
        copy(value)
    }

    mutating func quoted(_ name: AccessLogEntry.Field) {
        ascii(" \"")
        plain(name)
        byte(UInt8(ascii: "\""))
    }

    mutating func spaced(_ name: AccessLogEntry.Field) {
        byte(UInt8(ascii: " "))
        plain(name)
    }

    mutating func text(_ entry: AccessLogEntry, istio: Bool) {
        byte(UInt8(ascii: "["))
        timestamp(entry.startTimeMicroseconds)
        ascii("] \"")
        plain(.method)
        byte(UInt8(ascii: " "))
        plain(.path)
        byte(UInt8(ascii: " "))
        protocolVersion(entry.protocolVersion)
        ascii("\" ")
        decimal(entry.responseCode)
        byte(UInt8(ascii: " "))
        flags(entry.flags)
        if istio {
            spaced(.responseCodeDetails)
            spaced(.connectionTerminationDetails)
            quoted(.upstreamTransportFailureReason)
        }
        byte(UInt8(ascii: " "))
        decimal(entry.bytesReceived)
        byte(UInt8(ascii: " "))
        decimal(entry.bytesSent)
        byte(UInt8(ascii: " "))
        decimal(entry.durationMilliseconds)
        byte(UInt8(ascii: " "))
        if entry.upstreamServiceTimeMilliseconds >= 0 {
            decimal(UInt64(entry.upstreamServiceTimeMilliseconds))
        } else {
            byte(UInt8(ascii: "-"))
        }
        quoted(.forwardedFor)
        quoted(.userAgent)
        quoted(.requestID)
        quoted(.authority)
        quoted(.upstreamHost)
        if istio {
            spaced(.upstreamCluster)
            spaced(.upstreamLocalAddress)
            spaced(.downstreamLocalAddress)
            spaced(.downstreamRemoteAddress)
            spaced(.requestedServerName)
            spaced(.routeName)
        }
        byte(UInt8(ascii: "\n"))
    }

    /// Envoy's `%START_TIME%`: `2018-11-23T04:51:00.281Z` (UTC, milliseconds).
    mutating func timestamp(_ microseconds: Int64) {
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
        padded(year, width: 4)
        byte(UInt8(ascii: "-"))
        padded(month, width: 2)
        byte(UInt8(ascii: "-"))
        padded(day, width: 2)
        byte(UInt8(ascii: "T"))
        padded(msOfDay / 3_600_000, width: 2)
        byte(UInt8(ascii: ":"))
        padded(msOfDay / 60_000 % 60, width: 2)
        byte(UInt8(ascii: ":"))
        padded(msOfDay / 1000 % 60, width: 2)
        byte(UInt8(ascii: "."))
        padded(msOfDay % 1000, width: 3)
        byte(UInt8(ascii: "Z"))
    }

    // MARK: JSON

    mutating func json(_ entry: AccessLogEntry) {
        ascii("{\"authority\":")
        jsonField(.authority)
        ascii(",\"bytes_received\":")
        decimal(entry.bytesReceived)
        ascii(",\"bytes_sent\":")
        decimal(entry.bytesSent)
        ascii(",\"connection_termination_details\":")
        jsonField(.connectionTerminationDetails)
        ascii(",\"downstream_local_address\":")
        jsonField(.downstreamLocalAddress)
        ascii(",\"downstream_remote_address\":")
        jsonField(.downstreamRemoteAddress)
        ascii(",\"duration\":")
        decimal(entry.durationMilliseconds)
        ascii(",\"method\":")
        jsonField(.method)
        ascii(",\"path\":")
        jsonField(.path)
        ascii(",\"protocol\":\"")
        protocolVersion(entry.protocolVersion)
        ascii("\",\"request_id\":")
        jsonField(.requestID)
        ascii(",\"requested_server_name\":")
        jsonField(.requestedServerName)
        ascii(",\"response_code\":")
        decimal(entry.responseCode)
        ascii(",\"response_code_details\":")
        jsonField(.responseCodeDetails)
        ascii(",\"response_flags\":\"")
        flags(entry.flags)
        ascii("\",\"route_name\":")
        jsonField(.routeName)
        ascii(",\"start_time\":\"")
        timestamp(entry.startTimeMicroseconds)
        ascii("\",\"upstream_cluster\":")
        jsonField(.upstreamCluster)
        ascii(",\"upstream_host\":")
        jsonField(.upstreamHost)
        ascii(",\"upstream_local_address\":")
        jsonField(.upstreamLocalAddress)
        ascii(",\"upstream_service_time\":")
        if entry.upstreamServiceTimeMilliseconds >= 0 {
            byte(UInt8(ascii: "\""))
            decimal(UInt64(entry.upstreamServiceTimeMilliseconds))
            byte(UInt8(ascii: "\""))
        } else {
            ascii("null")
        }
        ascii(",\"upstream_transport_failure_reason\":")
        jsonField(.upstreamTransportFailureReason)
        ascii(",\"user_agent\":")
        jsonField(.userAgent)
        ascii(",\"x_forwarded_for\":")
        jsonField(.forwardedFor)
        ascii("}\n")
    }

    /// A text field as a JSON string, `null` when unset.
    mutating func jsonField(_ name: AccessLogEntry.Field) {
        guard let value = field(name) else { return ascii("null") }
        jsonString(value)
    }

    /// `bytes` as a quoted JSON string: `"` and `\` escaped, control characters as `\n`, `\t`, … or `\u00XX`, valid
    /// UTF-8 as is, and each byte of invalid UTF-8 as the `\u00XX` of its Latin-1 reading, so the line is always valid
    /// JSON.
    mutating func jsonString(_ bytes: UnsafeBufferPointer<UInt8>) {
        byte(UInt8(ascii: "\""))
        var i = 0
        let end = bytes.count
        while i < end {
            let value = bytes[i]
            if value >= 0x80 {
                let length = validUTF8Length(bytes, at: i)
                if length > 0 {
                    copy(UnsafeBufferPointer(rebasing: bytes[i..<i + length]))
                    i += length
                } else {
                    unicodeEscape(value)
                    i += 1
                }
                continue
            }
            switch value {
            case UInt8(ascii: "\""): ascii("\\\"")
            case UInt8(ascii: "\\"): ascii("\\\\")
            case 0x08: ascii("\\b")
            case 0x0C: ascii("\\f")
            case 0x0A: ascii("\\n")
            case 0x0D: ascii("\\r")
            case 0x09: ascii("\\t")
            case 0..<0x20, 0x7F: unicodeEscape(value)
            default: byte(value)
            }
            i += 1
        }
        byte(UInt8(ascii: "\""))
    }

    private mutating func unicodeEscape(_ value: UInt8) {
        ascii("\\u00")
        byte(hexDigit(value >> 4))
        byte(hexDigit(value & 0xF))
    }

    private func hexDigit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? nibble &+ 48 : nibble &+ 87
    }
}

/// The length of the well-formed UTF-8 sequence starting at `i` (a byte ≥ 0x80), or 0 when it is not one.
private func validUTF8Length(_ bytes: UnsafeBufferPointer<UInt8>, at i: Int) -> Int {
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
    guard bytes.count - i >= length else { return 0 }
    guard bytes[i + 1] >= low && bytes[i + 1] <= high else { return 0 }
    for k in 2..<length where bytes[i + k] & 0xC0 != 0x80 { return 0 }
    return length
}
