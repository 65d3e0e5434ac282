"""HTTP/2 protection: malformed requests never reach an upstream, the header list is bounded, the
advertised MAX_CONCURRENT_STREAMS (100) is enforced, rapid-reset and CONTINUATION floods end the connection, and
repeated floods do not grow the proxy's memory.

Frames are built by hand (harness.h2.RawH2: hyperframe + hpack, no validation), so the tests can send what the h2
library and curl refuse to. Every case runs on its own h2c connection to a `protocol: HTTP2` Gateway server in
front of HTTP/1.1 upstreams that record every complete request they receive; after a malformed stream the same
connection must still serve a good request, and that is all the upstreams may have seen. What they have seen is
read only after `moved_on` proved the proxy has finished with everything sent before.

Under E2E_PROXY=nginx these run against nginx 1.22 to check the harness; nginx forwards some of the malformed
requests (it drops invalid header names instead of refusing the request, `ignore_invalid_headers`), which shows
the checks bite.
"""

from __future__ import annotations

import time

import pytest

from harness.gateway import PEER, Server, Topology, backends, start_gateway  # noqa: F401 (fixtures)
from harness.h2 import (CANCEL, PREFACE, PROTOCOL_ERROR, REFUSED_STREAM, RawH2, continuation_frame, data_frame,
                        headers_frame, rst_stream_frame, settings_frame)
from harness.upstream import received

MAX_CONCURRENT_STREAMS = 0x3
MAX_FRAME_SIZE = 0x5
BASE = [(":method", "GET"), (":scheme", "http"), (":authority", "localhost")]


@pytest.fixture
def guarded(upstreams, start_gateway):
    """(proxy, v1, v2): an HTTP2 server, one worker, v1/v2 HTTP/1.1 upstreams."""
    v1, v2 = upstreams("v1"), upstreams("v2")
    proxy = start_gateway(Topology([Server(80, "HTTP2")], {"v1": [v1.port], "v2": [v2.port]}), workers=1)
    return proxy, v1, v2


def seen_targets(v1, v2) -> list[str]:
    """The targets of the complete requests the upstreams received, but for `moved_on`'s."""
    return sorted(r.target for r in v1.seen() + v2.seen() if not r.target.startswith("/moved-on-"))


def moved_on(proxy, v1, v2) -> None:
    """Proves the proxy has finished with everything sent before: on a fresh connection to its one worker, good
    requests until both upstreams have received one (any 5 in a row do under the exact 80/20 split). Anything it
    forwarded earlier was written to the upstreams before these."""
    with RawH2(proxy.port) as h:
        h.handshake()
        for i in range(10):
            assert good_request(h, f"/moved-on-{i}") == 200
            if received("/moved-on-", v1) and received("/moved-on-", v2):
                return
    raise AssertionError("10 requests after the test did not reach both upstreams")


def good_request(h: RawH2, path: str = "/good", timeout: float = 10) -> int:
    """A well-formed GET on the next stream; its :status (fails when it gets none)."""
    sid = h.new_stream()
    assert h.send(headers_frame(sid, h.block([*BASE, (":path", path)]))), "the proxy closed the connection"
    h.read(lambda: h.done(sid), timeout)
    kind, value = h.stream_outcome(sid)
    assert kind == "status", f"the good request after got {kind} {value}; frames: {h.frames[-5:]}"
    return value


# malformed requests -------------------------------------------------------------------------------------------------

def fields(path: str = "/bad", extra=()) -> list[tuple[str, str]]:
    return [*BASE, (":path", path), *extra]


MALFORMED = {
    "uppercase header name": fields(extra=[("X-Shark", "great-white")]),
    "connection: keep-alive": fields(extra=[("connection", "keep-alive")]),
    "keep-alive": fields(extra=[("keep-alive", "timeout=5")]),
    "proxy-connection": fields(extra=[("proxy-connection", "keep-alive")]),
    "transfer-encoding": fields(extra=[("transfer-encoding", "chunked")]),
    "upgrade": fields(extra=[("upgrade", "websocket")]),
    "te other than trailers": fields(extra=[("te", "gzip")]),
    "missing :path": [*BASE],
    "missing :method": [(":scheme", "http"), (":authority", "localhost"), (":path", "/bad")],
    "missing :scheme": [(":method", "GET"), (":authority", "localhost"), (":path", "/bad")],
    "empty :path": fields(path=""),
    ":path without a slash": fields(path="bad"),
    ":path with a space": fields(path="/bad shark"),
    "duplicate :path": fields(extra=[(":path", "/bad2")]),
    "unknown pseudo-header": fields(extra=[(":shark", "1")]),
    "pseudo-header after a regular one": [(":method", "GET"), ("x-early", "1"), (":scheme", "http"),
                                          (":authority", "localhost"), (":path", "/bad")],
    "space in a header name": fields(extra=[("x shark", "1")]),
    "CR LF in a header value": fields(extra=[("x-shark", "a\r\nx-injected: 1")]),
    "NUL in a header value": fields(extra=[("x-shark", "a\x00b")]),
}


def assert_refused(h: RawH2, sid: int) -> None:
    h.read(lambda: h.done(sid), timeout=5)
    kind, value = h.stream_outcome(sid)
    refused = (kind == "reset" and value == PROTOCOL_ERROR) or (kind == "status" and 400 <= value < 500) \
        or (kind == "goaway" and value == PROTOCOL_ERROR)
    assert refused, f"expected RST_STREAM(PROTOCOL_ERROR) or a 4xx, got {kind} {value}"


@pytest.mark.parametrize("name", list(MALFORMED))
def test_malformed_request_never_reaches_an_upstream(guarded, name):
    proxy, v1, v2 = guarded
    with RawH2(proxy.port) as h:
        h.handshake()
        sid = h.new_stream()
        h.send(headers_frame(sid, h.block(MALFORMED[name])))
        assert_refused(h, sid)
        if h.goaway() is None:
            assert good_request(h) == 200
    moved_on(proxy, v1, v2)
    assert seen_targets(v1, v2) in ([], ["/good"]), f"the malformed request reached an upstream: {seen_targets(v1, v2)}"


@pytest.mark.parametrize("declared,sent", [(10, 5), (5, 10), (0, 3)], ids=["DATA short", "DATA long", "zero"])
def test_content_length_disagreeing_with_data_never_reaches_an_upstream(guarded, declared, sent):
    """HEADERS with content-length, then DATA of another length ending the stream, in one write: the stream is
    reset (or answered 400) and the upstream never receives a complete request."""
    proxy, v1, v2 = guarded
    with RawH2(proxy.port) as h:
        h.handshake()
        sid = h.new_stream()
        block = h.block([(":method", "POST"), (":scheme", "http"), (":authority", "localhost"), (":path", "/upload"),
                         ("content-length", str(declared))])
        h.send(headers_frame(sid, block, end_stream=False) + data_frame(sid, b"x" * sent, end_stream=True))
        assert_refused(h, sid)
        if h.goaway() is None:
            assert good_request(h) == 200
    moved_on(proxy, v1, v2)
    assert seen_targets(v1, v2) in ([], ["/good"]), seen_targets(v1, v2)


# the header list ----------------------------------------------------------------------------------------------------

def send_block(h: RawH2, sid: int, block: bytes) -> None:
    """A header block split into HEADERS + CONTINUATION frames of the server's maximum frame size."""
    size = h.server_settings.get(MAX_FRAME_SIZE, 16384)
    pieces = [block[i:i + size] for i in range(0, len(block), size)] or [b""]
    out = headers_frame(sid, pieces[0], end_stream=True, end_headers=len(pieces) == 1)
    for i, piece in enumerate(pieces[1:], 1):
        out += continuation_frame(sid, piece, end_headers=i == len(pieces) - 1)
    h.send(out)


@pytest.mark.parametrize("shape", ["over 64 KiB", "over 100 fields"])
def test_oversized_header_list_is_refused(guarded, shape):
    """A header list over 64 KiB (64 fields of 1 KiB), or with more than 100 fields (Envoy's max_headers_count,
    and Kanaria's HTTP/1.1 limit): 431 or a stream reset, the connection goes on, the upstream sees nothing."""
    proxy, v1, v2 = guarded
    if shape == "over 64 KiB":
        extra = [(f"x-big-{i}", chr(97 + i % 26) * 1040) for i in range(64)]
    else:
        extra = [(f"x-many-{i}", "1") for i in range(101)]
    with RawH2(proxy.port) as h:
        h.handshake()
        sid = h.new_stream()
        send_block(h, sid, h.block(fields("/big", extra)))
        h.read(lambda: h.done(sid), timeout=5)
        kind, value = h.stream_outcome(sid)
        assert (kind, value) == ("status", 431) or kind == "reset", f"expected 431 or RST_STREAM, got {kind} {value}"
        assert good_request(h) == 200
    moved_on(proxy, v1, v2)
    assert seen_targets(v1, v2) == ["/good"]


# concurrency --------------------------------------------------------------------------------------------------------

def open_streams(h: RawH2, count: int) -> tuple[list[int], bytes]:
    """HEADERS for `count` POSTs whose one-byte bodies are still to come (so the streams stay open)."""
    sids = [h.new_stream() for _ in range(count)]
    out = b"".join(headers_frame(sid, h.block([(":method", "POST"), (":scheme", "http"), (":authority", "localhost"),
                                               (":path", f"/upload?i={i}"), ("content-length", "1")]),
                                 end_stream=False) for i, sid in enumerate(sids))
    return sids, out


@pytest.mark.parametrize("acked", [False, True], ids=["before the SETTINGS ACK", "after the SETTINGS ACK"])
def test_streams_beyond_the_advertised_100_are_refused(guarded, acked):
    """The proxy advertises MAX_CONCURRENT_STREAMS 100. 110 requests left open (bodies pending):

    - opened right behind the preface, before the client acknowledged the proxy's SETTINGS (what h2load and
      browsers do): the last 10 are reset with REFUSED_STREAM, and the first 100 complete once their bodies arrive;
    - opened after the ACK: the same, or, as RFC 9113 §5.4.1 allows and nghttp2 does once its limit is
      acknowledged, a connection error: GOAWAY(PROTOCOL_ERROR) naming a last stream below the excess ones.

    Either way no stream beyond the limit reaches an upstream."""
    proxy, v1, v2 = guarded
    with RawH2(proxy.port) as h:
        if acked:
            h.handshake()
            sids, out = open_streams(h, 110)
            h.send(out)
        else:
            sids, out = open_streams(h, 110)
            h.send(PREFACE + settings_frame({0x4: 1 << 24}) + out)
        first = lambda: next((f for f in h.frames if f.type == "SETTINGS" and "ACK" not in f.flags), None)  # noqa
        excess, allowed = sids[100:], sids[:100]
        h.read(lambda: all(h.done(s) for s in excess), timeout=10)
        assert first() is not None and first().frame.settings.get(MAX_CONCURRENT_STREAMS) == 100, first()
        away = h.goaway()
        if acked and away is not None:
            assert away.error_code == PROTOCOL_ERROR and away.last_stream_id < excess[0], away
        else:
            assert [h.stream_outcome(s) for s in excess] == [("reset", REFUSED_STREAM)] * 10
            assert not any(h.done(s) for s in allowed), "an open stream within the limit was ended"
            h.send(settings_frame(ack=True) + b"".join(data_frame(s, b"x", end_stream=True) for s in allowed))
            h.read(lambda: all(h.done(s) for s in allowed), timeout=30)
            assert [h.stream_outcome(s) for s in allowed] == [("status", 200)] * 100
    moved_on(proxy, v1, v2)
    served = seen_targets(v1, v2)
    assert not set(served) & {f"/upload?i={i}" for i in range(100, 110)}, "a refused stream reached an upstream"
    if away is None:
        assert served == sorted(f"/upload?i={i}" for i in range(100))


# floods -------------------------------------------------------------------------------------------------------------

def rapid_reset(port: int, pairs: int = 1000) -> RawH2:
    """HEADERS + RST_STREAM(CANCEL), `pairs` times, as fast as possible; returns the connection after it closed
    (or after 10 s)."""
    h = RawH2(port)
    h.handshake()
    out = bytearray()
    for _ in range(pairs):
        sid = h.new_stream()
        out += headers_frame(sid, h.block([*BASE, (":path", "/rapid-reset")])) + rst_stream_frame(sid, CANCEL)
    h.send(bytes(out))
    h.read_until_closed(timeout=10)
    h.close()
    return h


def continuation_flood(port: int, frames: int = 10000, empty: bool = False) -> RawH2:
    """HEADERS without END_HEADERS, then CONTINUATION frames that never end the block."""
    h = RawH2(port)
    h.handshake()
    sid = h.new_stream()
    h.send(headers_frame(sid, h.block([*BASE, (":path", "/continuation")]), end_headers=False))
    batch = 500
    for start in range(0, frames, batch):
        out = b"".join(continuation_frame(sid, b"" if empty else h.block([("x-flood", "a")]))
                       for _ in range(min(batch, frames - start)))
        if not h.send(out):
            break
    h.read_until_closed(timeout=10)
    h.close()
    return h


def test_rapid_reset_flood_ends_the_connection(guarded):
    """1000 × (HEADERS + RST_STREAM) in one write: the proxy answers GOAWAY and closes, and none of the reset
    streams reaches an upstream."""
    proxy, v1, v2 = guarded
    h = rapid_reset(proxy.port)
    assert h.goaway() is not None, f"no GOAWAY; last frames: {h.frames[-5:]}"
    assert h.eof, "the connection stayed open after the flood"
    moved_on(proxy, v1, v2)
    assert seen_targets(v1, v2) == [], f"{len(seen_targets(v1, v2))} reset streams reached an upstream"
    with RawH2(proxy.port) as fresh:
        fresh.handshake()
        assert good_request(fresh) == 200


@pytest.mark.parametrize("empty", [False, True], ids=["a field per frame", "empty frames"])
def test_continuation_flood_ends_the_connection(guarded, empty):
    proxy, v1, v2 = guarded
    start = time.monotonic()
    h = continuation_flood(proxy.port, empty=empty)
    assert h.eof, "the connection stayed open during a CONTINUATION flood"
    assert time.monotonic() - start < 10
    moved_on(proxy, v1, v2)
    assert seen_targets(v1, v2) == [], "an unfinished header block reached an upstream"
    with RawH2(proxy.port) as fresh:
        fresh.handshake()
        assert good_request(fresh) == 200


def test_repeated_floods_do_not_grow_memory(guarded):
    """Five rounds of floods (10 rapid-reset and 10 CONTINUATION connections each): the proxy's resident memory
    after the fifth round is within 4 MiB of what it was after the first, so nothing is kept per flood."""
    proxy, v1, v2 = guarded
    rss = []
    for _ in range(5):
        for _ in range(10):
            rapid_reset(proxy.port)
            continuation_flood(proxy.port)
        moved_on(proxy, v1, v2)
        rss.append(proxy.rss_kib())
    assert rss[-1] - rss[0] <= 4096, f"VmRSS after each round (KiB): {rss}"
    with RawH2(proxy.port) as fresh:
        fresh.handshake()
        assert good_request(fresh) == 200
