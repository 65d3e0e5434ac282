import COpenSSL

/// This thread's OpenSSL error queue, read once after a call fails.
///
/// OpenSSL keeps errors in a per-thread queue, and `SSL_get_error` is only reliable when that queue is empty before
/// the call: every failure path in this module drains it, so a worker thread never carries one connection's error
/// into the next connection's call.
enum OpenSSLErrors {
    /// One queued error: its packed code, and OpenSSL's text for it ("wrong version number").
    struct Entry {
        var code: UInt
        var reason: String
        /// The detail OpenSSL attached, when there is one ("calling fopen(/etc/x.pem, r)").
        var detail: String

        var library: Int32 { ERR_GET_LIB(code) }
        var reasonCode: Int32 { ERR_GET_REASON(code) }
        var isSystemError: Bool { library == ERR_LIB_SYS }
    }

    /// Empties the queue, returning its entries oldest first.
    static func drain() -> [Entry] {
        var entries: [Entry] = []
        while true {
            var data: UnsafePointer<CChar>?
            var flags: Int32 = 0
            let code = ERR_get_error_all(nil, nil, nil, &data, &flags)
            if code == 0 { return entries }
            let reason = ERR_reason_error_string(code).map { String(cString: $0) } ?? "error \(ERR_GET_REASON(code))"
            let detail = (flags & ERR_TXT_STRING) != 0 ? data.map { String(cString: $0) } ?? "" : ""
            entries.append(Entry(code: code, reason: reason, detail: detail))
        }
    }

    /// Empties the queue, returning the oldest entry's reason text (the root cause), or `fallback` if it was empty.
    static func drainReason(fallback: String) -> String {
        drain().first?.reason ?? fallback
    }
}
