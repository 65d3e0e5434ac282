import KanariaHTTP

/// The policies of a route in words, for `kanaria route explain`: not on the request path (it builds strings).
extension HTTPRoute {
    /// One line per policy, defaults spelled out; `clusterName` names a cluster index.
    public func policyLines(clusterName: (Int) -> String) -> [String] {
        var lines: [String] = []
        switch action {
        case .forward: lines += forwardingLines(clusterName: clusterName)
        case .redirect(let redirect): lines.append("action: \(redirect.summary)")
        case .directResponse(let answer): lines.append("action: direct response \(answer.status) with a \(answer.body.count)-byte body")
        }
        let edits = Set(requestHeaderEdits.map(\.summary) + responseHeaderEdits.map(\.summary))
        if edits != [HeaderEdit.none.summary] {
            for (index, (request, response)) in zip(requestHeaderEdits, responseHeaderEdits).enumerated() {
                let which = destinations.isEmpty ? "" : " (to \(clusterName(destinations[index].cluster)))"
                lines.append("headers\(which): request \(request.summary); response \(response.summary)")
            }
        }
        if let corsPolicy { lines.append("cors: " + corsPolicy.summary) }
        return lines
    }

    /// Timeout, retries, fault, mirrors and rewrite: what applies to a route that forwards.
    private func forwardingLines(clusterName: (Int) -> String) -> [String] {
        var lines: [String] = []
        lines.append("timeout: " + (timeout.map { "\($0.istioText), then 504 (response flag UT)" } ?? "none (Istio's default for a route)"))
        lines.append("retries: " + retries.summary)
        lines.append("fault: " + (fault?.summary ?? "none"))
        let mirrorText = mirrors.map { "\(clusterName($0.cluster)) for \($0.percentage) of requests" }
        lines.append("mirrors: " + (mirrorText.isEmpty ? "none" : mirrorText.joined(separator: "; ")))
        if let rewrite { lines.append("rewrite: " + rewrite.summary) }
        return lines
    }
}

extension RetryPolicy {
    /// `3 retries on 5xx,connect-failure; …`, or `off (attempts: 0)`.
    public var summary: String {
        if isOff { return "off (attempts: 0)" }
        var parts = ["\(retries) \(retries == 1 ? "retry" : "retries") on \(retryOn.names)"]
        if !retriableStatusCodes.isEmpty {
            parts.append("status codes \(retriableStatusCodes.map(String.init).joined(separator: ","))")
        } else if retryOn.contains(.retriableStatusCodes) {
            parts.append("no status codes (503 is not retried by default since istio#52111)")
        }
        parts.append(perTryTimeout.map { "per-try timeout \($0.istioText)" } ?? "no per-try timeout")
        if avoidPreviousHosts { parts.append("each retry to another host when there is one (\(hostSelectionAttempts) host selection attempts)") }
        parts.append("back-off \(backoffBase.istioText) base, \((backoffBase * 10).istioText) max, fully jittered")
        let text = parts.joined(separator: "; ")
        return self == .istioDefault ? "Istio's default: \(text)" : text
    }
}

extension FaultPolicy {
    /// `delay 7s for 100% of requests (flag DI); abort 500 for 0.1% (flag FI)`.
    public var summary: String {
        var parts: [String] = []
        if let delay { parts.append("delay \(delay.fixedDelay.istioText) for \(delay.percentage) of requests (flag DI)") }
        if let abort {
            let status = switch abort.status {
            case .http(let code): "HTTP \(code)"
            case .grpc(let code): "gRPC \(GRPCStatusName.name(code)) (\(code))"
            }
            parts.append("abort with \(status) for \(abort.percentage) of requests (flag FI)")
        }
        return parts.joined(separator: "; ")
    }
}

extension RedirectAction {
    /// `redirect 302 to uri /new, authority b.example, scheme https, port 8443`.
    public var summary: String {
        var parts: [String] = []
        if let uri { parts.append("uri \(String(decoding: uri, as: UTF8.self))") }
        if let authority { parts.append("authority \(String(decoding: authority, as: UTF8.self))") }
        if let scheme { parts.append("scheme \(String(decoding: scheme, as: UTF8.self))") }
        switch port {
        case .protocolDefault: break
        case .fromRequestPort: parts.append("the request's gateway port")
        case .number(let n): parts.append("port \(n)")
        }
        return "redirect \(code) to " + parts.joined(separator: ", ")
    }
}

extension URIRewrite {
    /// `uri: the matched part → /v2; authority → b.example`.
    public var summary: String {
        var parts: [String] = []
        switch path {
        case .prefix(let uri)?: parts.append("uri: the matched part → \(String(decoding: uri, as: UTF8.self))")
        case .regex(let regex, let substitution)?: parts.append("uri: \(regex.pattern) → \(substitution)")
        case nil: break
        }
        if let authority { parts.append("authority → \(String(decoding: authority, as: UTF8.self))") }
        return parts.joined(separator: "; ")
    }
}

extension HeaderEdit {
    /// `drop [x-a, x-b], append [x-a: 1]`, or `unchanged`.
    public var summary: String {
        if isEmpty { return "unchanged" }
        let dropped = drop.map { String(decoding: $0, as: UTF8.self) }.joined(separator: ", ")
        let appended = append.map { "\(String(decoding: $0.name, as: UTF8.self)): \(String(decoding: $0.value, as: UTF8.self))" }
            .joined(separator: ", ")
        return "drop [\(dropped)], append [\(appended)]"
    }
}

extension CorsPolicy {
    /// `origins exact "https://a", prefix "https://b"; methods GET,POST; …`.
    public var summary: String {
        var parts = ["origins " + allowOrigins.map(\.description).joined(separator: ", ")]
        if !allowMethods.isEmpty { parts.append("methods \(String(decoding: allowMethods, as: UTF8.self))") }
        if !allowHeaders.isEmpty { parts.append("headers \(String(decoding: allowHeaders, as: UTF8.self))") }
        if !exposeHeaders.isEmpty { parts.append("expose \(String(decoding: exposeHeaders, as: UTF8.self))") }
        if !maxAge.isEmpty { parts.append("max age \(String(decoding: maxAge, as: UTF8.self))s") }
        if allowCredentials { parts.append("credentials allowed") }
        parts.append(forwardUnmatchedPreflights ? "preflights from other origins forwarded" : "preflights from other origins answered 200 without CORS headers")
        return parts.joined(separator: "; ")
    }
}
