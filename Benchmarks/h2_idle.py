#!/usr/bin/env python3
"""Memory of idle HTTP/2 client connections: each proxy's resident memory before and after N h2c connections that have each
served K requests and then stay open, idle.

Per proxy and repeat: start it (one worker, the nginx upstreams of bench.py), warm it up with 20 connections that
do the same and close, read the resident memory of all its processes (/proc/PID/statm), open the N connections
(preface, SETTINGS, K GETs sent at once on streams 1, 3, …, read until all K responses have ended, SETTINGS ACKed),
read the RSS again. Reported: KiB per idle connection = (RSS after − RSS before) ÷ N, median of the repeats. Kanaria
binaries (any number, e.g. before and after a change) and the peers are interleaved in each repeat.

K = 1 is an ordinary idle connection. K = 100 fills SETTINGS_MAX_CONCURRENT_STREAMS: a server that keeps closed
streams (RFC 9113 §5.1, nghttp2 keeps up to that many) holds the most it ever will for the connection.

    python3 Benchmarks/h2_idle.py --kanaria before=/path/to/main/kanaria --kanaria after=.build/release/kanaria
"""

from __future__ import annotations

import argparse
import datetime
import os
import shutil
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench  # noqa: E402 (the benchmark's own helpers)

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
SETTINGS_EMPTY = b"\x00\x00\x00\x04\x00\x00\x00\x00\x00"
SETTINGS_ACK = b"\x00\x00\x00\x04\x01\x00\x00\x00\x00"
PAGE_KIB = os.sysconf("SC_PAGE_SIZE") // 1024


def literal_block(fields: list[tuple[bytes, bytes]]) -> bytes:
    """An HPACK block of literal fields without indexing (RFC 7541 §6.2.2): the same bytes fit any connection."""
    out = b""
    for name, value in fields:
        out += b"\x00" + bytes([len(name)]) + name + bytes([len(value)]) + value
    return out


REQUEST = literal_block([(b":method", b"GET"), (b":scheme", b"http"), (b":authority", b"localhost"), (b":path", b"/")])


def headers_frame(stream: int) -> bytes:
    """HEADERS with END_STREAM and END_HEADERS."""
    return len(REQUEST).to_bytes(3, "big") + b"\x01\x05" + stream.to_bytes(4, "big") + REQUEST


def open_idle(port: int, requests: int) -> socket.socket:
    """An h2c connection that has served `requests` GETs (all answered) and is left open."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    sock.sendall(PREFACE + SETTINGS_EMPTY + b"".join(headers_frame(2 * i + 1) for i in range(requests)))
    ended, acked, buffer = 0, False, b""
    while ended < requests or not acked:
        data = sock.recv(1 << 16)
        if not data:
            raise RuntimeError(f"port {port} closed the connection after {ended} of {requests} responses")
        buffer += data
        while len(buffer) >= 9 and len(buffer) >= 9 + int.from_bytes(buffer[:3], "big"):
            length, kind, flags = int.from_bytes(buffer[:3], "big"), buffer[3], buffer[4]
            if kind == 0x4 and not flags & 0x1 and not acked:
                sock.sendall(SETTINGS_ACK)
                acked = True
            if kind in (0x0, 0x1) and flags & 0x1:
                ended += 1
            if kind == 0x7:
                raise RuntimeError(f"port {port} sent GOAWAY after {ended} of {requests} responses")
            buffer = buffer[9 + length:]
    return sock


def rss_kib(pids: list[int]) -> int:
    """Resident memory of the processes, in KiB (the second field of /proc/PID/statm, in pages)."""
    pages = 0
    for pid in pids:
        try:
            pages += int(Path(f"/proc/{pid}/statm").read_text().split()[1])
        except OSError:
            pass
    return pages * PAGE_KIB


def measure(svc: bench.Service, connections: int, requests: int, settle: float) -> float:
    """KiB of RSS per idle connection, read `settle` seconds after the last connection went idle (a proxy may
    give memory back from a connection once it has been idle a moment, as Kanaria does after a second)."""
    for sock in [open_idle(svc.port, requests) for _ in range(20)]:
        sock.close()
    before = rss_kib(svc.pids())
    idle = [open_idle(svc.port, requests) for _ in range(connections)]
    time.sleep(settle)
    after = rss_kib(svc.pids())
    for sock in idle:
        sock.close()
    return (after - before) / connections


def start(name: str, binary: Path | None, workdir: Path, u1: int, u2: int) -> bench.Service:
    if binary is None:
        return bench.start_proxy(name, workdir, Path("unused"), u1, u2, h2=True)
    argv = ["taskset", "-c", bench.PROXY_CPU, str(binary), "run", "-f", str(bench.kanaria_config(workdir, u1, u2, True)),
            "--listen", "80=127.0.0.1:0", "--workers", "1", "--admin", "off"]
    return bench.Service(f"kanaria-{name}", argv, None, workdir, r"gateway port \d+ listening on [0-9.]+:(\d+)")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--kanaria", action="append", default=[], metavar="NAME=PATH", help="a Kanaria binary (repeatable)")
    p.add_argument("--peers", default="nginx,haproxy", help="comma-separated peers (nginx, haproxy)")
    p.add_argument("--connections", type=int, default=1000, help="idle connections N")
    p.add_argument("--requests", type=int, default=1, help="requests K each connection serves before going idle")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--settle", type=float, default=2.5, help="seconds the connections stay idle before RSS is read")
    args = p.parse_args()
    kanarias = [(k.split("=", 1)[0], Path(k.split("=", 1)[1])) for k in args.kanaria] or \
        [("kanaria", bench.REPO / ".build" / "release" / "kanaria")]
    subjects = kanarias + [(peer, None) for peer in args.peers.split(",") if peer]
    workdir = Path(tempfile.mkdtemp(prefix="kanaria-h2idle-"))
    results: dict[str, list[float]] = {name: [] for name, _ in subjects}
    upstreams, u1, u2 = bench.start_upstreams(workdir)
    try:
        for r in range(args.repeats):
            for name, binary in subjects:
                svc = start(name, binary, workdir, u1, u2)
                try:
                    results[name].append(measure(svc, args.connections, args.requests, args.settle))
                finally:
                    svc.stop()
                bench.log(f"repeat {r + 1}/{args.repeats} {name:8} {results[name][-1]:7.1f} KiB per idle connection")
    finally:
        upstreams.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    when = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    lines = [f"## Idle h2c connections: {when}", "",
             f"{args.connections} h2c connections, each idle after {args.requests} request(s); RSS of the proxy's "
             f"processes before and after; {args.repeats} interleaved repeats, medians. {bench.versions()}.", "",
             "| proxy | KiB per idle connection | per repeat |", "|---|---|---|"]
    for name, values in results.items():
        lines.append(f"| {name} | {statistics.median(values):.1f} | {', '.join(f'{v:.1f}' for v in values)} |")
    text = "\n".join(lines) + "\n"
    print(text)
    bench.RESULTS.mkdir(exist_ok=True)
    (bench.RESULTS / f"h2-idle-{args.requests}.md").write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
