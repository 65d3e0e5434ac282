"""HTTP/2 clients for the end-to-end tests: curl (parallel streams on one connection, Upgrade: h2c, ALPN), h2load,
an `h2`-library client for well-formed exchanges with bodies, and `RawH2` for frames built by hand (hyperframe +
hpack, no validation) to send what a correct client never would.

pip packages: `h2` (pulls in `hyperframe` and `hpack`). curl and h2load are Debian's `curl` and `nghttp2-client`.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import socket
import ssl
import subprocess
import time
from dataclasses import dataclass, field

import h2.config
import h2.connection
import h2.events
import h2.settings
from hpack import Decoder, Encoder
from hyperframe.frame import (ContinuationFrame, DataFrame, Frame, GoAwayFrame, HeadersFrame, PingFrame,
                              RstStreamFrame, SettingsFrame, WindowUpdateFrame)

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
# RFC 9113 §7 error codes
NO_ERROR, PROTOCOL_ERROR, INTERNAL_ERROR, FLOW_CONTROL_ERROR, REFUSED_STREAM, CANCEL, COMPRESSION_ERROR, \
    ENHANCE_YOUR_CALM = 0x0, 0x1, 0x2, 0x3, 0x7, 0x8, 0x9, 0xb
STREAM_CLOSED = 0x5


def tool(name: str, package: str) -> str:
    path = shutil.which(name)
    assert path, f"{name} is not installed (Debian's `{package}`; .ci/run installs it)"
    return path


# curl ---------------------------------------------------------------------------------------------------------------

@dataclass
class CurlTransfer:
    code: int
    http_version: str  # "1.1", "2"
    connects: int  # connections this transfer opened (0 when it reused one)
    version: str  # its x-version header
    body: bytes = b""


@dataclass
class CurlRun:
    transfers: list[CurlTransfer]
    verbose: str  # curl's -v output (stderr)

    @property
    def connections(self) -> int:
        return sum(t.connects for t in self.transfers)

    def versions(self) -> list[str]:
        return [t.version for t in self.transfers]


def curl_parallel(urls: list[str], mode: list[str], extra: list[str] = (), timeout: float = 120,
                  parallel: bool = True) -> CurlRun:
    """Fetches every URL in one curl process (`mode`: e.g. ["--http2-prior-knowledge"]), in parallel with up to 100
    at a time when `parallel`, and returns what each transfer reported: status, HTTP version, connections it opened
    and its x-version header, plus the verbose log (so a test can see ALPN and connection reuse)."""
    curl = tool("curl", "curl")
    args = [curl, "-sS", "-v", *mode, *extra]
    if parallel:
        args += ["--parallel", "--parallel-max", "100"]
    for url in urls:
        args += ["-o", "/dev/null", "-w", r"%{http_code} %{http_version} %{num_connects} %header{x-version}\n", url]
    out = subprocess.run(args, capture_output=True, timeout=timeout)
    stderr = out.stderr.decode(errors="replace")
    assert out.returncode == 0, f"curl failed ({out.returncode}): {stderr[-3000:]}"
    transfers = []
    for line in out.stdout.decode().splitlines():
        code, version, connects, *rest = line.split(" ")
        transfers.append(CurlTransfer(int(code), version, int(connects), rest[0] if rest else ""))
    assert len(transfers) == len(urls), out.stdout
    return CurlRun(transfers, stderr)


def curl_one(url: str, mode: list[str], extra: list[str] = (), timeout: float = 30) -> tuple[int, dict, str]:
    """One request; (status, lower-cased response headers, verbose log). Does not follow redirects."""
    curl = tool("curl", "curl")
    out = subprocess.run([curl, "-sS", "-v", "-o", "/dev/null", "-D", "-", *mode, *extra, url],
                         capture_output=True, timeout=timeout)
    stderr = out.stderr.decode(errors="replace")
    assert out.returncode == 0, f"curl failed ({out.returncode}): {stderr[-3000:]}"
    heads = out.stdout.decode(errors="replace").split("\r\n\r\n")
    heads = [h for h in heads if h.strip()]
    last = heads[-1].splitlines()
    status = int(last[0].split(" ")[1])
    headers = {}
    for line in last[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return status, headers, stderr


# nghttp --------------------------------------------------------------------------------------------------------------

@dataclass
class NghttpRun:
    connections: int  # "Connected" lines: TCP connections nghttp opened
    status: dict[int, int]  # stream id -> :status
    versions: dict[int, str]  # stream id -> x-version
    paths: dict[int, str]  # stream id -> :path it asked for
    output: str

    def version_list(self) -> list[str]:
        return [self.versions.get(sid, "") for sid in sorted(self.status)]


def nghttp_get(urls: list[str], upgrade: bool = False, timeout: float = 120) -> NghttpRun:
    """GETs every URL with one `nghttp -nv` (nghttp2-client): all on ONE connection, as concurrent streams (as many
    as the server's MAX_CONCURRENT_STREAMS allows). `upgrade`: start with HTTP/1.1 `Upgrade: h2c` (-u).

    Used where curl would be the natural client but Debian 12's curl 7.88.1 cannot reuse an h2c prior-knowledge
    connection: its second transfer fails with "(16) Error in the HTTP2 framing layer" against any server
    (curl#10634, fixed in curl 8.0); curl over TLS (ALPN) and after Upgrade: h2c is not affected."""
    binary = tool("nghttp", "nghttp2-client")
    out = subprocess.run([binary, "-nv", *(["-u"] if upgrade else []), *urls], capture_output=True, text=True,
                         timeout=timeout)
    text = out.stdout + out.stderr
    assert out.returncode == 0, f"nghttp failed ({out.returncode}):\n{text[-3000:]}"
    status, versions, paths = {}, {}, {}
    current = None
    for line in text.splitlines():
        m = re.search(r"recv \(stream_id=(\d+)\) (:status|x-version): (\S+)", line)
        if m:
            sid = int(m.group(1))
            if m.group(2) == ":status":
                status[sid] = int(m.group(3))
            else:
                versions[sid] = m.group(3)
            continue
        m = re.search(r"send HEADERS frame <.*stream_id=(\d+)>", line)
        if m:
            current = int(m.group(1))
            continue
        m = re.match(r"\s+:path: (\S+)", line)
        if m and current is not None:
            paths[current] = m.group(1)
            current = None
    if upgrade and 1 not in paths:  # the upgraded request went out as HTTP/1.1 and is answered on stream 1
        parts = urls[0].split("/", 3)
        paths[1] = "/" + (parts[3] if len(parts) > 3 else "")
    return NghttpRun(len(re.findall(r"^\[ *[\d.]+\] Connected$", text, re.M)), status, versions, paths, text)


# h2load -------------------------------------------------------------------------------------------------------------

@dataclass
class H2LoadResult:
    total: int
    succeeded: int
    failed: int
    errored: int
    timeout: int
    status_2xx: int
    output: str


def h2load(url: str, requests: int, clients: int, streams: int, extra: list[str] = (), timeout: float = 300,
           prefix: list[str] = ()) -> H2LoadResult:
    """Runs `h2load -n requests -c clients -m streams URL` and parses its summary lines."""
    binary = tool("h2load", "nghttp2-client")
    out = subprocess.run([*prefix, binary, "-n", str(requests), "-c", str(clients), "-m", str(streams), *extra, url],
                         capture_output=True, text=True, timeout=timeout)
    text = out.stdout + out.stderr
    m = re.search(r"requests: (\d+) total, \d+ started, \d+ done, (\d+) succeeded, (\d+) failed, (\d+) errored, "
                  r"(\d+) timeout", text)
    codes = re.search(r"status codes: (\d+) 2xx", text)
    assert m and codes, f"h2load printed no summary (exit {out.returncode}):\n{text[-3000:]}"
    return H2LoadResult(int(m.group(1)), int(m.group(2)), int(m.group(3)), int(m.group(4)), int(m.group(5)),
                        int(codes.group(1)), text)


# h2 library client --------------------------------------------------------------------------------------------------

@dataclass
class H2Response:
    stream_id: int
    status: int | None = None
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytearray = field(default_factory=bytearray)
    trailers: list[tuple[str, str]] = field(default_factory=list)
    reset: int | None = None  # RST_STREAM error code, when the server reset the stream
    ended: bool = False

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k == name), None)

    @property
    def done(self) -> bool:
        return self.ended or self.reset is not None


def tls_context(cafile, alpn: list[str]) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=str(cafile))
    ctx.set_alpn_protocols(alpn)
    return ctx


class H2Client:
    """An HTTP/2 client connection (h2c with prior knowledge, or h2 over TLS with `tls`) built on the `h2` library.
    Streams can be started and then pumped together; request bodies respect the peer's flow control."""

    def __init__(self, port: int, tls: ssl.SSLContext | None = None, host: str = "127.0.0.1",
                 authority: str = "localhost", timeout: float = 30, validate: bool = True):
        sock = socket.create_connection((host, port), timeout=timeout)
        if tls is not None:
            sock = tls.wrap_socket(sock, server_hostname="localhost")
            assert sock.selected_alpn_protocol() == "h2", f"ALPN chose {sock.selected_alpn_protocol()!r}, not h2"
        self.sock = sock
        self.authority = authority
        self.scheme = "https" if tls else "http"
        config = h2.config.H2Configuration(client_side=True, header_encoding="utf-8",
                                           validate_outbound_headers=validate, normalize_outbound_headers=validate,
                                           validate_inbound_headers=validate)
        self.conn = h2.connection.H2Connection(config)
        self.conn.local_settings = h2.settings.Settings(client=True, initial_values={
            h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 1 << 24, h2.settings.SettingCodes.ENABLE_PUSH: 0})
        self.conn.initiate_connection()
        self.conn.increment_flow_control_window(1 << 30)
        self.responses: dict[int, H2Response] = {}
        self.pending_bodies: dict[int, memoryview] = {}
        self.terminated: h2.events.ConnectionTerminated | None = None
        self.closed = False
        self.flush()

    def flush(self) -> None:
        data = self.conn.data_to_send()
        if data:
            self.sock.sendall(data)

    def start(self, method: str = "GET", path: str = "/", headers: list[tuple[str, str]] = (),
              body: bytes | None = None, content_length: bool = True) -> int:
        sid = self.conn.get_next_available_stream_id()
        pseudo = [(":method", method), (":scheme", self.scheme), (":authority", self.authority), (":path", path)]
        if body is not None and content_length:
            headers = list(headers) + [("content-length", str(len(body)))]
        self.conn.send_headers(sid, pseudo + list(headers), end_stream=not body)
        self.responses[sid] = H2Response(sid)
        if body:
            self.pending_bodies[sid] = memoryview(body)
        self._send_bodies()
        self.flush()
        return sid

    def _send_bodies(self) -> None:
        for sid in list(self.pending_bodies):
            rest = self.pending_bodies[sid]
            while rest:
                window = min(self.conn.local_flow_control_window(sid), self.conn.max_outbound_frame_size)
                if window <= 0:
                    break
                piece, rest = rest[:window], rest[window:]
                self.conn.send_data(sid, piece.tobytes(), end_stream=not rest)
            if rest:
                self.pending_bodies[sid] = rest
            else:
                del self.pending_bodies[sid]

    def pump(self, until, timeout: float = 30) -> None:
        """Reads and handles frames until until() is true; fails on timeout, returns early if the peer closed."""
        deadline = time.monotonic() + timeout
        while not until():
            if self.closed:
                return
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"no complete answer within {timeout}s: {self.responses}"
            self.sock.settimeout(remaining)
            try:
                data = self.sock.recv(1 << 20)
            except socket.timeout:
                raise AssertionError(f"no complete answer within {timeout}s: {self.state()}") from None
            except (ConnectionResetError, ssl.SSLError):
                data = b""
            if not data:
                self.closed = True
                return
            self.handle(self.conn.receive_data(data))
            self._send_bodies()
            self.flush()

    def state(self) -> str:
        """What is outstanding, for failure messages: unsent body bytes and the send windows, and the responses."""
        unsent = {sid: (len(rest), self.conn.local_flow_control_window(sid)) for sid, rest in self.pending_bodies.items()}
        answers = {sid: (r.status, len(r.body), r.ended, r.reset) for sid, r in self.responses.items() if not r.done}
        return (f"unsent body bytes and window per stream {unsent}; connection send window "
                f"{self.conn.outbound_flow_control_window}; unfinished responses (status, body bytes, ended, reset) "
                f"{answers}; GOAWAY {self.terminated}")

    def handle(self, events) -> None:
        for ev in events:
            if isinstance(ev, h2.events.ResponseReceived):
                r = self.responses[ev.stream_id]
                r.headers = [(k, v) for k, v in ev.headers]
                r.status = int(r.header(":status"))
            elif isinstance(ev, h2.events.InformationalResponseReceived):
                pass
            elif isinstance(ev, h2.events.DataReceived):
                self.responses[ev.stream_id].body += ev.data
                self.conn.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
            elif isinstance(ev, h2.events.TrailersReceived):
                self.responses[ev.stream_id].trailers = [(k, v) for k, v in ev.headers]
            elif isinstance(ev, h2.events.StreamEnded):
                self.responses[ev.stream_id].ended = True
            elif isinstance(ev, h2.events.StreamReset):
                if ev.stream_id in self.responses:
                    self.responses[ev.stream_id].reset = int(ev.error_code)
                self.pending_bodies.pop(ev.stream_id, None)
            elif isinstance(ev, h2.events.ConnectionTerminated):
                self.terminated = ev

    def request(self, method: str = "GET", path: str = "/", headers: list[tuple[str, str]] = (),
                body: bytes | None = None, timeout: float = 30) -> H2Response:
        sid = self.start(method, path, headers, body)
        self.pump(lambda: self.responses[sid].done, timeout)
        return self.responses[sid]

    def many(self, paths: list[str], timeout: float = 60) -> list[H2Response]:
        """GETs every path on its own stream, as many at once as the server's MAX_CONCURRENT_STREAMS allows."""
        sids: list[int] = []
        deadline = time.monotonic() + timeout
        for p in paths:
            limit = self.conn.remote_settings.max_concurrent_streams
            self.pump(lambda: self.conn.open_outbound_streams < limit, deadline - time.monotonic())
            assert not self.closed, f"the server closed the connection after {len(sids)} streams"
            sids.append(self.start("GET", p))
        self.pump(lambda: all(self.responses[s].done for s in sids), deadline - time.monotonic())
        return [self.responses[s] for s in sids]

    def close(self) -> None:
        try:
            self.conn.close_connection()
            self.flush()
        except Exception:  # noqa: BLE001 - the peer may be gone already
            pass
        self.sock.close()

    def __enter__(self) -> "H2Client":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# frames by hand -----------------------------------------------------------------------------------------------------

def frame_bytes(frame: Frame) -> bytes:
    return frame.serialize()


def headers_frame(sid: int, block: bytes, end_stream: bool = True, end_headers: bool = True) -> bytes:
    f = HeadersFrame(sid)
    f.data = block
    if end_stream:
        f.flags.add("END_STREAM")
    if end_headers:
        f.flags.add("END_HEADERS")
    return f.serialize()


def continuation_frame(sid: int, block: bytes, end_headers: bool = False) -> bytes:
    f = ContinuationFrame(sid)
    f.data = block
    if end_headers:
        f.flags.add("END_HEADERS")
    return f.serialize()


def data_frame(sid: int, data: bytes, end_stream: bool = False) -> bytes:
    f = DataFrame(sid)
    f.data = data
    if end_stream:
        f.flags.add("END_STREAM")
    return f.serialize()


def rst_stream_frame(sid: int, code: int = CANCEL) -> bytes:
    return RstStreamFrame(sid, error_code=code).serialize()


def priority_frame(sid: int, depends_on: int, weight: int = 16, exclusive: bool = False) -> bytes:
    """A PRIORITY frame (RFC 9113 §6.3): `sid` depends on `depends_on`; `weight` 1–256. Built by hand, since
    hyperframe refuses stream 0."""
    dependency = depends_on | (0x8000_0000 if exclusive else 0)
    return (5).to_bytes(3, "big") + bytes([0x2, 0]) + sid.to_bytes(4, "big") + dependency.to_bytes(4, "big") + \
        bytes([weight - 1])


def settings_frame(settings: dict[int, int] | None = None, ack: bool = False) -> bytes:
    f = SettingsFrame(0, settings=settings or {})
    if ack:
        f.flags.add("ACK")
    return f.serialize()


@dataclass
class ReceivedFrame:
    type: str  # HEADERS, DATA, RST_STREAM, GOAWAY, SETTINGS, …
    stream_id: int
    flags: set
    frame: Frame
    headers: list[tuple[str, str]] | None = None  # decoded, for HEADERS (+ CONTINUATION)

    @property
    def status(self) -> int | None:
        if self.headers is None:
            return None
        value = dict(self.headers).get(":status")
        return int(value) if value else None


class RawH2:
    """An h2c (or h2 over TLS) connection whose frames the test writes itself. `handshake()` exchanges prefaces and
    SETTINGS as a client must; then `send` writes any bytes, and `read` parses what comes back (HEADERS decoded
    with HPACK) until a condition, a timeout or EOF (`eof` is set then)."""

    def __init__(self, port: int, host: str = "127.0.0.1", timeout: float = 10, tls: ssl.SSLContext | None = None):
        sock = socket.create_connection((host, port), timeout=timeout)
        if tls is not None:
            sock = tls.wrap_socket(sock, server_hostname="localhost")
        self.sock = sock
        self.encoder = Encoder()
        self.decoder = Decoder()
        self.decoder.max_allowed_table_size = 1 << 16
        self.buffer = b""
        self.frames: list[ReceivedFrame] = []
        self.eof = False
        self.server_settings: dict[int, int] = {}
        self._block: tuple[int, set, bytes, Frame] | None = None
        self.next_stream = 1

    def block(self, headers: list[tuple[str, str]] | list[tuple[bytes, bytes]]) -> bytes:
        """An HPACK header block of exactly these fields (any case, any name), without huffman surprises."""
        return self.encoder.encode(headers)

    def request_headers(self, path: str = "/", method: str = "GET", extra: list[tuple[str, str]] = (),
                        authority: str = "localhost") -> list[tuple[str, str]]:
        return [(":method", method), (":scheme", "http"), (":authority", authority), (":path", path), *extra]

    def new_stream(self) -> int:
        sid = self.next_stream
        self.next_stream += 2
        return sid

    def send(self, data: bytes) -> bool:
        """Writes the bytes; False when the peer has closed (EPIPE / reset)."""
        try:
            self.sock.sendall(data)
            return True
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            return False

    def handshake(self, settings: dict[int, int] | None = None, timeout: float = 10) -> None:
        settings = {0x4: 1 << 24} if settings is None else settings  # INITIAL_WINDOW_SIZE: never stall a body
        assert self.send(PREFACE + settings_frame(settings) +
                         WindowUpdateFrame(0, window_increment=(1 << 30)).serialize())
        self.read(lambda: any(f.type == "SETTINGS" and "ACK" not in f.flags for f in self.frames), timeout)
        first = next((f for f in self.frames if f.type == "SETTINGS" and "ACK" not in f.flags), None)
        assert first is not None, f"no SETTINGS from the server: {self.frames}"
        self.server_settings = dict(first.frame.settings)
        self.send(settings_frame(ack=True))

    def _parse(self) -> None:
        while len(self.buffer) >= 9:
            frame, length = Frame.parse_frame_header(memoryview(self.buffer[:9]))
            if len(self.buffer) < 9 + length:
                return
            frame.parse_body(memoryview(self.buffer[9:9 + length]))
            self.buffer = self.buffer[9 + length:]
            kind = type(frame).__name__.replace("Frame", "").upper()
            kind = {"RSTSTREAM": "RST_STREAM", "WINDOWUPDATE": "WINDOW_UPDATE", "GOAWAY": "GOAWAY"}.get(kind, kind)
            flags = set(frame.flags)
            if kind == "HEADERS" or kind == "CONTINUATION":
                if kind == "HEADERS":
                    self._block = (frame.stream_id, flags, bytes(frame.data), frame)
                else:
                    assert self._block is not None, "CONTINUATION without HEADERS from the server"
                    sid, f0, data, first = self._block
                    self._block = (sid, f0 | flags, data + bytes(frame.data), first)
                if "END_HEADERS" in flags:
                    sid, f0, data, first = self._block
                    self._block = None
                    headers = [(k.decode() if isinstance(k, bytes) else k, v.decode() if isinstance(v, bytes) else v)
                               for k, v in self.decoder.decode(data, raw=True)]
                    self.frames.append(ReceivedFrame("HEADERS", sid, f0, first, headers))
                continue
            if kind == "SETTINGS" and "ACK" not in flags and self.server_settings:  # later SETTINGS
                self.send(settings_frame(ack=True))
            if kind == "PING" and "ACK" not in flags:
                ack = PingFrame(0, opaque_data=frame.opaque_data)
                ack.flags.add("ACK")
                self.send(ack.serialize())
            self.frames.append(ReceivedFrame(kind, frame.stream_id, flags, frame))

    def read(self, until=lambda: False, timeout: float = 5) -> list[ReceivedFrame]:
        """Reads until until() is true, EOF, or `timeout` seconds without the condition; returns all frames so far."""
        deadline = time.monotonic() + timeout
        while not until() and not self.eof:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            self.sock.settimeout(remaining)
            try:
                data = self.sock.recv(1 << 16)
            except socket.timeout:
                break
            except (ConnectionResetError, ssl.SSLError):
                data = b""
            if not data:
                self.eof = True
                break
            self.buffer += data
            self._parse()
        return self.frames

    def read_until_closed(self, timeout: float = 10) -> bool:
        """Reads (and drops data) until the peer closes; True if it closed within the timeout."""
        self.read(timeout=timeout)
        return self.eof

    # what came back ---------------------------------------------------------------------------------------------

    def goaway(self) -> GoAwayFrame | None:
        return next((f.frame for f in self.frames if f.type == "GOAWAY"), None)

    def stream_outcome(self, sid: int) -> tuple[str, int | None]:
        """("status", code) if a response head came, ("reset", error code) if the stream was reset, ("goaway", code)
        if the connection was ended with the stream unanswered, ("none", None) otherwise."""
        for f in self.frames:
            if f.stream_id == sid and f.type == "HEADERS" and f.status is not None:
                return "status", f.status
            if f.stream_id == sid and f.type == "RST_STREAM":
                return "reset", f.frame.error_code
        away = self.goaway()
        if away is not None:
            return "goaway", away.error_code
        return "none", None

    def done(self, sid: int) -> bool:
        return any(f.stream_id == sid and (f.type == "RST_STREAM" or "END_STREAM" in f.flags) for f in self.frames) \
            or self.goaway() is not None

    def body(self, sid: int) -> bytes:
        return b"".join(bytes(f.frame.data) for f in self.frames if f.stream_id == sid and f.type == "DATA")

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self) -> "RawH2":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
