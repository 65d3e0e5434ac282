"""Retries with no policy configured: Istio's gateway retries a failed connection on another endpoint
of the subset (its default policy: 2 retries on connect-failure, refused-stream, unavailable and cancelled), so
killing one of two v1 endpoints under traffic costs the clients nothing, over HTTP/1.1 and over HTTP/2."""

from __future__ import annotations

import http.client

from harness.admin import Admin
from harness.gateway import Server, Topology, backends, start_gateway  # noqa: F401 (fixtures)
from harness.h2 import H2Client
from harness.proxy import write_config

V1 = "outbound|8080|v1|nodejs.default.svc.cluster.local"


def versions_of(upstreams_) -> dict[str, int]:
    counts: dict[str, int] = {}
    for up in upstreams_:
        counts[up.version] = counts.get(up.version, 0) + len(up.seen())
    return counts


def test_killed_endpoint_costs_http1_clients_nothing(tmp_path, upstreams, start_proxy, kanaria_only):
    """Two v1 endpoints and one v2; one v1 endpoint is stopped after 100 of 300 keep-alive requests. Every request
    is answered 200, the split stays 240/60, and the stopped endpoint saw nothing after it stopped."""
    v1a, v1b, v2 = upstreams("v1"), upstreams("v1"), upstreams("v2")
    proxy = start_proxy(write_config(tmp_path / "c", {"v1": [v1a.port, v1b.port], "v2": [v2.port]}), workers=1)
    conn = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=10)
    statuses: list[int] = []
    versions: list[str] = []
    for i in range(300):
        if i == 100:
            assert v1a.seen() and v1b.seen(), "both v1 endpoints served before the kill"
            v1b.stop()
            seen_by_killed = len(v1b.seen())
        conn.request("GET", "/")
        resp = conn.getresponse()
        resp.read()
        statuses.append(resp.status)
        versions.append(resp.getheader("x-version"))
    conn.close()
    assert statuses == [200] * 300
    assert (versions.count("v1"), versions.count("v2")) == (240, 60)
    assert len(v1b.seen()) == seen_by_killed
    assert len(v1a.seen()) == 240 - seen_by_killed
    # Envoy's per-cluster retry counters say what happened: every retry of the v1 cluster succeeded.
    admin = Admin(proxy.admin_port)
    retries = admin.metric("envoy_cluster_upstream_rq_retry", cluster_name=V1)[0].value
    assert retries >= 1
    assert admin.metric("envoy_cluster_upstream_rq_retry_success", cluster_name=V1)[0].value == retries
    assert admin.metric("envoy_cluster_upstream_rq_retry_limit_exceeded", cluster_name=V1)[0].value == 0


def test_killed_endpoint_costs_http2_clients_nothing(upstreams, start_gateway):
    """The same over one h2c connection: 100 streams, then one v1 endpoint stops, then 200 more: all 200."""
    v1a, v1b, v2 = upstreams("v1"), upstreams("v1"), upstreams("v2")
    proxy = start_gateway(Topology([Server(80, "HTTP2")], {"v1": [v1a.port, v1b.port], "v2": [v2.port]}), workers=1)
    with H2Client(proxy.port_of(80)) as client:
        first = client.many(["/"] * 100)
        v1b.stop()
        rest = client.many(["/"] * 200)
    statuses = [r.status for r in first + rest]
    assert statuses == [200] * 300
    versions = [r.header("x-version") for r in first + rest]
    assert (versions.count("v1"), versions.count("v2")) == (240, 60)
