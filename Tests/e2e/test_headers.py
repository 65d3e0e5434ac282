"""What the upstream sees: hop-by-hop headers removed, end-to-end headers kept, and the forwarding headers Envoy sets:
x-forwarded-for (client address appended), x-forwarded-proto: http, x-request-id (a UUID unless the client sent one)."""

from __future__ import annotations

import re

from harness.client import raw_exchange, request

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)


def only_request(v1, v2):
    seen = v1.seen() + v2.seen()
    assert len(seen) == 1, [r.target for r in seen]
    return seen[0]


def test_hop_by_hop_headers_are_removed_and_end_to_end_headers_kept(proxy):
    proxy, v1, v2 = proxy
    raw = (b"GET /hop HTTP/1.1\r\n"
           b"Host: sharks.example\r\n"
           b"Connection: keep-alive, TE\r\n"
           b"Keep-Alive: timeout=5, max=100\r\n"
           b"Proxy-Connection: keep-alive\r\n"
           b"TE: trailers, deflate\r\n"
           b"X-Shark: hammerhead\r\n"
           b"Accept: text/html\r\n"
           b"\r\n")
    (resp,) = raw_exchange(proxy.port, raw)
    assert resp.status == 200
    seen = only_request(v1, v2)
    names = {k.lower() for k, _ in seen.headers}
    assert not names & {"keep-alive", "proxy-connection", "te", "upgrade"}, seen.headers
    for value in seen.all("connection"):
        assert "te" not in [t.strip().lower() for t in value.split(",")], seen.headers
    assert seen.header("x-shark") == "hammerhead"
    assert seen.header("accept") == "text/html"


def test_upgrade_other_than_websocket_is_not_forwarded(proxy):
    proxy, v1, v2 = proxy
    raw = (b"GET /upgrade HTTP/1.1\r\nHost: sharks.example\r\n"
           b"Connection: Upgrade\r\nUpgrade: shark-protocol/1\r\n\r\n")
    (resp,) = raw_exchange(proxy.port, raw)
    assert resp.status == 200
    seen = only_request(v1, v2)
    assert seen.header("upgrade") is None, seen.headers
    for value in seen.all("connection"):
        assert "upgrade" not in value.lower(), seen.headers


def test_x_forwarded_for_appends_the_client_address(proxy):
    proxy, v1, v2 = proxy
    request(proxy.port, "/xff-none")
    request(proxy.port, "/xff-some", headers={"X-Forwarded-For": "203.0.113.7"})
    by_path = {r.target: r for r in v1.seen() + v2.seen()}
    first = by_path["/xff-none"].all("x-forwarded-for")
    assert len(first) == 1 and first[0].strip() == "127.0.0.1", first
    second = by_path["/xff-some"].all("x-forwarded-for")
    assert len(second) == 1 and [p.strip() for p in second[0].split(",")] == ["203.0.113.7", "127.0.0.1"], second


def test_x_forwarded_proto_is_http(proxy):
    proxy, v1, v2 = proxy
    request(proxy.port, "/proto")
    assert only_request(v1, v2).all("x-forwarded-proto") == ["http"]


def test_x_request_id_is_generated_unless_present(proxy, kanaria_only):
    proxy, v1, v2 = proxy
    request(proxy.port, "/rid-1")
    request(proxy.port, "/rid-2")
    request(proxy.port, "/rid-kept", headers={"X-Request-Id": "shark-0001"})
    by_path = {r.target: r for r in v1.seen() + v2.seen()}
    ids = [by_path[p].all("x-request-id") for p in ("/rid-1", "/rid-2")]
    for got in ids:
        assert len(got) == 1 and UUID.match(got[0]), got
    assert ids[0] != ids[1]
    assert by_path["/rid-kept"].all("x-request-id") == ["shark-0001"]
