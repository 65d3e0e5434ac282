"""Malformed client requests are answered 400 and never reach an upstream (RFC 9112's musts: whitespace before the
colon, obs-fold, conflicting or doubled framing). Afterwards the proxy still serves well-formed requests."""

from __future__ import annotations

import pytest

from harness.client import raw_exchange, request

CASES = {
    "bad-request-line": b"this is not http\r\nHost: x\r\n\r\n",
    "request-line-extra-token": b"GET / HTTP/1.1 extra\r\nHost: x\r\n\r\n",
    "header-without-colon": b"GET / HTTP/1.1\r\nHost: x\r\nNoColonHere\r\n\r\n",
    "space-before-colon": b"GET / HTTP/1.1\r\nHost: x\r\nX-Shark : great-white\r\n\r\n",
    "content-length-and-chunked": (b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                                   b"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"),
    "two-different-content-lengths": (b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                                      b"Content-Length: 6\r\n\r\nhello!"),
    "obs-fold": b"GET / HTTP/1.1\r\nHost: x\r\nX-Shark: great\r\n white\r\n\r\n",
}


@pytest.mark.parametrize("raw", CASES.values(), ids=CASES.keys())
def test_malformed_request_gets_400_and_is_not_forwarded(proxy, raw):
    proxy, v1, v2 = proxy
    answers = raw_exchange(proxy.port, raw)
    assert answers, "the proxy closed the connection without answering; expected 400"
    assert answers[0].status == 400
    assert v1.seen() == [] and v2.seen() == [], "a malformed request reached an upstream"
    assert request(proxy.port, "/after").status == 200
