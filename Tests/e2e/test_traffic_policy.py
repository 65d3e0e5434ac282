"""DestinationRule traffic policies the proxy applies: load balancing (consistent hashing by header, sticky
sessions by cookie) and outlier detection, as Istio's traffic-management pages and its circuit-breaking task
write them."""

from __future__ import annotations

import http.client

from harness.admin import Admin
from harness.h2 import H2Client
from harness.proxy import seed_dir, write_config

V1 = "outbound|8080|v1|nodejs.default.svc.cluster.local"


def istio_with_policy(policy: str) -> str:
    """The tutorial's node-istio.yaml, all traffic to v1, with `policy` (YAML at four spaces) as the
    DestinationRule's trafficPolicy."""
    seed = (seed_dir() / "node-istio.yaml").read_text()
    seed = seed.replace("      weight: 80\n", "      weight: 100\n").replace("      weight: 20\n", "      weight: 0\n")
    return seed.replace("  host: nodejs\n  subsets:", "  host: nodejs\n  trafficPolicy:\n" + policy + "  subsets:")


def get(conn: http.client.HTTPConnection, path: str = "/", headers: dict | None = None) -> http.client.HTTPResponse:
    conn.request("GET", path, headers=headers or {})
    resp = conn.getresponse()
    resp.read()
    return resp


def served_by(upstreams_, before: list[int]) -> int:
    """Which upstream's request count grew since `before`."""
    grown = [i for i, up in enumerate(upstreams_) if len(up.seen()) > before[i]]
    assert len(grown) == 1, grown
    return grown[0]


def test_consistent_hash_by_header_keeps_a_user_on_one_endpoint(tmp_path, upstreams, start_proxy, kanaria_only):
    """`consistentHash: {httpHeaderName: x-user}` over three endpoints: each user's requests, HTTP/1.1 or HTTP/2,
    all reach the same endpoint; several users spread over more than one."""
    ups = [upstreams("v1") for _ in range(3)]
    policy = "    loadBalancer:\n      consistentHash:\n        httpHeaderName: x-user\n"
    proxy = start_proxy(write_config(tmp_path / "c", {"v1": [u.port for u in ups]}, istio_yaml=istio_with_policy(policy)),
                        workers=1)
    conn = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=10)
    homes = {}
    for user in [f"user-{n}" for n in range(12)]:
        seen = set()
        for _ in range(5):
            before = [len(u.seen()) for u in ups]
            assert get(conn, headers={"x-user": user}).status == 200
            seen.add(served_by(ups, before))
        assert len(seen) == 1, (user, seen)
        homes[user] = seen.pop()
    conn.close()
    assert len(set(homes.values())) > 1
    with H2Client(proxy.port) as client:
        for user in ["user-3", "user-7"]:
            before = [len(u.seen()) for u in ups]
            assert client.request("GET", "/", headers=[("x-user", user)]).status == 200
            assert served_by(ups, before) == homes[user]


def test_sticky_cookie_is_set_then_followed(tmp_path, upstreams, start_proxy, kanaria_only):
    """`consistentHash: {httpCookie: {name: user, ttl: 60s}}`: a request without the cookie gets `Set-Cookie`;
    sent back, it keeps the client on the endpoint that answered."""
    ups = [upstreams("v1") for _ in range(3)]
    policy = "    loadBalancer:\n      consistentHash:\n        httpCookie:\n          name: user\n          path: /\n          ttl: 60s\n"
    proxy = start_proxy(write_config(tmp_path / "c", {"v1": [u.port for u in ups]}, istio_yaml=istio_with_policy(policy)),
                        workers=1)
    conn = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=10)
    before = [len(u.seen()) for u in ups]
    first = get(conn)
    home = served_by(ups, before)
    cookie = first.getheader("set-cookie")
    assert cookie and cookie.startswith('user="') and "Max-Age=60" in cookie and "Path=/" in cookie, cookie
    value = cookie.split(";")[0]
    for _ in range(10):
        before = [len(u.seen()) for u in ups]
        resp = get(conn, headers={"cookie": value})
        assert resp.getheader("set-cookie") is None
        assert served_by(ups, before) == home
    conn.close()


def test_outlier_detection_ejects_the_failing_endpoint(tmp_path, upstreams, start_proxy, kanaria_only):
    """Istio's circuit-breaking task's outlier detection (consecutive5xxErrors: 1, interval: 1s,
    baseEjectionTime: 3m, maxEjectionPercent: 100) over three endpoints, one answering 503: after its first 503 it
    is ejected and gets no traffic; the ejection is counted."""
    bad, good1, good2 = upstreams("v1", "unavailable"), upstreams("v1"), upstreams("v1")
    policy = ("    loadBalancer:\n      simple: ROUND_ROBIN\n    outlierDetection:\n      consecutive5xxErrors: 1\n"
              "      interval: 1s\n      baseEjectionTime: 3m\n      maxEjectionPercent: 100\n")
    proxy = start_proxy(write_config(tmp_path / "c", {"v1": [bad.port, good1.port, good2.port]},
                                     istio_yaml=istio_with_policy(policy)), workers=1)
    conn = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=10)
    statuses = [get(conn).status for _ in range(30)]
    conn.close()
    assert statuses.count(503) == 1 and len(bad.seen()) == 1, statuses
    assert len(good1.seen()) + len(good2.seen()) == 29
    admin = Admin(proxy.admin_port)
    assert admin.metric("envoy_cluster_outlier_detection_ejections_enforced_total", cluster_name=V1)[0].value == 1
    # /clusters shows the ejection as Envoy's does
    lines = admin.get("/clusters").body.decode().splitlines()
    assert f"{V1}::127.0.0.1:{bad.port}::health_flags::/failed_outlier_check" in lines, lines
    assert f"{V1}::127.0.0.1:{good1.port}::health_flags::healthy" in lines
    hosts = {e["address"]: e["health"] for c in admin.json("/clusters?format=json")["clusters"] if c["name"] == V1
             for e in c["endpoints"]}
    assert hosts[f"127.0.0.1:{bad.port}"] == "ejected" and hosts[f"127.0.0.1:{good2.port}"] == "healthy"
    # and the dashboard's data lists it beside the destination
    split = admin.json("/api/split")
    assert [d["ejected"] for r in split["routes"] for d in r["destinations"] if d["subset"] == "v1"] == \
        [[f"127.0.0.1:{bad.port}"]]


def test_outlier_detection_and_sticky_cookie_over_http2(tmp_path, upstreams, start_proxy, kanaria_only):
    """Over one h2c connection: the failing endpoint is ejected after its first 503 and gets no more streams; and
    with a cookie policy the first answer sets the cookie, which then keeps the streams on one endpoint."""
    bad, good1, good2 = upstreams("v1", "unavailable"), upstreams("v1"), upstreams("v1")
    policy = ("    loadBalancer:\n      simple: ROUND_ROBIN\n    outlierDetection:\n      consecutive5xxErrors: 1\n"
              "      interval: 1s\n      baseEjectionTime: 3m\n      maxEjectionPercent: 100\n")
    proxy = start_proxy(write_config(tmp_path / "c", {"v1": [bad.port, good1.port, good2.port]},
                                     istio_yaml=istio_with_policy(policy)), workers=1)
    with H2Client(proxy.port) as client:
        statuses = [client.request("GET", "/").status for _ in range(30)]
    assert statuses.count(503) == 1 and len(bad.seen()) == 1, statuses

    ups = [upstreams("v1") for _ in range(3)]
    cookie_policy = ("    loadBalancer:\n      consistentHash:\n        httpCookie:\n          name: user\n"
                     "          ttl: 60s\n")
    proxy2 = start_proxy(write_config(tmp_path / "c2", {"v1": [u.port for u in ups]},
                                      istio_yaml=istio_with_policy(cookie_policy)), workers=1)
    with H2Client(proxy2.port) as client:
        before = [len(u.seen()) for u in ups]
        first = client.request("GET", "/")
        home = served_by(ups, before)
        cookie = first.header("set-cookie")
        assert cookie and cookie.startswith('user="'), first.headers
        for _ in range(8):
            before = [len(u.seen()) for u in ups]
            assert client.request("GET", "/", headers=[("cookie", cookie.split(";")[0])]).status == 200
            assert served_by(ups, before) == home
