"""HTTP/2 upstreams for the end-to-end tests: a real gRPC server (grpcio, generic handlers, no generated code) and a
plain h2c HTTP server (the `h2` library). Both answer as a version (v1, v2) and record what they served.

`EchoServer(version)`: the service `demo.Echo`, messages are raw bytes (no protobuf):
  Say(bytes) -> b"<version>:" + request; trailing metadata x-version: <version>, x-trailer: kept
  Count(b"N") -> N messages b"<version>:<i>" (server streaming)
  Slow(b"SECONDS") -> sleeps (ends early, noting it in `cancelled`, when the call is cancelled), then b"<version>:slow"
  Missing(...) -> aborts with NOT_FOUND "no such shark"

`H2Upstream(version)`: HTTP/2 with prior knowledge only (an HTTP/1.1 request is a protocol error to it), so a test
can tell that the proxy really spoke HTTP/2 upstream. Paths as harness.upstream.Upstream answers them: /upload
(JSON with the body's length and sha256), /download?size=N&seed=S (harness.upstream.blob), anything else 200 with
`x-version` and the body "<version>\\n".
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import threading
import time
from concurrent import futures
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

os.environ.setdefault("GRPC_VERBOSITY", "ERROR")  # before grpcio reads it

import grpc  # noqa: E402
import h2.config
import h2.connection
import h2.events
import h2.exceptions

from harness.server import ThreadedServer
from harness.upstream import blob

SERVICE = "demo.Echo"


@dataclass
class GrpcCall:
    method: str
    metadata: dict
    request: bytes


class EchoServer:
    """A grpcio server on 127.0.0.1:<ephemeral port> answering as `version`."""

    def __init__(self, version: str):
        self.version = version
        self.calls: list[GrpcCall] = []
        self.cancelled: list[bool] = []  # per Slow call: whether the client's cancel reached the handler
        self._lock = threading.Lock()
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=32),
                                  options=[("grpc.so_reuseport", 0)])
        handlers = {
            "Say": grpc.unary_unary_rpc_method_handler(self._say),
            "Count": grpc.unary_stream_rpc_method_handler(self._count),
            "Slow": grpc.unary_unary_rpc_method_handler(self._slow),
            "Missing": grpc.unary_unary_rpc_method_handler(self._missing),
        }
        self.server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE, handlers),))
        self.port = self.server.add_insecure_port("127.0.0.1:0")
        assert self.port, "grpcio could not bind a loopback port"

    def start(self) -> "EchoServer":
        self.server.start()
        return self

    def stop(self) -> None:
        self.server.stop(grace=None).wait(5)

    def seen(self, method: str | None = None) -> list[GrpcCall]:
        with self._lock:
            return [c for c in self.calls if method is None or c.method == method]

    def _record(self, method: str, request: bytes, context) -> None:
        with self._lock:
            self.calls.append(GrpcCall(method, dict(context.invocation_metadata()), request))

    def _say(self, request: bytes, context) -> bytes:
        self._record("Say", request, context)
        context.set_trailing_metadata((("x-version", self.version), ("x-trailer", "kept")))
        return f"{self.version}:".encode() + request

    def _count(self, request: bytes, context):
        self._record("Count", request, context)
        for i in range(int(request or b"0")):
            yield f"{self.version}:{i}".encode()

    def _slow(self, request: bytes, context) -> bytes:
        self._record("Slow", request, context)
        deadline = time.monotonic() + float(request or b"1")
        while time.monotonic() < deadline and context.is_active():
            time.sleep(0.02)
        with self._lock:
            self.cancelled.append(not context.is_active())
        return f"{self.version}:slow".encode()

    def _missing(self, request: bytes, context) -> bytes:
        self._record("Missing", request, context)
        context.abort(grpc.StatusCode.NOT_FOUND, "no such shark")


# a plain h2c server -------------------------------------------------------------------------------------------------

@dataclass
class H2SeenRequest:
    connection: int
    method: str
    path: str
    headers: list[tuple[str, str]]
    body_length: int = 0
    body_sha256: str = hashlib.sha256(b"").hexdigest()

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k == name), None)


@dataclass
class _Stream:
    headers: list[tuple[str, str]]
    digest: "hashlib._Hash" = field(default_factory=hashlib.sha256)
    length: int = 0


class H2Upstream(ThreadedServer):
    """An h2c server (prior knowledge) on 127.0.0.1:<ephemeral port>, one thread per connection."""

    def __init__(self, version: str):
        self.version = version
        self.requests: list[H2SeenRequest] = []
        self.accepts = 0
        self.protocol_errors = 0  # connections that did not speak HTTP/2 (e.g. sent HTTP/1.1)
        self._open(f"h2-{version}", backlog=128)

    def seen(self) -> list[H2SeenRequest]:
        with self._lock:
            return list(self.requests)

    def _serve(self, sock: socket.socket, ordinal: int) -> None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=False, header_encoding="utf-8"))
        conn.initiate_connection()
        streams: dict[int, _Stream] = {}
        outgoing: dict[int, memoryview] = {}
        try:
            sock.sendall(conn.data_to_send())
            while not self._stopping:
                data = sock.recv(1 << 20)
                if not data:
                    return
                try:
                    events = conn.receive_data(data)
                except h2.exceptions.ProtocolError:
                    with self._lock:
                        self.protocol_errors += 1
                    sock.sendall(conn.data_to_send())
                    return
                for ev in events:
                    if isinstance(ev, h2.events.RequestReceived):
                        streams[ev.stream_id] = _Stream(list(ev.headers))
                    elif isinstance(ev, h2.events.DataReceived):
                        s = streams.get(ev.stream_id)
                        if s is not None:
                            s.digest.update(ev.data)
                            s.length += len(ev.data)
                        conn.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
                    elif isinstance(ev, h2.events.StreamEnded):
                        s = streams.pop(ev.stream_id, None)
                        if s is not None and conn.state_machine.state != h2.connection.ConnectionState.CLOSED:
                            self._answer(conn, ev.stream_id, s, ordinal, outgoing)
                    elif isinstance(ev, h2.events.StreamReset):
                        streams.pop(ev.stream_id, None)
                        outgoing.pop(ev.stream_id, None)
                    elif isinstance(ev, h2.events.ConnectionTerminated):
                        sock.sendall(conn.data_to_send())
                        return
                self._send_pending(conn, outgoing)
                out = conn.data_to_send()
                if out:
                    sock.sendall(out)
        except OSError:
            return
        finally:
            with self._lock:
                self._conns.discard(sock)
            sock.close()

    def _answer(self, conn, sid: int, s: _Stream, ordinal: int, outgoing: dict[int, memoryview]) -> None:
        head = dict(s.headers)
        path = head.get(":path", "")
        seen = H2SeenRequest(ordinal, head.get(":method", ""), path, s.headers, s.length, s.digest.hexdigest())
        with self._lock:
            self.requests.append(seen)
        url = urlsplit(path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        if url.path == "/upload":
            body, kind = json.dumps({"length": s.length, "sha256": seen.body_sha256}).encode(), "application/json"
        elif url.path == "/download":
            body, kind = blob(int(query.get("size", "0")), int(query.get("seed", "1"))), "application/octet-stream"
        else:
            body, kind = f"{self.version}\n".encode(), "text/plain"
        conn.send_headers(sid, [(":status", "200"), ("x-version", self.version), ("x-path", path),
                                ("content-type", kind), ("content-length", str(len(body)))], end_stream=not body)
        if body:
            outgoing[sid] = memoryview(body)

    @staticmethod
    def _send_pending(conn, outgoing: dict[int, memoryview]) -> None:
        for sid in list(outgoing):
            rest = outgoing[sid]
            while rest:
                window = min(conn.local_flow_control_window(sid), conn.max_outbound_frame_size)
                if window <= 0:
                    break
                piece, rest = rest[:window], rest[window:]
                conn.send_data(sid, piece.tobytes(), end_stream=not rest)
            if rest:
                outgoing[sid] = rest
            else:
                del outgoing[sid]
