"""Upstream HTTP/1.1 servers that the end-to-end tests put behind the proxy.

A small HTTP/1.1 server on raw sockets, one thread per connection, so that a test controls exactly what goes over the
wire: keep-alive, chunked framing, and misbehaviour on demand. Every server counts the TCP connections it accepted and
records every request it saw (method, target, headers in order, body length and sha256) once its body is read, and
every request head as soon as it arrives (`heads()`, for asserting that nothing, not even a part, was forwarded).
A recorded request's `finished` turns true when the server is done answering it (or failed to).

Paths a well-behaved server answers:
  /upload                       reads the body (content-length or chunked), answers JSON {length, sha256, chunked}
  /download?size=N&seed=S[&chunked=1]
                                answers N deterministic bytes (see `blob`), with content-length or chunked
  /slow?ms=N                    waits N milliseconds, then answers as below
  anything else                 200, `x-version: <version>`, `x-path: <target>`, body "<version>\n"

Behaviours (`behaviour=`): "ok"; "unavailable" (well-formed, keep-alive, but every answer is 503 with
`x-version`); "reset" (reads the request head, then resets the connection with RST);
"close" (reads the request head, then closes without answering); "garbage" (answers bytes that are not HTTP).
"""

from __future__ import annotations

import hashlib
import json
import random
import socket
import struct
import time
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

from harness.server import ThreadedServer

BEHAVIOURS = ("ok", "unavailable", "reset", "close", "garbage")


def blob(size: int, seed: int = 1) -> bytes:
    """The deterministic bytes /download serves, so a test can compute the expected sha256 itself."""
    return random.Random(seed).randbytes(size)


@dataclass
class SeenRequest:
    """One request as the upstream received it."""

    connection: int  # ordinal of the accepted TCP connection that carried it (1-based)
    method: str
    target: str
    version: str
    headers: list[tuple[str, str]]
    body_length: int = 0
    body_sha256: str = hashlib.sha256(b"").hexdigest()
    chunked: bool = False
    finished: bool = False  # the server has written its answer, or given up on it (the peer left)

    def header(self, name: str) -> str | None:
        """The first value of a header (case-insensitive), or None."""
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None

    def all(self, name: str) -> list[str]:
        return [value for key, value in self.headers if key.lower() == name.lower()]


class BadRequest(Exception):
    pass


@dataclass
class Upstream(ThreadedServer):
    """An upstream server on 127.0.0.1:<ephemeral port>. Use as a context manager or call start()/stop()."""

    version: str = "v1"
    behaviour: str = "ok"
    accepts: int = 0
    requests: list[SeenRequest] = field(default_factory=list, repr=False)
    request_heads: list[SeenRequest] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        assert self.behaviour in BEHAVIOURS, self.behaviour
        self._open(f"upstream-{self.version}")

    def seen(self) -> list[SeenRequest]:
        """The requests whose body was read (or that misbehaving servers took), in arrival order."""
        with self._lock:
            return list(self.requests)

    def heads(self) -> list[SeenRequest]:
        """Every request head received, including those whose body never completed."""
        with self._lock:
            return list(self.request_heads)

    # serving --------------------------------------------------------------------------------------------------------

    def _serve(self, conn: socket.socket, ordinal: int) -> None:
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        rfile = conn.makefile("rb", buffering=65536)
        try:
            while not self._stopping:
                head = _read_head(rfile)
                if head is None:
                    return
                method, target, version, headers = head
                request = SeenRequest(ordinal, method, target, version, headers)
                with self._lock:
                    self.request_heads.append(request)
                if self.behaviour not in ("ok", "unavailable"):
                    with self._lock:
                        self.requests.append(request)
                    self._misbehave(conn)
                    request.finished = True
                    return
                digest = hashlib.sha256()
                request.body_length, request.chunked = _read_body(rfile, headers, digest.update)
                request.body_sha256 = digest.hexdigest()
                with self._lock:
                    self.requests.append(request)
                close = any("close" in v.lower() for v in request.all("connection")) or version == "HTTP/1.0"
                try:
                    self._answer(conn, request, close)
                finally:
                    request.finished = True
                if close:
                    return
        except (OSError, BadRequest):
            return
        finally:
            with self._lock:
                self._conns.discard(conn)
            try:
                rfile.close()
                conn.close()
            except OSError:
                pass

    def _misbehave(self, conn: socket.socket) -> None:
        if self.behaviour == "reset":
            # SO_LINGER with a zero timeout turns close() into a RST.
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        elif self.behaviour == "garbage":
            conn.sendall(b"SHARKS ARE NOT HTTP\r\nreally not\r\n\r\n")
            time.sleep(0.05)
        conn.close()

    def _answer(self, conn: socket.socket, request: SeenRequest, close: bool) -> None:
        url = urlsplit(request.target)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        common = [("x-version", self.version), ("x-path", request.target)]
        if close:
            common.append(("connection", "close"))
        if self.behaviour == "unavailable":
            _send(conn, 503, common + [("content-type", "text/plain")], b"unavailable\n")
        elif url.path == "/upload":
            body = json.dumps({"length": request.body_length, "sha256": request.body_sha256,
                               "chunked": request.chunked}).encode()
            _send(conn, 200, common + [("content-type", "application/json")], body)
        elif url.path == "/download":
            data = blob(int(query.get("size", "0")), int(query.get("seed", "1")))
            if query.get("chunked") == "1":
                _send_chunked(conn, 200, common + [("content-type", "application/octet-stream")], data)
            else:
                _send(conn, 200, common + [("content-type", "application/octet-stream")], data)
        else:
            if url.path == "/slow":
                time.sleep(int(query.get("ms", "1000")) / 1000)
            _send(conn, 200, common + [("content-type", "text/plain")], f"{self.version}\n".encode())


def received(prefix: str, *upstreams: Upstream) -> bool:
    """Whether one of `upstreams` has received the head of a request whose target starts with `prefix`."""
    return any(r.target.startswith(prefix) for up in upstreams for r in up.heads())


def closed_port() -> int:
    """A loopback port with nothing listening on it (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# wire helpers -------------------------------------------------------------------------------------------------------

def _read_head(rfile):
    """Reads one request head; None on a clean EOF before any byte."""
    line = rfile.readline(65537)
    if not line:
        return None
    while line in (b"\r\n", b"\n"):  # tolerate a stray CRLF between requests (RFC 9112 §2.2)
        line = rfile.readline(65537)
        if not line:
            return None
    parts = line.rstrip(b"\r\n").decode("latin-1").split(" ")
    if len(parts) != 3:
        raise BadRequest(line)
    method, target, version = parts
    headers: list[tuple[str, str]] = []
    while True:
        line = rfile.readline(65537)
        if not line:
            raise BadRequest("eof in head")
        if line in (b"\r\n", b"\n"):
            break
        name, sep, value = line.rstrip(b"\r\n").decode("latin-1").partition(":")
        if not sep:
            raise BadRequest(line)
        headers.append((name, value.strip(" \t")))
    return method, target, version, headers


def _read_body(rfile, headers, sink) -> tuple[int, bool]:
    te = ",".join(v for k, v in headers if k.lower() == "transfer-encoding").lower()
    if "chunked" in te:
        total = 0
        while True:
            size_line = rfile.readline(1024)
            if not size_line:
                raise BadRequest("eof in chunk size")
            size = int(size_line.split(b";")[0].strip(), 16)
            if size == 0:
                while rfile.readline(65537) not in (b"\r\n", b"\n", b""):  # trailers
                    pass
                return total, True
            remaining = size
            while remaining:
                piece = rfile.read(min(remaining, 65536))
                if not piece:
                    raise BadRequest("eof in chunk")
                sink(piece)
                remaining -= len(piece)
            total += size
            rfile.readline(3)
    lengths = [v for k, v in headers if k.lower() == "content-length"]
    if not lengths:
        return 0, False
    remaining = total = int(lengths[0])
    while remaining:
        piece = rfile.read(min(remaining, 65536))
        if not piece:
            raise BadRequest("eof in body")
        sink(piece)
        remaining -= len(piece)
    return total, False


def _head_bytes(status: int, headers) -> bytes:
    reason = {200: "OK"}.get(status, "Status")
    lines = [f"HTTP/1.1 {status} {reason}"] + [f"{k}: {v}" for k, v in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _send(conn: socket.socket, status: int, headers, body: bytes) -> None:
    conn.sendall(_head_bytes(status, headers + [("content-length", str(len(body)))]) + body)


def _send_chunked(conn: socket.socket, status: int, headers, body: bytes, piece: int = 65536) -> None:
    conn.sendall(_head_bytes(status, headers + [("transfer-encoding", "chunked")]))
    for offset in range(0, len(body), piece):
        part = body[offset:offset + piece]
        conn.sendall(b"%x\r\n" % len(part) + part + b"\r\n")
    conn.sendall(b"0\r\n\r\n")
