import KanariaRouting
import Yams

/// `retries` and `fault`, checked as Istio's `ValidateHTTPRetry` and `validateHTTPFaultInjection` check them,
/// and converted as pilot's `retry.ConvertPolicy` and `TranslateFault` convert them.
extension DocumentReader {
    /// The policy a `retries` object sets: `attempts: 0` (or none) is `.off`; otherwise Istio's default policy
    /// with the fields given replacing its own.
    static func retries(_ node: Node, _ report: Reporter) -> RetryPolicy? {
        let attempts = node.value("attempts")?.integer ?? 0
        if attempts < 0 {
            report.error(node.value("attempts")!.line, "attempts cannot be negative", code: IstioCode.schema)
            return nil
        }
        if attempts == 0 {
            // Not after a misspelled field (already reported): `atempts: 3` is no request to disable retries.
            let misspelled = node.entries.contains { !Schema.fieldNames(of: Schema.httpRetry).contains($0.key) }
            if !misspelled && ["perTryTimeout", "retryOn", "retryRemoteLocalities"].contains(where: { node.value($0) != nil }) {
                report.error(node.line, "http retry policy configured when attempts are set to 0 (disabled)", code: IstioCode.schema)
            }
            return .off
        }
        let base = RetryPolicy.istioDefault
        var retryOn = base.retryOn, codes = base.retriableStatusCodes
        var valid = true
        if let retryOnNode = node.value("retryOn"), let text = retryOnNode.text, !text.isEmpty {
            for part in text.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            where !RetryOnNames.isValid(part) {
                let hint = Suggestion.hint(for: part, in: RetryOn.names.map(\.name))
                report.error(retryOnNode.line, "\"\(part)\" is not a valid retryOn policy\(hint)", code: IstioCode.schema)
                valid = false
            }
            let parsed = ParsedRetryOn(text)
            retryOn = parsed.conditions
            codes = parsed.statusCodes
        }
        var perTryTimeout: Duration?
        if let node = node.value("perTryTimeout") {
            perTryTimeout = PolicyField.duration(node, field: "perTryTimeout", report)
            valid = valid && perTryTimeout != nil
        }
        var backoff = base.backoffBase
        if let node = node.value("backoff") {
            guard let value = PolicyField.duration(node, field: "backoff", report) else { return nil }
            backoff = value
        }
        guard valid else { return nil }
        return RetryPolicy(retries: attempts, retryOn: retryOn, retriableStatusCodes: codes, perTryTimeout: perTryTimeout,
                           avoidPreviousHosts: node.value("retryIgnorePreviousHosts")?.boolean ?? base.avoidPreviousHosts,
                           hostSelectionAttempts: base.hostSelectionAttempts, backoffBase: backoff)
    }

    static func fault(_ node: Node, _ report: Reporter) -> FaultPolicy? {
        let delayNode = node.value("delay"), abortNode = node.value("abort")
        if delayNode == nil && abortNode == nil {
            report.error(node.line, "HTTP fault injection must have an abort and/or a delay", code: IstioCode.schema)
            return nil
        }
        var valid = true
        var delay: FaultDelay?
        if let delayNode {
            delay = faultDelay(delayNode, report)
            valid = delay != nil
        }
        var abort: FaultAbort?
        if let abortNode {
            abort = faultAbort(abortNode, report)
            valid = valid && abort != nil
        }
        return valid ? FaultPolicy(delay: delay, abort: abort) : nil
    }

    /// `fault.delay`: `fixedDelay` (`exponentialDelay` is refused, as Istio does) for `percentage` (or the
    /// deprecated integer `percent`) of requests; 0% when neither is given.
    static func faultDelay(_ node: Node, _ report: Reporter) -> FaultDelay? {
        if node.value("exponentialDelay") != nil {
            report.error(node.keyLine("exponentialDelay"), "exponentialDelay not supported yet", code: IstioCode.schema)
            return nil
        }
        guard let fixed = node.value("fixedDelay") else {
            report.error(node.line, "delay needs fixedDelay", code: IstioCode.schema)
            return nil
        }
        let duration = PolicyField.duration(fixed, field: "fixedDelay", report)
        var percentage: Percentage? = .zero
        if let percentageNode = node.value("percentage") {
            percentage = PolicyField.percentage(percentageNode, field: "percentage", report)
        } else if let percentNode = node.value("percent"), let value = percentNode.integer {
            if (0...100).contains(value) {
                percentage = Percentage(percent: Double(value))
            } else {
                report.error(percentNode.line, "percentage \(value) is not in range 0..100", code: IstioCode.schema)
                percentage = nil
            }
        }
        if node.value("percentage") == nil && node.value("percent") == nil {
            report.warning(node.line, "delay has no percentage: Istio delays no request (add percentage: {value: 100} for all)")
        }
        guard let duration, let percentage else { return nil }
        return FaultDelay(fixedDelay: duration, percentage: percentage)
    }

    /// `fault.abort`: `httpStatus` (200–599) or `grpcStatus` (a gRPC code name) for `percentage` of requests
    /// (0% when not given); `http2Error` is refused, as Istio does.
    static func faultAbort(_ node: Node, _ report: Reporter) -> FaultAbort? {
        var percentage: Percentage? = .zero
        if let percentageNode = node.value("percentage") {
            percentage = PolicyField.percentage(percentageNode, field: "percentage", report)
        } else {
            report.warning(node.line, "abort has no percentage: Istio aborts no request (add percentage: {value: 100} for all)")
        }
        let status: FaultAbort.Status?
        if let statusNode = node.value("httpStatus") {
            status = PolicyField.httpStatus(statusNode, field: "httpStatus", report).map { .http($0) }
        } else if let grpcNode = node.value("grpcStatus"), let name = grpcNode.text {
            status = GRPCStatusName.code(name).map { .grpc($0) }
            if status == nil {
                let hint = Suggestion.hint(for: name, in: GRPCStatusName.codes.map(\.name))
                report.error(grpcNode.line, "gRPC status \"\(name)\" is not supported\(hint)", code: IstioCode.schema)
            }
        } else if node.value("http2Error") != nil {
            report.error(node.keyLine("http2Error"), "HTTP/2 abort fault injection not supported yet", code: IstioCode.schema)
            return nil
        } else {
            report.warning(node.line, "abort configured, but error type not set; it is ignored")
            return nil
        }
        guard let status, let percentage else { return nil }
        return FaultAbort(status: status, percentage: percentage)
    }
}

/// Which parts of `retryOn` Istio's validation accepts: a condition name, or a status code Go's
/// `net/http.StatusText` knows.
enum RetryOnNames {
    static let statusCodes: Set<Int> = Set([100, 101, 102, 103, 226, 421, 422, 423, 424, 425, 426, 428, 429, 431, 451, 510, 511])
        .union(200...208).union(300...308).union(400...418).union(500...508).subtracting([306])

    static func isValid(_ part: String) -> Bool {
        if let code = Int(part) { return statusCodes.contains(code) }
        return RetryOn.names.contains { $0.name == part }
    }
}

extension Schema {
    /// The field names of an object shape (none for other shapes).
    static func fieldNames(of shape: Shape) -> [String] {
        guard case .object(let object) = shape else { return [] }
        return object.names
    }
}
