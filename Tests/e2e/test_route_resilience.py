"""Route timeouts and retries, modelled on Istio's "Request Timeouts" and "Retries" task pages: the
VirtualService fields as Istio documents them, the answers Istio's gateway gives, over HTTP/1.1 and HTTP/2."""

from __future__ import annotations

import http.client
import time

from harness.admin import Admin
from harness.h2 import H2Client
from harness.proxy import tutorial_istio, write_config

V1 = "outbound|8080|v1|nodejs.default.svc.cluster.local"

ROUTES = tutorial_istio("""\
  - match:
    - uri:
        prefix: /slow
    timeout: 0.5s
    route:
    - destination:
        host: nodejs
        subset: v1
  - match:
    - uri:
        prefix: /retried
    retries:
      attempts: 3
      retryOn: 5xx
    route:
    - destination:
        host: nodejs
        subset: v1
  - match:
    - uri:
        prefix: /bad
    retries:
      attempts: 2
      retryOn: gateway-error
    route:
    - destination:
        host: nodejs
        subset: bad
  - match:
    - uri:
        prefix: /never-retried
    retries:
      attempts: 0
    route:
    - destination:
        host: nodejs
        subset: v1
  - route:
    - destination:
        host: nodejs
        subset: v1
""", {"v1": "v1", "bad": "v3"})


def h1(port: int, path: str) -> tuple[int, str, float]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    started = time.monotonic()
    conn.request("GET", path)
    resp = conn.getresponse()
    body = resp.read().decode()
    conn.close()
    return resp.status, body, time.monotonic() - started


def test_route_timeout_answers_504_on_time(tmp_path, upstreams, start_proxy, kanaria_only):
    """`timeout: 0.5s` in front of an upstream that takes 2 s: 504 "upstream request timeout" after about 0.5 s,
    counted with flag UT and in Envoy's upstream_rq_timeout; the same over HTTP/2."""
    v1 = upstreams("v1")
    proxy = start_proxy(write_config(tmp_path / "c", {"v1": [v1.port]}, istio_yaml=ROUTES), workers=1)
    status, body, elapsed = h1(proxy.port, "/slow?ms=2000")
    assert (status, body) == (504, "upstream request timeout")
    assert 0.45 <= elapsed < 1.9, elapsed  # the answer came from the timeout, not from the upstream
    assert h1(proxy.port, "/slow?ms=10")[0] == 200  # a fast answer is relayed

    with H2Client(proxy.port) as client:
        started = time.monotonic()
        resp = client.request("GET", "/slow?ms=2000")
        elapsed = time.monotonic() - started
    assert (resp.status, bytes(resp.body)) == (504, b"upstream request timeout")
    assert 0.45 <= elapsed < 1.9, elapsed

    admin = Admin(proxy.admin_port)
    assert sum(s.value for s in admin.metric("istio_requests_total", response_code="504", response_flags="UT")) == 2
    assert admin.metric("envoy_cluster_upstream_rq_timeout", cluster_name=V1)[0].value == 2


def test_retried_503_becomes_200_and_the_upstream_saw_every_try(tmp_path, upstreams, start_proxy, kanaria_only):
    """`retries: {attempts: 3, retryOn: 5xx}` over two v1 endpoints, one answering 503: every client gets 200;
    each request the failing endpoint saw was tried again on the other (previous hosts are avoided)."""
    bad, good = upstreams("v1", "unavailable"), upstreams("v1")
    proxy = start_proxy(write_config(tmp_path / "c", {"v1": [bad.port, good.port]}, istio_yaml=ROUTES), workers=1)
    conn = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=10)
    statuses = []
    for _ in range(20):
        conn.request("GET", "/retried")
        resp = conn.getresponse()
        resp.read()
        statuses.append(resp.status)
    conn.close()
    with H2Client(proxy.port) as client:
        statuses += [r.status for r in client.many(["/retried"] * 20)]
    assert statuses == [200] * 40
    failed_tries = len(bad.seen())
    assert failed_tries >= 1
    assert len(good.seen()) == 40  # each request reached the good endpoint exactly once
    admin = Admin(proxy.admin_port)
    assert admin.metric("envoy_cluster_upstream_rq_retry", cluster_name=V1)[0].value == failed_tries
    assert admin.metric("envoy_cluster_upstream_rq_retry_success", cluster_name=V1)[0].value == failed_tries


def test_retries_run_out_with_503_and_urx(tmp_path, upstreams, start_proxy, kanaria_only):
    """Every endpoint answering 503 with `attempts: 2, retryOn: gateway-error`: the client gets the upstream's
    503 after 3 tries, all seen by the upstream, flagged URX; Envoy counts the exhausted retries."""
    bad = upstreams("v3", "unavailable")
    proxy = start_proxy(write_config(tmp_path / "c", {"v3": [bad.port]}, istio_yaml=ROUTES), workers=1)
    status, body, _ = h1(proxy.port, "/bad")
    assert (status, body) == (503, "unavailable\n")
    assert len(bad.seen()) == 3
    admin = Admin(proxy.admin_port)
    cluster = "outbound|8080|bad|nodejs.default.svc.cluster.local"
    assert admin.metric("envoy_cluster_upstream_rq_retry", cluster_name=cluster)[0].value == 2
    assert admin.metric("envoy_cluster_upstream_rq_retry_success", cluster_name=cluster)[0].value == 0
    assert admin.metric("envoy_cluster_upstream_rq_retry_limit_exceeded", cluster_name=cluster)[0].value == 1
    # Envoy flags the relayed answer URX: it would have been retried, but no retry was left.
    assert [s.labels["response_flags"] for s in admin.metric("istio_requests_total", response_code="503")] == ["URX"]


def test_attempts_zero_turns_retrying_off(tmp_path, upstreams, start_proxy, kanaria_only):
    """`attempts: 0`: a refused connection is not retried on the other endpoint (503 UF, no URX), while the
    default policy on the catch-all route does retry it."""
    good = upstreams("v1")
    refused = upstreams("v1")
    refused.stop()
    proxy = start_proxy(write_config(tmp_path / "c", {"v1": [refused.port, good.port]}, istio_yaml=ROUTES), workers=1)
    off = [h1(proxy.port, "/never-retried")[0] for _ in range(4)]
    assert sorted(off) == [200, 200, 503, 503]
    default = [h1(proxy.port, "/")[0] for _ in range(4)]
    assert default == [200] * 4
    flags = {s.labels["response_flags"] for s in Admin(proxy.admin_port).metric("istio_requests_total", response_code="503")}
    assert flags == {"UF"}
