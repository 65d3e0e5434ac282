// KanariaTelemetry: Istio standard metrics, per-worker shards, Prometheus text, access logs (being written).
