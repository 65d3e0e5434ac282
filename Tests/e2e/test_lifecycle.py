"""Process lifecycle: SIGTERM lets an in-flight request finish, closes idle keep-alive connections, and exits 0."""

from __future__ import annotations

import http.client
import signal
import threading
import time

import pytest

from harness.upstream import received
from harness.waiting import wait_until

pytestmark = pytest.mark.usefixtures("kanaria_only")


def test_sigterm_with_an_idle_keepalive_connection_exits_0(proxy):
    proxy, _, _ = proxy
    conn = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=10)
    conn.request("GET", "/")
    assert conn.getresponse().read() in (b"v1\n", b"v2\n")
    started = time.monotonic()
    proxy.stop(signal.SIGTERM, timeout=10)  # asserts exit status 0
    assert time.monotonic() - started < 10
    conn.close()


def test_sigterm_drains_an_in_flight_request(proxy):
    proxy, v1, v2 = proxy
    result = {}

    def slow_request():
        conn = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=20)
        try:
            conn.request("GET", "/slow?ms=1500")
            resp = conn.getresponse()
            result["answer"] = (resp.status, resp.read())
        except Exception as e:  # noqa: BLE001 - reported below
            result["error"] = repr(e)
        finally:
            conn.close()

    client = threading.Thread(target=slow_request)
    client.start()
    wait_until(lambda: received("/slow", v1, v2), "the upstream to receive the slow request")
    proxy.stop(signal.SIGTERM, timeout=15)
    client.join(20)
    assert result.get("answer") in ((200, b"v1\n"), (200, b"v2\n")), result
