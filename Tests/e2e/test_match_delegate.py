"""Matches on query parameters, scheme and absent headers, and a delegate VirtualService, honoured by the running
proxy with real upstreams: Istio compiles these into the routes Envoy serves, and so does Kanaria."""

from __future__ import annotations

import pytest

from harness.client import request
from harness.proxy import tutorial_istio, write_config

pytestmark = pytest.mark.usefixtures("kanaria_only")

ROUTES = """\
  - match:
    - queryParams:
        version: {exact: v2}
    - scheme: {exact: https}
    route:
    - destination: {host: nodejs, subset: v2}
  - match:
    - uri: {prefix: /sharks}
    delegate:
      name: sharks
  - route:
    - destination: {host: nodejs, subset: v1}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: sharks
spec:
  http:
  - match:
    - uri: {prefix: /sharks/new}
      withoutHeaders:
        x-legacy: {}
    route:
    - destination: {host: nodejs, subset: v2}
  - route:
    - destination: {host: nodejs, subset: v1}
"""


@pytest.fixture
def routed(tmp_path, upstreams, start_proxy):
    v1, v2 = upstreams("v1"), upstreams("v2")
    config = write_config(tmp_path / "c", {"v1": [v1.port], "v2": [v2.port]},
                          istio_yaml=tutorial_istio(ROUTES, {"v1": "v1", "v2": "v2"}))
    return start_proxy(config), v1, v2


def version(port: int, path: str, headers: dict | None = None) -> str:
    resp = request(port, path, headers=headers)
    assert resp.status == 200, (path, resp.status)
    return resp.header("x-version")


def test_query_parameter_and_scheme_matches(routed):
    proxy, v1, v2 = routed
    assert version(proxy.port, "/fins?version=v2") == "v2"
    assert version(proxy.port, "/fins?version=v1") == "v1"
    assert version(proxy.port, "/fins?other=1&version=v2") == "v2"
    assert version(proxy.port, "/fins") == "v1"  # plain HTTP: scheme https does not match
    assert [r.target for r in v2.seen()] == ["/fins?version=v2", "/fins?other=1&version=v2"]


def test_delegate_routes_narrowed_by_the_parent(routed):
    proxy, v1, v2 = routed
    assert version(proxy.port, "/sharks/new/great-white") == "v2"
    assert version(proxy.port, "/sharks/new/great-white", {"x-legacy": "1"}) == "v1"
    assert version(proxy.port, "/sharks/old") == "v1"
    assert version(proxy.port, "/new/great-white") == "v1"  # outside the parent's /sharks prefix
    assert [r.target for r in v2.seen()] == ["/sharks/new/great-white"]
