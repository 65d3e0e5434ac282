"""Client-side helpers for the end-to-end tests: one-shot requests with http.client, curl, and a raw HTTP/1.1
response reader for tests that write bytes on a socket themselves (pipelining, malformed requests)."""

from __future__ import annotations

import http.client
import shutil
import socket
import subprocess
from dataclasses import dataclass


@dataclass
class Response:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None


def request(port: int, path: str = "/", method: str = "GET", headers: dict | None = None, body=None,
            timeout: float = 30) -> Response:
    """One request on a fresh connection (closed afterwards)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return Response(resp.status, resp.getheaders(), resp.read())
    finally:
        conn.close()


def curl_versions(url: str, count: int, timeout: float = 120) -> list[str]:
    """Fetches `url` `count` times with curl, each on a new TCP connection; returns the x-version of each answer.

    One curl process, `Connection: close` on every request, and `%{num_connects}` checked so that each request
    really opened its own connection."""
    curl = shutil.which("curl")
    assert curl, "curl is not installed (the e2e tests use it as a real client; .ci/run installs it)"
    args = [curl, "-sS", "--no-progress-meter", "-H", "Connection: close"]
    for _ in range(count):
        args += ["-o", "/dev/null", "-w", "%{http_code} %{num_connects} %header{x-version}\\n", url]
    out = subprocess.run(args, capture_output=True, text=True, timeout=timeout)
    assert out.returncode == 0, f"curl failed ({out.returncode}): {out.stderr}"
    versions = []
    for line in out.stdout.splitlines():
        code, connects, *version = line.split(" ")
        assert code == "200", line
        assert connects == "1", f"curl reused a connection: {line!r}"
        versions.append(version[0] if version else "")
    assert len(versions) == count, out.stdout
    return versions


def read_response(rfile, head_only: bool = False) -> Response | None:
    """Reads one HTTP/1.1 response from a binary file object; None on EOF before the status line."""
    line = rfile.readline(65537)
    if not line:
        return None
    parts = line.decode("latin-1").rstrip("\r\n").split(" ", 2)
    assert parts[0].startswith("HTTP/1."), f"not an HTTP response: {line!r}"
    status = int(parts[1])
    headers = []
    while True:
        line = rfile.readline(65537)
        assert line, "EOF inside a response head"
        if line in (b"\r\n", b"\n"):
            break
        name, _, value = line.decode("latin-1").rstrip("\r\n").partition(":")
        headers.append((name, value.strip()))
    resp = Response(status, headers, b"")
    if head_only or status in (204, 304) or 100 <= status < 200:
        return resp
    te = (resp.header("transfer-encoding") or "").lower()
    if "chunked" in te:
        body = bytearray()
        while True:
            size = int(rfile.readline(1024).split(b";")[0].strip(), 16)
            if size == 0:
                while rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                    pass
                break
            body += rfile.read(size)
            rfile.readline(3)
        resp.body = bytes(body)
    elif resp.header("content-length") is not None:
        resp.body = rfile.read(int(resp.header("content-length")))
    else:
        resp.body = rfile.read()
    return resp


def raw_exchange(port: int, data: bytes, responses: int = 1, timeout: float = 10) -> list[Response]:
    """Writes `data` in one send on a new connection and reads up to `responses` responses (fewer on EOF)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        rfile = sock.makefile("rb")
        out = []
        for _ in range(responses):
            resp = read_response(rfile)
            if resp is None:
                break
            out.append(resp)
        return out

