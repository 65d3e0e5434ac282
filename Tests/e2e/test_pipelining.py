"""HTTP/1.1 pipelining: requests written back to back in one send are all answered, in order, on the same
connection, including a request with a body in the middle."""

from __future__ import annotations

import hashlib
import json
import os

from harness.client import raw_exchange


def get(path: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: sharks.example\r\n\r\n".encode()


def test_pipelined_gets_come_back_in_order(proxy):
    proxy, _, _ = proxy
    paths = [f"/pipelined/{i}" for i in range(10)]
    answers = raw_exchange(proxy.port, b"".join(get(p) for p in paths), responses=len(paths))
    assert [a.header("x-path") for a in answers] == paths
    assert all(a.status == 200 for a in answers)


def test_pipelined_requests_keep_the_split(mesh, start_proxy):
    config, _, _ = mesh
    proxy = start_proxy(config, workers=1)
    answers = raw_exchange(proxy.port, b"".join(get(f"/p{i}") for i in range(25)), responses=25)
    versions = [a.header("x-version") for a in answers]
    assert (versions.count("v1"), versions.count("v2")) == (20, 5), versions


def test_pipelined_post_with_body_between_gets(proxy):
    proxy, _, _ = proxy
    body = os.urandom(200_000)
    post = (f"POST /upload HTTP/1.1\r\nHost: sharks.example\r\nContent-Length: {len(body)}\r\n\r\n").encode() + body
    chunked = (b"POST /upload HTTP/1.1\r\nHost: sharks.example\r\nTransfer-Encoding: chunked\r\n\r\n"
               b"5\r\nhello\r\n6\r\n shark\r\n0\r\n\r\n")
    data = get("/first") + post + get("/middle") + chunked + get("/last")
    answers = raw_exchange(proxy.port, data, responses=5)
    assert [a.header("x-path") for a in answers] == ["/first", "/upload", "/middle", "/upload", "/last"]
    assert json.loads(answers[1].body)["sha256"] == hashlib.sha256(body).hexdigest()
    assert json.loads(answers[3].body)["sha256"] == hashlib.sha256(b"hello shark").hexdigest()
