"""A real Prometheus server (Debian's `prometheus`) scrapes Kanaria's admin port, and the queries Istio's Service
Dashboard and Flagger run answer exactly what was sent; `promtool check metrics` finds nothing wrong with the
exposition but the one unit lint that Istio's own metric name carries.

Exact numbers come from instant queries over the counters. The rate()-based queries are made exact by construction:
the traffic before Prometheus's first scrape and the traffic after it have the same proportions (100 + 5 then
400 + 20), so every series has the same first-sample-to-increase ratio and Prometheus extrapolates all of them by the
same factor, which cancels in a ratio. The p99 is bounded to the bucket the slow requests fall in, not equated.
"""

from __future__ import annotations

import subprocess
import threading

import pytest

from harness.admin import Admin
from harness.client import request
from harness.prometheus import PrometheusServer, require_tool
from harness.proxy import write_config, tutorial_istio
from test_split import versions_on_one_connection

pytestmark = pytest.mark.usefixtures("kanaria_only")

SERVICE = "nodejs.default.svc.cluster.local"

# The tutorial's routing plus a route to a subset that has no endpoints (503 "no healthy upstream").
WITH_BROKEN_ROUTE = tutorial_istio("""\
  - match:
    - uri:
        prefix: /broken
    route:
    - destination:
        host: nodejs
        subset: v3
  - route:
    - destination:
        host: nodejs
        subset: v1
      weight: 80
    - destination:
        host: nodejs
        subset: v2
      weight: 20
""", {'v1': 'v1', 'v2': 'v2', 'v3': 'v3'})


def send(port: int, ok: int, broken: int, slow: int = 0, slow_ms: int = 300) -> None:
    """`ok` requests through the 80/20 route on one keep-alive connection, `slow` of them replaced by /slow
    requests sent concurrently, and `broken` requests that get 503 UH."""
    failures: list = []

    def one_slow():
        try:
            resp = request(port, f"/slow?ms={slow_ms}")
            if resp.status != 200:
                failures.append(resp.status)
        except Exception as e:  # noqa: BLE001 - reported below
            failures.append(e)

    threads = [threading.Thread(target=one_slow) for _ in range(slow)]
    for t in threads:
        t.start()
    versions_on_one_connection(port, ok - slow)
    for _ in range(broken):
        assert request(port, "/broken").status == 503
    for t in threads:
        t.join(30)
    assert not failures, failures


def test_prometheus_queries_answer_what_was_sent(tmp_path, upstreams, start_proxy):
    v1, v2 = upstreams("v1"), upstreams("v2")
    proxy = start_proxy(write_config(tmp_path / "c", {"v1": [v1.port], "v2": [v2.port]},
                                     istio_yaml=WITH_BROKEN_ROUTE), workers=1)
    # Before Prometheus's first scrape: a fifth of the traffic, in the same proportions as the rest.
    send(proxy.port, ok=100, broken=5)
    with PrometheusServer(tmp_path / "prometheus", proxy.admin_port, interval="1s") as prom:
        prom.wait_for("sum(istio_requests_total)", lambda v: v == 105)
        send(proxy.port, ok=400, broken=20, slow=25)
        # a scrape after the last request
        prom.wait_for("sum(istio_requests_total)", lambda v: v == 525)
        assert prom.scalar('up{job="kanaria"}') == 1

        # The tutorial's check in Istio's Service Dashboard: requests by destination version and response code.
        assert prom.vector('sum by (destination_version) (istio_requests_total{response_code="200"})') == \
            {("v1",): 400, ("v2",): 100}
        assert prom.vector(f'sum by (destination_workload, response_code) (istio_requests_total'
                           f'{{reporter="source", destination_service="{SERVICE}"}})') == \
            {("nodejs-v1", "200"): 400, ("nodejs-v2", "200"): 100, ("unknown", "503"): 25}
        assert prom.vector('sum by (response_flags) (istio_requests_total{response_code=~"5.*"})') == \
            {("UH",): 25}

        # The 5xx share, from the counters and as Flagger's request-success-rate computes it (rate over 1m).
        assert prom.scalar('sum(istio_requests_total{response_code=~"5.*"}) / sum(istio_requests_total)') == \
            pytest.approx(25 / 525, abs=1e-12)
        success = prom.scalar(
            f'sum(rate(istio_requests_total{{reporter="source", destination_service="{SERVICE}", '
            f'response_code!~"5.*"}}[1m])) / sum(rate(istio_requests_total{{reporter="source", '
            f'destination_service="{SERVICE}"}}[1m])) * 100')
        assert success == pytest.approx(100 * 500 / 525, rel=1e-9)
        share_5xx = prom.scalar('sum(increase(istio_requests_total{response_code=~"5.*"}[1m])) '
                                '/ sum(increase(istio_requests_total[1m]))')
        assert share_5xx == pytest.approx(20 / 420, rel=1e-9)
        by_version = prom.vector('sum by (destination_version) (rate(istio_requests_total{response_code="200"}[1m]))')
        assert by_version[("v1",)] / by_version[("v2",)] == pytest.approx(4, rel=1e-9)

        # Latency: 25 of the 420 requests after the first scrape waited 300 ms upstream, all others were fast, so
        # the p99 (Flagger's request-duration) lies in the 250–500 ms bucket and the median far below it.
        p99 = prom.scalar('histogram_quantile(0.99, sum by (le) (rate(istio_request_duration_milliseconds_bucket'
                          f'{{reporter="source", destination_service="{SERVICE}"}}[1m])))')
        assert p99 is not None and 250 < p99 <= 500, p99
        p50 = prom.scalar('histogram_quantile(0.5, sum by (le) (rate(istio_request_duration_milliseconds_bucket[1m])))')
        assert p50 is not None and p50 <= 100, p50
        # and the slow requests are where the counters say: 25 of them above 250 ms, none above 500 ms
        assert prom.scalar('sum(istio_request_duration_milliseconds_count) - '
                           'sum(istio_request_duration_milliseconds_bucket{le="250"})') == 25
        assert prom.scalar('sum(istio_request_duration_milliseconds_count) - '
                           'sum(istio_request_duration_milliseconds_bucket{le="500"})') == 0
        # Kanaria's own families are scraped too.
        assert prom.scalar("kanaria_config_generation") == 1
        assert prom.scalar("sum(kanaria_upstream_connections_opened_total) + "
                           "sum(kanaria_upstream_connections_reused_total)") == 500


def test_promtool_finds_only_istios_unit_lint(tmp_path, upstreams, start_proxy):
    """`promtool check metrics` on a scrape holding every kind of series (200s, 404 NR with unknown labels, 503 UH,
    a reload): its only complaints are the ones Istio's and Envoy's metric names carry by contract (milliseconds in
    Istio's duration histogram; no `_total` on Envoy's cluster counters, which Envoy's own endpoint prints so)."""
    promtool = require_tool("promtool", "prometheus")
    v1, v2 = upstreams("v1"), upstreams("v2")
    proxy = start_proxy(write_config(tmp_path / "c", {"v1": [v1.port], "v2": [v2.port]},
                                     istio_yaml=WITH_BROKEN_ROUTE), workers=2)
    send(proxy.port, ok=50, broken=3)
    admin = Admin(proxy.admin_port)
    assert admin.post("/reload").status == 200
    text = admin.get("/stats/prometheus").body
    assert b'response_flags="UH"' in text and b'destination_version="v1"' in text
    out = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, timeout=60)
    lines = [l for l in (out.stdout + out.stderr).decode().splitlines() if l.strip()]
    envoy = [l for l in lines if l.startswith("envoy_cluster_")]
    assert envoy and all(l.endswith('counter metrics should have "_total" suffix') for l in envoy), envoy
    assert [l for l in lines if l not in envoy] == \
        ['istio_request_duration_milliseconds use base unit "seconds" instead of "milliseconds"'], \
        f"promtool check metrics (exit {out.returncode}):\n" + "\n".join(lines)
    # and without those families, promtool accepts the exposition outright
    rest = b"\n".join(l for l in text.split(b"\n")
                      if b"istio_request_duration_milliseconds" not in l and b"envoy_cluster_" not in l)
    clean = subprocess.run([promtool, "check", "metrics"], input=rest, capture_output=True, timeout=60)
    assert clean.returncode == 0 and not (clean.stdout + clean.stderr).strip(), \
        f"exit {clean.returncode}: {(clean.stdout + clean.stderr).decode()}"
