"""Upstream keep-alive: the proxy keeps a pool of upstream connections per worker, so many requests (on one client
connection or on many) open only a handful of upstream connections."""

from __future__ import annotations

import http.client

import pytest

from harness.client import curl_versions


@pytest.mark.parametrize("workers", [1, 2])
def test_200_requests_on_one_client_connection_reuse_upstream_connections(mesh, start_proxy, workers):
    config, v1, v2 = mesh
    proxy = start_proxy(config, workers=workers)
    conn = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=30)
    for _ in range(200):
        conn.request("GET", "/")
        resp = conn.getresponse()
        resp.read()
        assert resp.status == 200
    conn.close()
    assert (len(v1.seen()), len(v2.seen())) == (160, 40)
    limit = workers * 2
    assert v1.accepts <= limit and v2.accepts <= limit, \
        f"upstream accepts v1={v1.accepts} v2={v2.accepts} for 200 requests; expected at most {limit} each"


def test_200_fresh_client_connections_reuse_upstream_connections(mesh, start_proxy):
    config, v1, v2 = mesh
    proxy = start_proxy(config, workers=2)
    versions = curl_versions(proxy.url("/"), 200)
    assert len(versions) == 200
    assert v1.accepts <= 4 and v2.accepts <= 4, \
        f"upstream accepts v1={v1.accepts} v2={v2.accepts} for 200 client connections; expected at most 4 each"
