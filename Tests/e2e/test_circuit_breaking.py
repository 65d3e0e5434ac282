"""Circuit breaking, as Istio's "Circuit Breaking" task sets it up: `maxConnections: 1`,
`http1MaxPendingRequests: 1`, `maxRequestsPerConnection: 1`. Under concurrent load, what does not fit in the one
connection and the one pending slot is answered 503 with flag UO at once, and counted."""

from __future__ import annotations

import http.client
import threading

from harness.admin import Admin
from harness.proxy import seed_dir, write_config

V1 = "outbound|8080|v1|nodejs.default.svc.cluster.local"

POLICY = """\
    connectionPool:
      tcp:
        maxConnections: 1
      http:
        http1MaxPendingRequests: 1
        maxRequestsPerConnection: 1
"""


def istio_with_policy(policy: str) -> str:
    seed = (seed_dir() / "node-istio.yaml").read_text()
    seed = seed.replace("      weight: 80\n", "      weight: 100\n").replace("      weight: 20\n", "      weight: 0\n")
    return seed.replace("  host: nodejs\n  subsets:", "  host: nodejs\n  trafficPolicy:\n" + policy + "  subsets:")


def test_overflow_answers_503_uo_under_concurrent_load(tmp_path, upstreams, start_proxy, kanaria_only):
    """20 clients at once against an upstream taking 300 ms: the one connection and the one pending slot serve
    some, the rest get Envoy's overflow answer; the upstream never sees more than one request at a time."""
    v1 = upstreams("v1")
    proxy = start_proxy(write_config(tmp_path / "c", {"v1": [v1.port]}, istio_yaml=istio_with_policy(POLICY)), workers=1)
    results: list[tuple[int, str]] = []
    lock = threading.Lock()
    start = threading.Barrier(20)

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=20)
        start.wait()
        conn.request("GET", "/slow?ms=300")
        resp = conn.getresponse()
        body = resp.read().decode()
        conn.close()
        with lock:
            results.append((resp.status, body))

    threads = [threading.Thread(target=client) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ok = [r for r in results if r[0] == 200]
    overflowed = [r for r in results if r[0] == 503]
    assert len(ok) + len(overflowed) == 20
    assert len(ok) >= 2 and len(overflowed) >= 10, results
    assert all(body.endswith("reset reason: overflow") for _, body in overflowed)
    assert len(v1.seen()) == len(ok)
    assert v1.accepts == len(ok)  # maxRequestsPerConnection: 1, one connection per request
    admin = Admin(proxy.admin_port)
    uo = sum(s.value for s in admin.metric("istio_requests_total", response_code="503", response_flags="UO"))
    assert uo == len(overflowed)
    assert admin.metric("envoy_cluster_upstream_rq_pending_overflow", cluster_name=V1)[0].value == len(overflowed)


def test_overflow_over_http2_streams(tmp_path, upstreams, start_proxy, kanaria_only):
    """The same limits with 20 streams on one h2c connection: the streams that fit are served, the rest get the
    overflow answer, each stream on its own."""
    from harness.h2 import H2Client

    v1 = upstreams("v1")
    proxy = start_proxy(write_config(tmp_path / "c", {"v1": [v1.port]}, istio_yaml=istio_with_policy(POLICY)), workers=1)
    with H2Client(proxy.port) as client:
        responses = client.many(["/slow?ms=300"] * 20)
    statuses = [r.status for r in responses]
    assert statuses.count(200) >= 2 and statuses.count(503) >= 10, statuses
    assert statuses.count(200) + statuses.count(503) == 20
    assert all(bytes(r.body).endswith(b"reset reason: overflow") for r in responses if r.status == 503)
    assert len(v1.seen()) == statuses.count(200)
