"""Fault injection, redirects and direct responses, modelled on Istio's "Fault Injection" task page and
its HTTPRoute reference: answers the gateway gives without (or before) an upstream, over HTTP/1.1 and HTTP/2."""

from __future__ import annotations

import http.client
import time

from harness.admin import Admin
from harness.h2 import H2Client
from harness.proxy import tutorial_istio, write_config

ROUTES = tutorial_istio("""\
  - match:
    - headers:
        end-user:
          exact: jason
      uri:
        prefix: /delayed
    fault:
      delay:
        fixedDelay: 0.3s
        percentage:
          value: 100
    route:
    - destination:
        host: nodejs
        subset: v1
  - match:
    - headers:
        end-user:
          exact: jason
    fault:
      abort:
        httpStatus: 500
        percentage:
          value: 100.0
    route:
    - destination:
        host: nodejs
        subset: v1
  - match:
    - uri:
        prefix: /sometimes
    fault:
      abort:
        httpStatus: 503
        percentage:
          value: 20
    route:
    - destination:
        host: nodejs
        subset: v1
  - match:
    - uri:
        prefix: /old
    redirect:
      uri: /new
      redirectCode: 302
  - match:
    - uri:
        exact: /gone
    directResponse:
      status: 410
      body:
        string: gone
  - route:
    - destination:
        host: nodejs
        subset: v1
""", {"v1": "v1"})


def get(conn: http.client.HTTPConnection, path: str, headers: dict | None = None) -> tuple[int, str, dict]:
    conn.request("GET", path, headers=headers or {})
    resp = conn.getresponse()
    return resp.status, resp.read().decode(), {k.lower(): v for k, v in resp.getheaders()}


def test_fault_abort_answers_without_the_upstream(tmp_path, upstreams, start_proxy, kanaria_only):
    """Istio's task: `abort: {httpStatus: 500, percentage: 100}` for end-user jason. Jason gets 500 "fault filter
    abort" and the upstream never sees his requests; others are served. Counted with flag FI."""
    v1 = upstreams("v1")
    proxy = start_proxy(write_config(tmp_path / "c", {"v1": [v1.port]}, istio_yaml=ROUTES), workers=1)
    conn = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=10)
    assert get(conn, "/productpage", {"end-user": "jason"})[:2] == (500, "fault filter abort")
    assert get(conn, "/productpage")[0] == 200  # the same keep-alive connection goes on
    conn.close()
    with H2Client(proxy.port) as client:
        resp = client.request("GET", "/productpage", headers=[("end-user", "jason")])
    assert (resp.status, bytes(resp.body)) == (500, b"fault filter abort")
    assert [r.target for r in v1.seen()] == ["/productpage"]
    flags = {s.labels["response_flags"]: s.value for s in Admin(proxy.admin_port).metric("istio_requests_total")}
    assert flags == {"FI": 2, "-": 1}


def test_fault_delay_holds_the_request_then_serves_it(tmp_path, upstreams, start_proxy, kanaria_only):
    """`delay: {fixedDelay: 0.3s, percentage: 100}`: the answer is the upstream's, at least 0.3 s later, flagged DI."""
    v1 = upstreams("v1")
    proxy = start_proxy(write_config(tmp_path / "c", {"v1": [v1.port]}, istio_yaml=ROUTES), workers=1)
    conn = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=10)
    started = time.monotonic()
    status, body, _ = get(conn, "/delayed", {"end-user": "jason"})
    assert (status, body) == (200, "v1\n")
    assert time.monotonic() - started >= 0.3
    conn.close()
    with H2Client(proxy.port) as client:
        started = time.monotonic()
        resp = client.request("GET", "/delayed", headers=[("end-user", "jason")])
        assert (resp.status, bytes(resp.body)) == (200, b"v1\n")
        assert time.monotonic() - started >= 0.3
    flags = [s.labels["response_flags"] for s in Admin(proxy.admin_port).metric("istio_requests_total")]
    assert sum(1 for f in flags if f == "DI") == 1 and len(flags) == 1  # both requests: one series, DI
    assert sum(s.value for s in Admin(proxy.admin_port).metric("istio_requests_total")) == 2


def test_fault_percentage_is_exact_per_worker(tmp_path, upstreams, start_proxy, kanaria_only):
    """`percentage: 20` aborts exactly every fifth request of a worker, as the split is exact: 100 requests on one
    connection give 20 aborts, 80 reach the upstream."""
    v1 = upstreams("v1")
    proxy = start_proxy(write_config(tmp_path / "c", {"v1": [v1.port]}, istio_yaml=ROUTES), workers=1)
    conn = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=10)
    statuses = [get(conn, "/sometimes")[0] for _ in range(100)]
    conn.close()
    assert statuses.count(503) == 20 and statuses.count(200) == 80
    aborted = [i for i, s in enumerate(statuses) if s == 503]
    assert all(b - a == 5 for a, b in zip(aborted, aborted[1:]))
    assert len(v1.seen()) == 80


def test_redirect_and_direct_response(tmp_path, upstreams, start_proxy, kanaria_only):
    """`redirect: {uri: /new, redirectCode: 302}` answers 302 with the new Location, the query kept;
    `directResponse: {status: 410, body: {string: gone}}` answers 410 "gone"; neither reaches the upstream."""
    v1 = upstreams("v1")
    proxy = start_proxy(write_config(tmp_path / "c", {"v1": [v1.port]}, istio_yaml=ROUTES), workers=1)
    conn = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=10)
    status, _, headers = get(conn, "/old/page?x=1", {"host": "shop.example"})
    assert (status, headers["location"]) == (302, "http://shop.example/new?x=1")
    assert get(conn, "/gone")[:2] == (410, "gone")
    conn.close()
    with H2Client(proxy.port, authority="shop.example") as client:
        moved = client.request("GET", "/old?y=2")
        gone = client.request("GET", "/gone")
    assert (moved.status, moved.header("location")) == (302, "http://shop.example/new?y=2")
    assert (gone.status, bytes(gone.body)) == (410, b"gone")
    assert v1.seen() == []
