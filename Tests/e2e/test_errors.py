"""Errors as Istio's ingress gateway answers them: 404 when no route matches, 503 `no healthy upstream` for a subset
without endpoints, 503 when the upstream refuses or drops the connection before answering, 502 when it answers
with something that is not HTTP. After each, the proxy is still up and serving."""

from __future__ import annotations

import pytest

from harness.client import request
from harness.proxy import write_config, tutorial_istio
from harness.upstream import closed_port

API_ONLY = tutorial_istio("""\
  - match:
    - uri:
        prefix: /api
    route:
    - destination:
        host: nodejs
        subset: v1
""", {'v1': 'v1', 'v2': 'v2'})

pytestmark = pytest.mark.usefixtures("kanaria_only")


def test_404_when_no_route_matches(tmp_path, upstreams, start_proxy):
    v1 = upstreams("v1")
    proxy = start_proxy(write_config(tmp_path / "c", {"v1": [v1.port]}, istio_yaml=API_ONLY), workers=1)
    ok = request(proxy.port, "/api/sharks")
    assert (ok.status, ok.header("x-version")) == (200, "v1")
    miss = request(proxy.port, "/other")
    assert miss.status == 404
    assert [r.target for r in v1.seen()] == ["/api/sharks"]


def test_503_no_healthy_upstream_for_a_subset_without_endpoints(tmp_path, upstreams, start_proxy):
    """Only v1 has a WorkloadEntry: v1's 80% are served, v2's 20% get 503 `no healthy upstream`."""
    v1 = upstreams("v1")
    proxy = start_proxy(write_config(tmp_path / "c", {"v1": [v1.port]}), workers=1)
    answers = [request(proxy.port, "/") for _ in range(10)]
    statuses = [a.status for a in answers]
    assert sorted(statuses) == [200] * 8 + [503] * 2, statuses
    for a in answers:
        if a.status == 503:
            assert a.body.strip() == b"no healthy upstream", a.body
    assert len(v1.seen()) == 8


def test_503_when_the_upstream_refuses_the_connection(tmp_path, upstreams, start_proxy):
    v1 = upstreams("v1")
    proxy = start_proxy(write_config(tmp_path / "c", {"v1": [v1.port], "v2": [closed_port()]}), workers=1)
    statuses = [request(proxy.port, "/").status for _ in range(10)]
    assert sorted(statuses) == [200] * 8 + [503] * 2, statuses


@pytest.mark.parametrize("behaviour,status", [("reset", 503), ("close", 503), ("garbage", 502)])
def test_upstream_misbehaving_before_answering(tmp_path, upstreams, start_proxy, behaviour, status):
    """reset: RST after reading the request; close: FIN without a byte of answer; garbage: not HTTP."""
    v1, bad = upstreams("v1"), upstreams("v2", behaviour)
    proxy = start_proxy(write_config(tmp_path / "c", {"v1": [v1.port], "v2": [bad.port]}), workers=1)
    answers = [request(proxy.port, "/") for _ in range(10)]
    statuses = [a.status for a in answers]
    assert sorted(statuses) == [200] * 8 + [status] * 2, statuses
    assert len(bad.seen()) >= 2  # the requests did reach the misbehaving upstream
    # and the proxy is still healthy
    assert request(proxy.port, "/").status in (200, status)


def test_seed_without_workload_entries_answers_503_everywhere(tmp_path, start_proxy):
    """The tutorial's manifests alone load; with no endpoints at all every request is 503 `no healthy upstream`."""
    config = write_config(tmp_path / "c", {})
    proxy = start_proxy(config, workers=1)
    for _ in range(5):
        a = request(proxy.port, "/")
        assert (a.status, a.body.strip()) == (503, b"no healthy upstream")
