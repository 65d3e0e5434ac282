import KanariaHTTPServer
import KanariaPosix
import KanariaRouting
import KanariaTelemetry

/// The admin endpoints, on their own thread, at Envoy's admin address by default (127.0.0.1:15000):
///
/// | path | answer |
/// |---|---|
/// | `GET /ready` | `LIVE` once serving (Envoy's answer) |
/// | `GET /stats/prometheus` | Istio's standard metrics and Kanaria's own, Prometheus text format |
/// | `GET /config_dump` | the compiled configuration as JSON |
/// | `GET /clusters` | each cluster's endpoints with health and counters (`?format=json` for JSON) |
/// | `GET /routes` | the routes with their matches and weights, JSON |
/// | `POST /reload` | reload the files (as SIGHUP does); JSON outcome |
/// | `GET /weights`, `POST /weights` | a route's weights; `{"route": 0, "weights": [50, 50]}` changes them live |
/// | `GET /dashboard` | the live split page; `GET /api/split` is its data |
public final class AdminServer: Sendable {
    private let server: LocalHTTPServer

    public init(listen: SocketAddress, registry: TelemetryRegistry, controls: AdminControls) throws(Errno) {
        let api = AdminAPI(registry: registry, controls: controls)
        server = try LocalHTTPServer(listen: listen, name: "kanaria-admin") { api.answer($0) }
    }

    public var address: SocketAddress { server.address }
    public func start() { server.start() }
    public func stop() { server.stop() }
}
