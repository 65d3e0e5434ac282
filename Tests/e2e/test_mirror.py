"""Request mirroring, as Istio's "Mirroring" task sets it up: every request (or a percentage of them) is copied to
the mirror destination with the `-shadow` authority, fire and forget; the primary answer is never delayed,
changed or failed by the copy. Over HTTP/1.1 and HTTP/2, with and without a body."""

from __future__ import annotations

import http.client

from harness.h2 import H2Client
from harness.proxy import tutorial_istio, write_config
from harness.waiting import wait_until

ROUTES = tutorial_istio("""\
  - match:
    - uri:
        prefix: /some
    route:
    - destination:
        host: nodejs
        subset: v1
    mirror:
      host: nodejs
      subset: v2
    mirrorPercentage:
      value: 25.0
  - match:
    - uri:
        prefix: /broken
    route:
    - destination:
        host: nodejs
        subset: v1
    mirror:
      host: nodejs
      subset: gone
  - route:
    - destination:
        host: nodejs
        subset: v1
      weight: 100
    mirror:
      host: nodejs
      subset: v2
""", {"v1": "v1", "v2": "v2", "gone": "v3"})


def post(conn: http.client.HTTPConnection, path: str, body: bytes | None = None) -> tuple[int, str]:
    conn.request("POST" if body is not None else "GET", path, body=body)
    resp = conn.getresponse()
    return resp.status, resp.read().decode()


def test_every_request_is_mirrored_with_the_shadow_host(tmp_path, upstreams, start_proxy, kanaria_only):
    """Istio's task: `mirror: v2` with no percentage copies every request. The client's answers all come from v1;
    v2 sees the same requests with Host `<host>-shadow`, bodies included, over HTTP/1.1 and HTTP/2."""
    v1, v2 = upstreams("v1"), upstreams("v2")
    proxy = start_proxy(write_config(tmp_path / "c", {"v1": [v1.port], "v2": [v2.port]}, istio_yaml=ROUTES), workers=1)
    conn = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=10)
    answers = [post(conn, "/get", None) for _ in range(5)] + [post(conn, "/upload", b"x" * 3000) for _ in range(5)]
    conn.close()
    with H2Client(proxy.port, authority="shop.example") as client:
        h2 = [client.request("GET", "/h2").status for _ in range(5)]
        uploaded = client.request("POST", "/upload", body=b"y" * 5000)
    assert [status for status, _ in answers[:5]] == [200] * 5 and h2 == [200] * 5
    assert all(body.startswith('{"length": 3000') for _, body in answers[5:])
    assert uploaded.status == 200 and bytes(uploaded.body).startswith(b'{"length": 5000')
    wait_until(lambda: len(v2.seen()) == 16, what="v2 to see all 16 copies")
    assert len(v1.seen()) == 16
    hosts = {r.header("host") for r in v2.seen()}
    assert hosts == {f"127.0.0.1-shadow:{proxy.port}", "shop.example-shadow"}, hosts
    assert sorted(r.body_length for r in v2.seen() if r.method == "POST") == [3000] * 5 + [5000]


def test_mirror_percentage_is_exact(tmp_path, upstreams, start_proxy, kanaria_only):
    """`mirrorPercentage: 25` copies exactly every fourth request of a worker."""
    v1, v2 = upstreams("v1"), upstreams("v2")
    proxy = start_proxy(write_config(tmp_path / "c", {"v1": [v1.port], "v2": [v2.port]}, istio_yaml=ROUTES), workers=1)
    conn = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=10)
    assert [post(conn, "/some")[0] for _ in range(40)] == [200] * 40
    conn.close()
    wait_until(lambda: len(v2.seen()) >= 10, what="v2 to see the copies")
    # a request after them proves the worker has moved on: its copy (all requests are mirrored there) arrives too
    conn = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=10)
    assert post(conn, "/after")[0] == 200
    conn.close()
    wait_until(lambda: any(r.target == "/after" for r in v2.seen()), what="the copy of /after")
    assert len([r for r in v2.seen() if r.target.startswith("/some")]) == 10


def test_a_failing_mirror_never_fails_the_primary(tmp_path, upstreams, start_proxy, kanaria_only):
    """A mirror whose endpoint refuses connections: every primary answer is still 200 from v1."""
    v1, gone = upstreams("v1"), upstreams("v3")
    gone.stop()
    proxy = start_proxy(write_config(tmp_path / "c", {"v1": [v1.port], "v3": [gone.port]}, istio_yaml=ROUTES), workers=1)
    conn = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=10)
    assert [post(conn, "/broken")[0] for _ in range(20)] == [200] * 20
    conn.close()
    assert len(v1.seen()) == 20
