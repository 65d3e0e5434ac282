"""Large bodies cross the proxy intact in both directions: 10 MB uploads and downloads, framed with content-length
and chunked, compared by sha256 end to end."""

from __future__ import annotations

import hashlib
import http.client
import json
import os

import pytest

from harness.upstream import blob

SIZE = 10 * 1024 * 1024


@pytest.fixture(scope="module")
def payload() -> bytes:
    return os.urandom(SIZE)


def pieces(data: bytes, size: int = 100_000):
    for offset in range(0, len(data), size):
        yield data[offset:offset + size]


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
def test_10mb_upload_arrives_intact(proxy, payload, framing):
    proxy, v1, v2 = proxy
    conn = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=120)
    try:
        if framing == "chunked":
            conn.request("POST", "/upload", body=pieces(payload), encode_chunked=True,
                         headers={"Transfer-Encoding": "chunked"})
        else:
            conn.request("POST", "/upload", body=payload)
        resp = conn.getresponse()
        answer = json.loads(resp.read())
    finally:
        conn.close()
    assert resp.status == 200
    assert answer["length"] == SIZE
    assert answer["sha256"] == hashlib.sha256(payload).hexdigest()
    seen = v1.seen() + v2.seen()
    assert len(seen) == 1 and seen[0].body_length == SIZE


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
def test_10mb_download_arrives_intact(proxy, framing):
    proxy, _, _ = proxy
    chunked = "1" if framing == "chunked" else "0"
    conn = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=120)
    try:
        conn.request("GET", f"/download?size={SIZE}&seed=7&chunked={chunked}")
        resp = conn.getresponse()
        digest, total = hashlib.sha256(), 0
        while piece := resp.read(1 << 16):
            digest.update(piece)
            total += len(piece)
    finally:
        conn.close()
    assert resp.status == 200
    assert total == SIZE
    assert digest.hexdigest() == hashlib.sha256(blob(SIZE, 7)).hexdigest()


def test_upload_then_download_on_one_keepalive_connection(proxy, payload):
    """Bodies are framed right: after a 10 MB upload and download, the same connection still serves requests."""
    proxy, _, _ = proxy
    conn = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=120)
    try:
        conn.request("POST", "/upload", body=pieces(payload), encode_chunked=True,
                     headers={"Transfer-Encoding": "chunked"})
        assert json.loads(conn.getresponse().read())["sha256"] == hashlib.sha256(payload).hexdigest()
        conn.request("GET", f"/download?size={SIZE}&seed=3&chunked=1")
        assert hashlib.sha256(conn.getresponse().read()).digest() == hashlib.sha256(blob(SIZE, 3)).digest()
        for _ in range(5):
            conn.request("GET", "/after")
            resp = conn.getresponse()
            assert resp.status == 200 and resp.read() in (b"v1\n", b"v2\n")
    finally:
        conn.close()
