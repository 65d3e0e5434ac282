#!/usr/bin/env python3
"""How fast `kanaria loadtest` generates load, against wrk in the same run, and how closely its open loop holds a rate.

Topology: one nginx worker answering a constant (`return 200 "v1"` with `x-version: v1`) on loopback, pinned to CPU 1;
the load generator pinned to CPU 0, one thread, the same connection count for both. Rounds alternate wrk and
kanaria; medians are reported. Generator CPU per request = user + system time of the generator process (from
getrusage of the waited-for child) ÷ requests. A third run per round tells versions by a body regex
(`--version-body`) instead of the header, to show what Swift Regex costs per answer. Open loop: `--rate R` on 64 connections for each R, asked vs achieved.

    swift build -c release --product kanaria
    python3 Benchmarks/loadgen.py [--seconds 5] [--rounds 3] [--connections 50] [--rates 1000,5000,10000,20000]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LOAD_CPU, SERVER_CPU = "0", "1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_nginx(workdir: Path) -> tuple[subprocess.Popen, int]:
    port = free_port()
    user = "user root;" if os.geteuid() == 0 else ""
    conf = workdir / "nginx.conf"
    conf.write_text(f"""{user}
worker_processes 1; pid {workdir}/nginx.pid; error_log stderr warn;
events {{ worker_connections 4096; }}
http {{
  access_log off; keepalive_requests 100000000;
  client_body_temp_path {workdir}/cb; proxy_temp_path {workdir}/p; fastcgi_temp_path {workdir}/f;
  uwsgi_temp_path {workdir}/u; scgi_temp_path {workdir}/s;
  server {{ listen 127.0.0.1:{port} reuseport; location / {{ add_header x-version v1; return 200 "v1"; }} }}
}}
""")
    proc = subprocess.Popen(["taskset", "-c", SERVER_CPU, "nginx", "-p", str(workdir), "-c", str(conf), "-e", "stderr",
                             "-g", "daemon off;"], stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc, port
        except OSError:
            time.sleep(0.05)
    proc.kill()
    sys.exit("nginx did not start")


def timed(argv: list[str]) -> tuple[str, float]:
    """Runs a generator to the end; returns its stdout and its CPU seconds (user + system)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return out, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def wrk(port: int, seconds: int, connections: int) -> dict:
    out, cpu = timed(["taskset", "-c", LOAD_CPU, "wrk", "-t1", f"-c{connections}", f"-d{seconds}s", f"http://127.0.0.1:{port}/"])
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    return {"rps": rps, "requests": requests, "cpu_us": cpu * 1e6 / requests}


def kanaria(binary: Path, port: int, seconds: int, connections: int, rate: int | None = None,
            extra: tuple[str, ...] = ()) -> dict:
    argv = ["taskset", "-c", LOAD_CPU, str(binary), "loadtest", f"http://127.0.0.1:{port}/", "--threads", "1",
            "--connections", str(connections), "--duration", str(seconds), "--expect", "v1=100", "--json", *extra]
    if rate:
        argv += ["--rate", str(rate)]
    out, cpu = timed(argv)
    report = json.loads(out)
    return {"rps": report["rate"]["achieved"], "requests": report["requests"], "cpu_us": cpu * 1e6 / report["requests"],
            "errors": report["errors"], "p99": report["versions"]["v1"]["latency_ms"]["p99"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--rates", default="1000,5000,10000,20000")
    parser.add_argument("--binary", type=Path, default=REPO / ".build" / "release" / "kanaria")
    args = parser.parse_args()
    for tool in ("nginx", "wrk", "taskset"):
        if not shutil.which(tool):
            sys.exit(f"{tool} is not installed (apt-get install nginx-light wrk util-linux)")
    with tempfile.TemporaryDirectory() as tmp:
        nginx, port = start_nginx(Path(tmp))
        try:
            wrk(port, 1, args.connections)  # warm-up
            rounds = []
            for i in range(args.rounds):
                w = wrk(port, args.seconds, args.connections)
                k = kanaria(args.binary, port, args.seconds, args.connections)
                r = kanaria(args.binary, port, args.seconds, args.connections, extra=("--version-body", "(v[0-9]+)"))
                rounds.append((w, k, r))
                print(f"round {i + 1}: wrk {w['rps']:.0f}/s {w['cpu_us']:.2f} µs/req; kanaria {k['rps']:.0f}/s "
                      f"{k['cpu_us']:.2f} µs/req; ratio {k['rps'] / w['rps']:.2f}; with --version-body "
                      f"{r['rps']:.0f}/s {r['cpu_us']:.2f} µs/req", flush=True)
            med = lambda xs: statistics.median(xs)
            w_rps, k_rps = med([r[0]["rps"] for r in rounds]), med([r[1]["rps"] for r in rounds])
            print(f"\nclosed loop, 1 core, {args.connections} connections, median of {args.rounds}:")
            print("| generator | requests/s | CPU µs/request |\n|---|---|---|")
            print(f"| wrk | {w_rps:,.0f} | {med([r[0]['cpu_us'] for r in rounds]):.2f} |")
            print(f"| kanaria loadtest | {k_rps:,.0f} | {med([r[1]['cpu_us'] for r in rounds]):.2f} |")
            print(f"| kanaria loadtest --version-body '(v[0-9]+)' | {med([r[2]['rps'] for r in rounds]):,.0f} | "
                  f"{med([r[2]['cpu_us'] for r in rounds]):.2f} |")
            print(f"kanaria / wrk: {k_rps / w_rps:.2f}×")
            print(f"\nopen loop, 1 core, 64 connections, {args.seconds} s each:")
            print("| asked/s | achieved/s | error | requests | p99 ms | CPU µs/request |\n|---|---|---|---|---|---|")
            for rate in [int(r) for r in args.rates.split(",")]:
                k = kanaria(args.binary, port, args.seconds, 64, rate)
                print(f"| {rate:,} | {k['rps']:,.1f} | {(k['rps'] - rate) * 100 / rate:+.2f}% | {k['requests']:,} | "
                      f"{k['p99']:.3f} | {k['cpu_us']:.2f} |", flush=True)
        finally:
            nginx.terminate()
            nginx.wait()


if __name__ == "__main__":
    main()
