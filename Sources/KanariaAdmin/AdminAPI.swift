import FoundationEssentials
import KanariaHTTPServer
import KanariaRouting
import KanariaTelemetry

/// Answers the admin requests (see `AdminServer`). Runs on the admin thread only.
final class AdminAPI: @unchecked Sendable {
    let registry: TelemetryRegistry
    let controls: AdminControls
    let split: SplitTracker

    init(registry: TelemetryRegistry, controls: AdminControls) {
        self.registry = registry
        self.controls = controls
        self.split = SplitTracker(registry: registry)
    }

    func answer(_ request: LocalRequest) -> LocalResponse {
        switch (request.method, request.path) {
        case (.get, "/ready"), (.head, "/ready"):
            return LocalResponse(contentType: "text/plain", "LIVE\n")
        case (.get, "/stats/prometheus"), (.get, "/metrics"):
            return LocalResponse(contentType: "text/plain; version=0.0.4; charset=utf-8", registry.prometheusText())
        case (.get, "/config_dump"):
            return json(ConfigDump.json(controls.configuration()))
        case (.get, "/routes"):
            return json(routesJSON(controls.configuration()))
        case (.get, "/clusters"):
            let state = controls.configuration()
            let snapshot = registry.snapshot()
            return request.queryParameter("format") == "json"
                ? json(ClustersView.json(state.table, snapshot: snapshot, registry: registry))
                : LocalResponse(contentType: "text/plain", ClustersView.text(state.table, snapshot: snapshot, registry: registry))
        case (.post, "/reload"):
            let outcome = controls.reload()
            var writer = JSONWriter()
            writer.object { json in
                json.member("applied", outcome.applied)
                json.member("generation", controls.configuration().generation)
                json.member("messages", array: { json in for line in outcome.messages { json.value(line) } })
            }
            return json(writer.text, status: outcome.applied ? 200 : 422)
        case (.get, "/weights"):
            return json(routesJSON(controls.configuration()))
        case (.post, "/weights"):
            return changeWeights(request)
        case (.get, "/dashboard"), (.get, "/"):
            return LocalResponse(contentType: "text/html; charset=utf-8", DashboardPage.html,
                                 headers: [("cache-control", "no-store")])
        case (.get, "/api/split"):
            return json(split.json(controls.configuration()), headers: [("cache-control", "no-store")])
        case (_, "/ready"), (_, "/stats/prometheus"), (_, "/config_dump"), (_, "/routes"), (_, "/clusters"),
             (_, "/reload"), (_, "/weights"), (_, "/dashboard"), (_, "/api/split"):
            return LocalResponse(status: 405, contentType: "text/plain", "method not allowed\n")
        default:
            return LocalResponse(status: 404, contentType: "text/plain", "not found; see /dashboard, /stats/prometheus, /config_dump, /clusters, /routes, /ready\n")
        }
    }

    private func json(_ text: String, status: Int = 200, headers: [(name: String, value: String)] = []) -> LocalResponse {
        LocalResponse(status: status, contentType: "application/json", text + "\n", headers: headers)
    }

    private func routesJSON(_ state: AdminConfigurationState) -> String {
        var json = JSONWriter()
        json.object { json in
            json.member("generation", state.generation)
            json.member("routes", array: { json in
                for (index, route) in state.table.routes.enumerated() { ConfigDump.routeJSON(index, route, state.table, &json) }
            })
        }
        return json.text
    }

    private struct WeightChange: Decodable {
        var route: Int
        var weights: [Int]
    }

    /// `POST /weights` with `{"route": 0, "weights": [50, 50]}`: applied like a reload, for the next requests.
    private func changeWeights(_ request: LocalRequest) -> LocalResponse {
        let change: WeightChange
        do {
            change = try JSONDecoder().decode(WeightChange.self, from: Data(request.body))
        } catch {
            return LocalResponse(status: 400, contentType: "text/plain",
                                 "expected a JSON body like {\"route\": 0, \"weights\": [50, 50]}\n")
        }
        // Istio's weights are int32 and their total at most UInt32.max; larger ones would overflow the sums the
        // route table and the picker keep (and crash the proxy), so they are refused here, as Istio refuses them.
        if let huge = change.weights.first(where: { $0 > Int(Int32.max) }) {
            return LocalResponse(status: 422, contentType: "text/plain",
                                 "weight \(huge) is larger than \(Int32.max) (Istio's weights are int32)\n")
        }
        let total = change.weights.reduce(0) { $0 + max(0, $1) }
        if total > Int(UInt32.max) {
            return LocalResponse(status: 422, contentType: "text/plain",
                                 "the weights add up to \(total), more than Istio's \(UInt32.max)\n")
        }
        switch controls.setWeights(change.route, change.weights) {
        case .success(let state):
            return json(routesJSON(state))
        case .failure(let error):
            return LocalResponse(status: 422, contentType: "text/plain", "\(error)\n")
        }
    }
}
