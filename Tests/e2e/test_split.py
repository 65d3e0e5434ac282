"""The 80/20 split is exact: over one keep-alive connection, in every window of five requests of a worker, and over
fresh connections spread across workers (each worker's split is exact, so the total is within ±1 per worker)."""

from __future__ import annotations

import http.client
import os

import pytest

from harness.client import curl_versions
from harness.proxy import seed_istio_with_load_balancer, write_config


def versions_on_one_connection(port: int, count: int) -> list[str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    versions = []
    try:
        for i in range(count):
            conn.request("GET", f"/shark?i={i}")
            resp = conn.getresponse()
            body = resp.read()
            assert resp.status == 200, (i, resp.status, body)
            version = resp.getheader("x-version")
            assert body == f"{version}\n".encode(), f"header says {version}, body says {body!r}"
            versions.append(version)
            assert not resp.will_close, f"the proxy closed the keep-alive connection after request {i}"
    finally:
        conn.close()
    return versions


@pytest.mark.parametrize("workers", [1, None], ids=["workers=1", "workers=default"])
def test_1000_keepalive_requests_split_exactly_800_200(mesh, start_proxy, workers):
    config, v1, v2 = mesh
    proxy = start_proxy(config, workers=workers)
    versions = versions_on_one_connection(proxy.port, 1000)
    assert (versions.count("v1"), versions.count("v2")) == (800, 200)
    # and the upstreams agree with what the client saw
    assert (len(v1.seen()), len(v2.seen())) == (800, 200)


def test_every_window_of_five_has_exactly_one_v2(mesh, start_proxy):
    config, _, _ = mesh
    proxy = start_proxy(config, workers=1)
    versions = versions_on_one_connection(proxy.port, 200)
    bad = [i for i in range(len(versions) - 4) if versions[i:i + 5].count("v2") != 1]
    assert not bad, f"windows starting at {bad[:10]} do not hold exactly one v2: {''.join(v[1] for v in versions[:40])}…"


def test_200_fresh_connections_two_workers_split_160_40(mesh, start_proxy):
    config, _, _ = mesh
    proxy = start_proxy(config, workers=2)
    versions = curl_versions(proxy.url("/"), 200)
    v1 = versions.count("v1")
    assert v1 + versions.count("v2") == 200, versions
    assert abs(v1 - 160) <= 2, f"{v1} v1 / {200 - v1} v2 over 200 fresh connections; expected 160/40 ± 1 per worker"


def test_round_robin_among_a_subsets_endpoints(tmp_path, upstreams, start_proxy, kanaria_only):
    """Two WorkloadEntries labelled v1 and `loadBalancer: {simple: ROUND_ROBIN}`: the v1 share (80%) is split
    evenly between them."""
    v1a, v1b, v2 = upstreams("v1"), upstreams("v1"), upstreams("v2")
    config = write_config(tmp_path / "config", {"v1": [v1a.port, v1b.port], "v2": [v2.port]},
                          istio_yaml=seed_istio_with_load_balancer("ROUND_ROBIN"))
    proxy = start_proxy(config, workers=1)
    versions = versions_on_one_connection(proxy.port, 500)
    assert (versions.count("v1"), versions.count("v2")) == (400, 100)
    assert (len(v1a.seen()), len(v1b.seen()), len(v2.seen())) == (200, 200, 100)


def test_random_split_is_80_20_on_average(mesh, start_proxy, kanaria_only):
    """--split random draws per request as Envoy does: right on average only (loose bound, 1000 draws)."""
    config, _, _ = mesh
    proxy = start_proxy(config, workers=1, split="random")
    versions = versions_on_one_connection(proxy.port, 1000)
    v2 = versions.count("v2")
    assert 140 <= v2 <= 260, f"{v2} v2 of 1000 with --split random (expected about 200)"
