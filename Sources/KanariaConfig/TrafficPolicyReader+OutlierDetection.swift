import KanariaRouting
import Yams

/// `outlierDetection`, as Istio hands it to Envoy: 0 in a count disables that kind of ejection, 0 in
/// `maxEjectionPercent` keeps Envoy's 10%.
extension TrafficPolicyReader {
    func outlierDetection(_ node: Node) -> OutlierDetectionSettings? {
        var settings = OutlierDetectionSettings()
        if node.value("consecutive5xxErrors") != nil {
            settings.consecutive5xxErrors = count(node, "consecutive5xxErrors").flatMap { $0 == 0 ? nil : $0 }
        }
        settings.consecutiveGatewayErrors = count(node, "consecutiveGatewayErrors").flatMap { $0 == 0 ? nil : $0 }
        settings.splitExternalLocalOriginErrors = node.value("splitExternalLocalOriginErrors")?.boolean ?? false
        let localOrigin = count(node, "consecutiveLocalOriginFailures").flatMap { $0 == 0 ? nil : $0 }
        if let localOrigin, !settings.splitExternalLocalOriginErrors {
            report.error(node.value("consecutiveLocalOriginFailures")!.line, "consecutiveLocalOriginFailures \(localOrigin) needs splitExternalLocalOriginErrors: true",
                         code: IstioCode.schema)
        } else {
            settings.consecutiveLocalOriginFailures = localOrigin
        }
        if let interval = duration(node, "interval") { settings.intervalMilliseconds = interval }
        if let base = duration(node, "baseEjectionTime") { settings.baseEjectionTimeMilliseconds = base }
        if let percent = percent(node, "maxEjectionPercent"), percent > 0 { settings.maxEjectionPercent = percent }
        if let percent = percent(node, "minHealthPercent") { settings.minHealthPercent = percent }
        if let legacy = node.value("consecutiveErrors") {
            _ = count(node, "consecutiveErrors")
            report.warning(legacy.line, "consecutiveErrors is deprecated and Istio ignores it; use consecutiveGatewayErrors or consecutive5xxErrors")
        }
        return settings
    }
}
