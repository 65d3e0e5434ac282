"""Misbehaving clients never crash the proxy or leak a connection.

Hundreds of clients do what broken or hostile clients do (close at once, stop half-way through a head or a body,
send garbage, reset, pipeline and vanish, leave without reading the answer). Afterwards the proxy still answers
correctly and holds no socket to any of those clients: a socket left in CLOSE-WAIT or ESTABLISHED on the listening
port would be a leak.
"""

from __future__ import annotations

import http.client
import random
import socket
import struct
import subprocess
import threading
import time

import pytest

pytestmark = pytest.mark.usefixtures("kanaria_only")

GET = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"


def _reset(sock: socket.socket) -> None:
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def _misbehave(port: int, kind: int, rng: random.Random) -> None:
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    try:
        if kind == 0:  # connect and leave
            pass
        elif kind == 1:  # half a head
            sock.sendall(GET[: rng.randrange(1, len(GET) - 1)])
        elif kind == 2:  # garbage ending like a head, so that it is answered (400) rather than waited for
            sock.sendall(bytes(rng.randrange(256) for _ in range(rng.randrange(1, 300))) + b"\r\n\r\n")
            sock.recv(4096)
        elif kind == 3:  # a body cut short, then a reset
            sock.sendall(b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n" + b"a" * 5000)
            _reset(sock)
            return
        elif kind == 4:  # ask and leave without reading
            sock.sendall(GET)
        elif kind == 5:  # pipeline many, read one, leave
            sock.sendall(GET * 50)
            sock.recv(100)
        elif kind == 6:  # a chunked body with broken framing
            sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n")
            sock.recv(4096)
        elif kind == 7:  # ask, then reset before the answer
            sock.sendall(GET)
            _reset(sock)
            return
    except OSError:
        pass
    sock.close()


def _client_sockets(pid: int, port: int) -> list[str]:
    """The proxy's TCP sockets whose local port is the listening port, other than the listener itself."""
    out = subprocess.run(["ss", "-tanpH", f"sport = :{port}"], capture_output=True, text=True, check=True).stdout
    return [line for line in out.splitlines() if f"pid={pid}," in line and not line.startswith("LISTEN")]


def test_misbehaving_clients_leave_no_connection_behind(proxy):
    proxy, _, _ = proxy
    rng = random.Random(7)
    jobs = [(kind, random.Random(rng.random())) for kind in range(8) for _ in range(40)]
    rng.shuffle(jobs)
    threads = [threading.Thread(target=_misbehave, args=(proxy.port, kind, r)) for kind, r in jobs]
    for i in range(0, len(threads), 32):
        batch = threads[i:i + 32]
        for t in batch:
            t.start()
        for t in batch:
            t.join(10)

    conn = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=10)
    conn.request("GET", "/")
    answer = conn.getresponse()
    assert answer.status == 200 and answer.read() in (b"v1\n", b"v2\n")
    conn.close()

    deadline = time.monotonic() + 8  # lingering closes give a client up to 5 s to go away
    pid = proxy.pids()[0]
    while True:
        left = _client_sockets(pid, proxy.port)
        if not left or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert left == [], "the proxy still holds client connections:\n" + "\n".join(left)
