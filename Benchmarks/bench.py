#!/usr/bin/env python3
"""Kanaria's proxy benchmark, following shared/BENCHMARKING.md (see Benchmarks/README.md).

Default mode: HTTP/1.1 keep-alive through each proxy with the 80/20 split, one worker each.
  upstreams: one nginx, `return 200 "v1";` / `"v2";` on two ports, pinned to CPU 0
  load:      wrk -t1 -cC -dDs, pinned to CPU 0
  proxies:   pinned to CPU 1, one worker: direct (wrk straight to the v1 upstream), kanaria
             (.build/release/kanaria run --workers 1, seed config + WorkloadEntries), nginx (weights 4:1,
             keepalive 64), HAProxy (roundrobin 80:20, http-reuse always)
  rounds interleaved (direct, kanaria, nginx, haproxy) x N; medians reported.
  Per proxy: rps, rps / direct, proxy CPU us/request (utime+stime of all its processes from /proc/PID/stat
  over the run / requests), its user and sys parts, upstream connections opened (nstat TcpActiveOpens minus the
  load generator's own), and an 80/20 check of 100 requests.
--callgrind: the target (kanaria by default) under valgrind --tool=callgrind, two runs of N1 and N2 keep-alive
  requests; per request = (run2 - run1) / (N2 - N1) for instructions and for calls of malloc, free, swift_retain,
  swift_release, swift_allocObject (and a few more), plus the functions that cost most per request.
--syscalls: perf stat -e raw_syscalls:sys_enter (and a per-syscall breakdown) on each proxy during a wrk run.
--h2: the h2c front end. h2load -cC -mM -Ds (20 connections x 10 streams by default) with HTTP/2 prior knowledge
  to each proxy, HTTP/1.1 from the proxy to the same nginx upstreams: direct (h2load to an h2c port of the upstream
  nginx answering "v1": the ceiling), kanaria (the seed's Gateway server with protocol HTTP2), nginx (`listen ...
  http2`, which makes the port h2c-only), HAProxy (a plain bind, which takes h2c with prior knowledge). Same pinning,
  CPU accounting and interleaved rounds as the default mode; the split check is 100 streams on one connection.

Results are printed as Markdown and written to Benchmarks/results/ (latest.md, callgrind.md, syscalls.md, h2.md).
"""

from __future__ import annotations

import argparse
import datetime
import http.client
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
RESULTS = HERE / "results"
CLK_TCK = os.sysconf("SC_CLK_TCK")
LOAD_CPU, PROXY_CPU = "0", "1"
PROXIES = ("direct", "kanaria", "nginx", "haproxy")
COUNTED_CALLS = ("malloc", "free", "swift_retain", "swift_release", "swift_allocObject",
                 "calloc", "realloc", "swift_bridgeObjectRetain", "swift_bridgeObjectRelease")
SYSCALLS = ("read", "write", "readv", "writev", "recvfrom", "sendto", "recvmsg", "sendmsg", "epoll_wait",
            "epoll_pwait", "epoll_ctl", "accept4", "connect", "close", "setsockopt", "getsockopt", "futex")


def log(*args) -> None:
    print(*args, file=sys.stderr, flush=True)


# processes ----------------------------------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, proc: subprocess.Popen | None = None, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process {proc.args} exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port} after {timeout}s")


def descendants(pid: int) -> list[int]:
    """pid and all its descendants (nginx's workers, for example)."""
    children = defaultdict(list)
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            ppid = int(stat[stat.rindex(")") + 2:].split()[1])
            children[ppid].append(int(entry.name))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo += children.get(p, [])
    return out


def cpu_ticks(pids: list[int]) -> tuple[int, int]:
    """(utime, stime) in clock ticks summed over the processes (fields 14 and 15 of /proc/PID/stat)."""
    user = system = 0
    for pid in pids:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()  # fields[0] is field 3 (state)
        user += int(fields[11])
        system += int(fields[12])
    return user, system


class Service:
    """A started process (upstreams or a proxy) with the port clients use."""

    def __init__(self, name: str, argv: list[str], port: int | None, workdir: Path, ready_regex: str | None = None,
                 ready_timeout: float = 30):
        self.name, self.argv = name, argv
        self.log_path = workdir / f"{name}.log"
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        if ready_regex:
            self.port = self._wait_log(ready_regex, ready_timeout)
        else:
            self.port = port
            wait_port(port, self.proc, ready_timeout)

    def _wait_log(self, regex: str, timeout: float) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            m = re.search(regex, self.log_path.read_text(errors="replace"))
            if m:
                return int(m.group(1))
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} not ready: {self.log_path.read_text(errors='replace')[-2000:]}")

    def pids(self) -> list[int]:
        return descendants(self.proc.pid)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 60) -> int | None:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
        return self.proc.returncode


def seed_dir() -> Path:
    for d in (REPO / "config", REPO.parent / "shared" / "seed"):
        if (d / "node-app.yaml").is_file() and (d / "node-istio.yaml").is_file():
            return d
    raise FileNotFoundError("the tutorial's node-app.yaml / node-istio.yaml (config/ or ../shared/seed)")


def kanaria_config(workdir: Path, u1: int, u2: int, h2: bool = False) -> Path:
    """The seed manifests plus WorkloadEntries for the upstreams; with `h2`, the Gateway server's protocol is HTTP2
    (h2c) instead of HTTP, nothing else changed."""
    d = workdir / ("kanaria-config-h2" if h2 else "kanaria-config")
    d.mkdir(exist_ok=True)
    for name in ("node-app.yaml", "node-istio.yaml"):
        shutil.copy(seed_dir() / name, d / name)
    if h2:
        istio = (d / "node-istio.yaml").read_text()
        assert "protocol: HTTP\n" in istio, "the seed's Gateway server is expected to say protocol: HTTP"
        (d / "node-istio.yaml").write_text(istio.replace("protocol: HTTP\n", "protocol: HTTP2\n", 1))
    entries = []
    for version, port in (("v1", u1), ("v2", u2)):
        entries.append(f"apiVersion: networking.istio.io/v1beta1\nkind: WorkloadEntry\nmetadata:\n"
                       f"  name: nodejs-{version}-bench\nspec:\n  address: 127.0.0.1\n  ports:\n    http: {port}\n"
                       f"  labels:\n    app: nodejs\n    version: {version}\n")
    (d / "workloads.yaml").write_text("---\n".join(entries))
    return d


def nginx_conf(workdir: Path, name: str, http_body: str, master: bool = True) -> Path:
    d = workdir / name
    d.mkdir(exist_ok=True)
    user = "user root;" if os.geteuid() == 0 else ""
    conf = d / "nginx.conf"
    conf.write_text(f"""{user}
worker_processes 1;
{"" if master else "master_process off;"}
pid {d}/nginx.pid;
error_log stderr warn;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  keepalive_requests 100000000;
  keepalive_timeout 300s;
  client_body_temp_path {d}/cb; proxy_temp_path {d}/px; fastcgi_temp_path {d}/fc; uwsgi_temp_path {d}/uw;
  scgi_temp_path {d}/sc;
{http_body}
}}
""")
    return conf


def nginx_argv(conf: Path) -> list[str]:
    return ["nginx", "-p", str(conf.parent), "-c", str(conf), "-e", "stderr", "-g", "daemon off;"]


def start_upstreams(workdir: Path, h2_port: int | None = None) -> tuple[Service, int, int]:
    """The upstream nginx: "v1" and "v2" on two HTTP/1.1 ports, plus "v1" on an h2c port when `h2_port` is given
    (the --h2 mode's direct baseline)."""
    u1, u2 = free_port(), free_port()
    h2c = f"""
  server {{ listen 127.0.0.1:{h2_port} http2; http2_max_requests 100000000; location / {{ return 200 "v1"; }} }}""" \
        if h2_port else ""
    conf = nginx_conf(workdir, "upstreams", f"""
  server {{ listen 127.0.0.1:{u1}; location / {{ return 200 "v1"; }} }}
  server {{ listen 127.0.0.1:{u2}; location / {{ return 200 "v2"; }} }}{h2c}""")
    svc = Service("upstreams", ["taskset", "-c", LOAD_CPU] + nginx_argv(conf), u1, workdir)
    wait_port(u2, svc.proc)
    if h2_port:
        wait_port(h2_port, svc.proc)
    return svc, u1, u2


def nginx_proxy_body(port: int, u1: int, u2: int, h2: bool = False) -> str:
    """`h2`: the listener speaks h2c (prior knowledge) only; upstreams are HTTP/1.1 either way."""
    listen = f"127.0.0.1:{port} reuseport http2; http2_max_requests 100000000" if h2 else f"127.0.0.1:{port} reuseport"
    return f"""
  upstream weighted {{ server 127.0.0.1:{u1} weight=4; server 127.0.0.1:{u2} weight=1;
                      keepalive 64; keepalive_requests 1000000; }}
  server {{ listen {listen};
           location / {{ proxy_pass http://weighted; proxy_http_version 1.1; proxy_set_header Connection ""; }} }}"""


def haproxy_cfg(workdir: Path, port: int, u1: int, u2: int) -> Path:
    cfg = workdir / "haproxy.cfg"
    cfg.write_text(f"""global
  nbthread 1
  maxconn 4000
defaults
  mode http
  http-reuse always
  timeout connect 5s
  timeout client 30s
  timeout server 30s
  timeout http-keep-alive 300s
frontend fe
  bind 127.0.0.1:{port}
  default_backend be
backend be
  balance roundrobin
  server v1 127.0.0.1:{u1} weight 80 pool-max-conn 64
  server v2 127.0.0.1:{u2} weight 20 pool-max-conn 64
""")
    return cfg


def start_proxy(name: str, workdir: Path, binary: Path, u1: int, u2: int, wrapper: list[str] | None = None,
                ready_timeout: float = 30, h2: bool = False) -> Service:
    """Starts a proxy pinned to the proxy CPU (or under `wrapper`, e.g. valgrind). `h2`: its client side speaks h2c
    with prior knowledge (HAProxy's plain bind takes both, so its configuration does not change)."""
    prefix = wrapper if wrapper is not None else ["taskset", "-c", PROXY_CPU]
    if name == "kanaria":
        argv = prefix + [str(binary), "run", "-f", str(kanaria_config(workdir, u1, u2, h2)),
                         "--listen", "80=127.0.0.1:0", "--workers", "1"]
        return Service(name, argv, None, workdir, r"gateway port \d+ listening on [0-9.]+:(\d+)", ready_timeout)
    port = free_port()
    if name == "nginx":
        conf = nginx_conf(workdir, "nginx-proxy-h2" if h2 else "nginx-proxy", nginx_proxy_body(port, u1, u2, h2),
                          master=wrapper is None)
        return Service(name, prefix + nginx_argv(conf), port, workdir, ready_timeout=ready_timeout)
    if name == "haproxy":
        return Service(name, prefix + ["haproxy", "-f", str(haproxy_cfg(workdir, port, u1, u2)), "-db"], port,
                       workdir, ready_timeout=ready_timeout)
    raise ValueError(name)


# measuring ----------------------------------------------------------------------------------------------------------

def split_check(port: int, n: int = 100) -> str:
    """n requests on one keep-alive connection; the share of "v1" and "v2" bodies."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    bodies = []
    for _ in range(n):
        conn.request("GET", "/")
        bodies.append(conn.getresponse().read().strip())
    conn.close()
    return f"{bodies.count(b'v1')}/{bodies.count(b'v2')}"


def wrk(port: int, seconds: int, connections: int, threads: int) -> dict:
    out = subprocess.run(["taskset", "-c", LOAD_CPU, "wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s",
                          f"http://127.0.0.1:{port}/"], capture_output=True, text=True, timeout=seconds + 60)
    text = out.stdout
    m = re.search(r"(\d+) requests in ([\d.]+)(\w+)", text)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", text)
    if out.returncode != 0 or not m or not rps:
        raise RuntimeError(f"wrk failed: {out.stdout}{out.stderr}")
    errors = re.search(r"Socket errors: (.*)", text)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    return {"requests": int(m.group(1)), "rps": float(rps.group(1)),
            "errors": (errors.group(1) if errors else "") + (f" non-2xx {non2xx.group(1)}" if non2xx else "")}


def nstat_active_opens(reset: bool = False) -> int:
    if reset:
        subprocess.run(["nstat", "-n"], check=True)
        return 0
    out = subprocess.run(["nstat", "-z", "TcpActiveOpens"], capture_output=True, text=True, check=True).stdout
    m = re.search(r"TcpActiveOpens\s+(\d+)", out)
    return int(m.group(1)) if m else 0


def measure_load(svc_pids, run_load, client_connections: int) -> dict:
    """Warm-up, then one measured run of `run_load(warmup: bool)` with CPU ticks of the proxy's processes read around
    it; upstream connections opened = TcpActiveOpens minus the load generator's own (twice: warm-up and run)."""
    nstat_active_opens(reset=True)
    run_load(True)
    pids = svc_pids()
    before = cpu_ticks(pids)
    run = run_load(False)
    after = cpu_ticks(pids)
    opens = nstat_active_opens()
    n = run["requests"]
    user_us = (after[0] - before[0]) * 1e6 / CLK_TCK / n
    sys_us = (after[1] - before[1]) * 1e6 / CLK_TCK / n
    return {**run, "user": user_us, "sys": sys_us, "cpu": user_us + sys_us,
            "upstream_opens": max(0, opens - 2 * client_connections)}


def measure(svc_pids, port: int, args) -> dict:
    """HTTP/1.1: wrk."""
    return measure_load(svc_pids, lambda warmup: wrk(port, args.warmup if warmup else args.duration,
                                                     args.connections, args.threads), args.connections)


def versions() -> str:
    def first_line(cmd):
        try:
            out = subprocess.run(cmd, capture_output=True, text=True)
            return (out.stdout + out.stderr).strip().splitlines()[0]
        except (OSError, IndexError):
            return "missing"
    return "; ".join([first_line(["nginx", "-v"]), first_line(["haproxy", "-v"]), first_line(["wrk", "-v"]),
                      f"kernel {platform.release()}", f"{os.cpu_count()} CPUs"])


def throughput(args, binary: Path, workdir: Path) -> str:
    upstreams, u1, u2 = start_upstreams(workdir)
    services: dict[str, Service | None] = {}
    notes = {}
    try:
        for name in args.proxies:
            if name == "direct":
                continue
            if name == "kanaria" and not binary.is_file():
                notes[name] = f"missing ({binary} not built)"
                continue
            try:
                services[name] = start_proxy(name, workdir, binary, u1, u2)
            except Exception as e:  # noqa: BLE001 - reported in the table
                notes[name] = f"failed to start: {e}"
        ports = {"direct": u1, **{n: s.port for n, s in services.items()}}
        split = {n: (split_check(p) if n != "direct" else "v1 only") for n, p in ports.items()}
        rounds: dict[str, list[dict]] = defaultdict(list)
        for r in range(args.rounds):
            for name in args.proxies:
                if name not in ports:
                    continue
                pids = services[name].pids if name in services else (lambda: [])
                result = measure(pids, ports[name], args)
                rounds[name].append(result)
                log(f"round {r + 1}/{args.rounds} {name:8} {result['rps']:>10.0f} rps  "
                    f"{result['cpu']:6.1f} us/req  upstream opens {result['upstream_opens']}")
    finally:
        for svc in services.values():
            svc.stop()
        upstreams.stop()

    direct = statistics.median(r["rps"] for r in rounds["direct"]) if rounds.get("direct") else None
    when = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    lines = [f"## HTTP/1.1 keep-alive, 80/20 split: {when}", "",
             f"wrk -t{args.threads} -c{args.connections} -d{args.duration}s (+{args.warmup}s warm-up) on CPU "
             f"{LOAD_CPU} with the nginx upstreams; each proxy on CPU {PROXY_CPU} with one worker; "
             f"{args.rounds} interleaved rounds, medians. {versions()}. kanaria: `{binary}`.", "",
             "| proxy | rps | rps ÷ direct | CPU µs/req | user µs/req | sys µs/req | upstream conns opened "
             "(all rounds) | split of 100 |",
             "|---|---|---|---|---|---|---|---|"]
    for name in args.proxies:
        rs = rounds.get(name)
        if not rs:
            lines.append(f"| {name} | {notes.get(name, 'not run')} | | | | | | |")
            continue
        med = {k: statistics.median(r[k] for r in rs) for k in ("rps", "cpu", "user", "sys")}
        ratio = f"{med['rps'] / direct:.2f}" if direct else "—"
        cpu = "—" if name == "direct" else f"{med['cpu']:.1f}"
        user = "—" if name == "direct" else f"{med['user']:.1f}"
        system = "—" if name == "direct" else f"{med['sys']:.1f}"
        opens = "—" if name == "direct" else str(sum(r["upstream_opens"] for r in rs))
        lines.append(f"| {name} | {med['rps'] / 1000:.1f}k | {ratio} | {cpu} | {user} | {system} | {opens} | "
                     f"{split[name]} |")
    lines += ["", "Per round (rps / CPU µs per request / upstream connections opened):", ""]
    for name, rs in rounds.items():
        cells = ", ".join(f"{r['rps'] / 1000:.1f}k/{r['cpu']:.1f}/{r['upstream_opens']}"
                          + (f" [{r['errors']}]" if r["errors"] else "")
                          for r in rs)
        lines.append(f"- {name}: {cells}")
    requests = {name: sum(r["requests"] for r in rs) for name, rs in rounds.items()}
    lines += ["", "Requests measured per proxy (all rounds): "
              + ", ".join(f"{n} {c}" for n, c in requests.items()) + ".", ""]
    return "\n".join(lines)


# h2c front end ------------------------------------------------------------------------------------------------------

def h2_split_check(port: int, n: int = 100) -> str:
    """n streams on one h2c connection (nghttp, prior knowledge); the share of "v1" and "v2" bodies. The bodies are
    written back to back, so they are counted, not split."""
    out = subprocess.run(["nghttp", *[f"http://127.0.0.1:{port}/?i={i}" for i in range(n)]], capture_output=True,
                         text=True, timeout=60)
    if out.returncode != 0:
        return f"failed ({out.stderr.strip()[-200:] or out.returncode})"
    return f"{out.stdout.count('v1')}/{out.stdout.count('v2')}"


def h2load_run(port: int, seconds: int, connections: int, streams: int) -> dict:
    """h2load -cC -mM -Ds (prior knowledge) on the load CPU; requests = those that succeeded."""
    out = subprocess.run(["taskset", "-c", LOAD_CPU, "h2load", f"-c{connections}", f"-m{streams}", f"-D{seconds}",
                          f"http://127.0.0.1:{port}/"], capture_output=True, text=True, timeout=seconds + 60)
    text = out.stdout + out.stderr
    rps = re.search(r"finished in [\d.]+\w+, ([\d.]+) req/s", text)
    m = re.search(r"requests: (\d+) total, \d+ started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, "
                  r"(\d+) timeout", text)
    codes = re.search(r"status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx", text)
    if not rps or not m or int(m.group(3)) == 0:
        raise RuntimeError(f"h2load failed (exit {out.returncode}): {text[-1500:]}")
    errors = []
    if int(m.group(4)) or int(m.group(5)) or int(m.group(6)):
        errors.append(f"failed {m.group(4)}, errored {m.group(5)}, timeout {m.group(6)}")
    if codes and (int(codes.group(4)) or int(codes.group(3))):
        errors.append(f"4xx {codes.group(3)}, 5xx {codes.group(4)}")
    return {"requests": int(m.group(3)), "rps": float(rps.group(1)), "errors": "; ".join(errors)}


def h2load_version() -> str:
    try:
        return subprocess.run(["h2load", "--version"], capture_output=True, text=True).stdout.strip() or "h2load ?"
    except OSError:
        return "h2load missing"


def h2_measure(svc_pids, port: int, args) -> dict:
    """h2c: h2load."""
    return measure_load(svc_pids, lambda warmup: h2load_run(port, args.warmup if warmup else args.duration,
                                                            args.h2_connections, args.h2_streams), args.h2_connections)


def h2_throughput(args, binary: Path, workdir: Path) -> str:
    direct_port = free_port()
    upstreams, u1, u2 = start_upstreams(workdir, h2_port=direct_port)
    services: dict[str, Service] = {}
    notes: dict[str, str] = {}
    split: dict[str, str] = {}
    rounds: dict[str, list[dict]] = defaultdict(list)
    try:
        for name in args.proxies:
            if name == "direct":
                continue
            if name == "kanaria" and not binary.is_file():
                notes[name] = f"missing ({binary} not built)"
                continue
            try:
                services[name] = start_proxy(name, workdir, binary, u1, u2, h2=True)
            except Exception as e:  # noqa: BLE001 - reported in the table
                notes[name] = f"failed to start: {e}"
        ports = {"direct": direct_port, **{n: s.port for n, s in services.items()}}
        for name, port in list(ports.items()):
            split[name] = h2_split_check(port) if name != "direct" else "v1 only"
            if split[name].startswith("failed"):
                notes[name] = f"failed: h2c split check {split[name]}"
                del ports[name]
        for r in range(args.rounds):
            for name in args.proxies:
                if name not in ports:
                    continue
                pids = services[name].pids if name in services else (lambda: [])
                try:
                    result = h2_measure(pids, ports[name], args)
                except RuntimeError as e:
                    notes[name] = f"failed: {str(e)[:200]}"
                    del ports[name]
                    continue
                rounds[name].append(result)
                log(f"h2 round {r + 1}/{args.rounds} {name:8} {result['rps']:>10.0f} rps  "
                    f"{result['cpu']:6.1f} us/req  upstream opens {result['upstream_opens']}"
                    + (f"  [{result['errors']}]" if result["errors"] else ""))
    finally:
        for svc in services.values():
            svc.stop()
        upstreams.stop()

    direct = statistics.median(r["rps"] for r in rounds["direct"]) if rounds.get("direct") else None
    when = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    lines = [f"## h2c front end, HTTP/1.1 upstreams, 80/20 split: {when}", "",
             f"h2load -c{args.h2_connections} -m{args.h2_streams} -D{args.duration} (prior knowledge; "
             f"+{args.warmup}s warm-up) on CPU {LOAD_CPU} with the nginx upstreams; each proxy on CPU {PROXY_CPU} with "
             f"one worker; {args.rounds} interleaved rounds, medians. direct = h2load to an h2c port of the upstream "
             f"nginx. {versions()}; {h2load_version()}. kanaria: `{binary}`.", "",
             "| proxy | rps | rps ÷ direct | CPU µs/req | user µs/req | sys µs/req | upstream conns opened "
             "(all rounds) | split of 100 streams on one connection |",
             "|---|---|---|---|---|---|---|---|"]
    for name in args.proxies:
        rs = rounds.get(name)
        if not rs or name in notes:
            lines.append(f"| {name} | {notes.get(name, 'not run')} | | | | | | {split.get(name, '')} |")
            continue
        med = {k: statistics.median(r[k] for r in rs) for k in ("rps", "cpu", "user", "sys")}
        ratio = f"{med['rps'] / direct:.2f}" if direct else "—"
        if name == "direct":
            cpu = user = system = opens = "—"
        else:
            cpu, user, system = (f"{med[k]:.1f}" for k in ("cpu", "user", "sys"))
            opens = str(sum(r["upstream_opens"] for r in rs))
        lines.append(f"| {name} | {med['rps'] / 1000:.1f}k | {ratio} | {cpu} | {user} | {system} | {opens} | "
                     f"{split[name]} |")
    lines += ["", "Per round (rps / CPU µs per request / upstream connections opened):", ""]
    for name, rs in rounds.items():
        cells = ", ".join(f"{r['rps'] / 1000:.1f}k/{r['cpu']:.1f}/{r['upstream_opens']}"
                          + (f" [{r['errors']}]" if r["errors"] else "") for r in rs)
        lines.append(f"- {name}: {cells}")
    requests = {name: sum(r["requests"] for r in rs) for name, rs in rounds.items()}
    lines += ["", "Requests measured per proxy (all rounds, succeeded only): "
              + ", ".join(f"{n} {c}" for n, c in requests.items()) + ".", ""]
    return "\n".join(lines)


# callgrind ----------------------------------------------------------------------------------------------------------

def parse_callgrind(path: Path) -> tuple[int, dict[str, int], dict[str, int]]:
    """(total Ir, calls per callee name, self Ir per function name) from a callgrind out file (Ir only)."""
    names: dict[str, str] = {}
    calls: dict[str, int] = defaultdict(int)
    self_ir: dict[str, int] = defaultdict(int)
    total = 0
    fn = cfn = None
    pending_call = False

    def name_of(spec: str) -> str:
        m = re.match(r"\((\d+)\)(?: (.*))?", spec)
        if not m:
            return spec
        if m.group(2) is not None:
            names[m.group(1)] = m.group(2)
        return names.get(m.group(1), spec)

    with open(path, errors="replace") as f:
        for line in f:
            c = line[:1]
            if c.isdigit() or c in "+-*":
                if pending_call:
                    pending_call = False
                    continue
                parts = line.split()
                if len(parts) >= 2 and fn is not None:
                    self_ir[fn] += int(parts[1])
            elif line.startswith("fn="):
                fn = re.sub(r"'\d+$", "", name_of(line[3:].strip()))
            elif line.startswith("cfn="):
                cfn = re.sub(r"'\d+$", "", name_of(line[4:].strip()))
            elif line.startswith("calls="):
                calls[cfn] += int(line[6:].split()[0])
                pending_call = True
            elif line.startswith(("totals:", "summary:")):
                total = int(line.split()[1])
    return total, calls, self_ir


def keepalive_requests(port: int, n: int) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    for _ in range(n):
        conn.request("GET", "/")
        resp = conn.getresponse()
        resp.read()
        if resp.status != 200:
            raise RuntimeError(f"status {resp.status}")
    conn.close()


def callgrind_run(target: str, binary: Path, workdir: Path, u1: int, u2: int, n: int) -> Path:
    out = workdir / f"callgrind.{target}.{n}.out"
    wrapper = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}"]
    svc = start_proxy(target, workdir, binary, u1, u2, wrapper=wrapper, ready_timeout=300)
    try:
        keepalive_requests(svc.port, n)
    finally:
        rc = svc.stop(signal.SIGTERM, timeout=300)
    if not out.exists():
        raise RuntimeError(f"no callgrind output (exit {rc}): {svc.log_path.read_text(errors='replace')[-2000:]}")
    return out


def profilable_copy(binary: Path, workdir: Path) -> Path:
    """A copy of the binary without DWARF: valgrind 3.19 cannot read the DWARF 5 that Swift 6's clang writes ("unhandled
    dwarf2 abbrev form"); the symbol table stays, so functions keep their names and the code is the same."""
    copy = workdir / binary.name
    shutil.copy2(binary, copy)
    subprocess.run(["strip", "--strip-debug", str(copy)], check=True)
    return copy


def demangle(names: list[str]) -> list[str]:
    """Swift symbol names made readable with `swift demangle` when it is there; unchanged otherwise."""
    swift = shutil.which("swift") or "/opt/swift/usr/bin/swift"
    try:
        out = subprocess.run([swift, "demangle", "--simplified", "--compact"], input="\n".join(names) + "\n",
                             capture_output=True, text=True, timeout=60)
        lines = out.stdout.splitlines()
        return lines if out.returncode == 0 and len(lines) == len(names) else names
    except OSError:
        return names


def callgrind(args, binary: Path, workdir: Path) -> str:
    if args.target == "kanaria":
        if not binary.is_file():
            return f"## callgrind: kanaria missing ({binary} not built)\n"
        binary = profilable_copy(binary, workdir)
    upstreams, u1, u2 = start_upstreams(workdir)
    try:
        log(f"callgrind: {args.target}, {args.n1} requests …")
        p1 = callgrind_run(args.target, binary, workdir, u1, u2, args.n1)
        log(f"callgrind: {args.target}, {args.n2} requests …")
        p2 = callgrind_run(args.target, binary, workdir, u1, u2, args.n2)
    finally:
        upstreams.stop()
    t1, c1, s1 = parse_callgrind(p1)
    t2, c2, s2 = parse_callgrind(p2)
    dn = args.n2 - args.n1
    when = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    lines = [f"## callgrind: {args.target}, {when}", "", *([f"Binary: `{args.kanaria}`.", ""] if args.target == "kanaria" else []),
             f"Two runs under `valgrind --tool=callgrind`, one keep-alive client connection, {args.n1} and "
             f"{args.n2} requests; per request = (run2 − run1) / {dn}. Totals: {t1:,} and {t2:,} Ir.", "",
             "| per request | count |", "|---|---|", f"| instructions (Ir) | {(t2 - t1) / dn:,.0f} |",
             *(f"| calls of `{c}` | {(c2.get(c, 0) - c1.get(c, 0)) / dn:.2f} |" for c in COUNTED_CALLS), "",
             "Functions by self instructions per request:", "", "| Ir/req | function |", "|---|---|"]
    per_fn = sorted(((s2.get(f, 0) - s1.get(f, 0)) / dn, f) for f in set(s1) | set(s2))[::-1][:args.top]
    for (cost, _), name in zip(per_fn, demangle([f for _, f in per_fn])):
        lines.append(f"| {cost:,.0f} | `{name[:120]}` |")
    annotate = subprocess.run(["callgrind_annotate", str(p2)], capture_output=True, text=True)
    keep = RESULTS / f"callgrind-{args.target}.annotate.txt"
    RESULTS.mkdir(exist_ok=True)
    keep.write_text(annotate.stdout)
    lines += ["", f"`callgrind_annotate` of the {args.n2}-request run: `{keep.relative_to(REPO)}`.", ""]
    return "\n".join(lines)


# syscalls -----------------------------------------------------------------------------------------------------------

def syscalls(args, binary: Path, workdir: Path) -> str:
    upstreams, u1, u2 = start_upstreams(workdir)
    rows = []
    have_tracepoints = Path("/sys/kernel/tracing/events/syscalls").is_dir() or \
        Path("/sys/kernel/debug/tracing/events/syscalls").is_dir()
    names = SYSCALLS if have_tracepoints else ()
    try:
        for name in args.proxies:
            if name == "direct":
                continue
            if name == "kanaria" and not binary.is_file():
                rows.append(f"| {name} | missing | |")
                continue
            svc = start_proxy(name, workdir, binary, u1, u2)
            try:
                wrk(svc.port, args.warmup, args.connections, args.threads)
                events = ["raw_syscalls:sys_enter"] + [f"syscalls:sys_enter_{s}" for s in names]
                out_file = workdir / f"perf-{name}.csv"
                perf = subprocess.Popen(["perf", "stat", "-x", ",", "-o", str(out_file), "-e", ",".join(events),
                                         "-p", ",".join(map(str, svc.pids()))], stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)
                time.sleep(0.5)
                run = wrk(svc.port, args.duration, args.connections, args.threads)
                perf.send_signal(signal.SIGINT)
                perf.wait(30)
                counts = {}
                for line in out_file.read_text().splitlines():
                    parts = line.split(",")
                    if len(parts) > 2 and parts[0].strip().isdigit():
                        counts[parts[2].split(":")[-1].replace("sys_enter_", "")] = int(parts[0])
                n = run["requests"]
                total = counts.get("sys_enter", 0) / n
                detail = ", ".join(f"{s} {counts[s] / n:.2f}" for s in names if counts.get(s, 0) / n >= 0.01)
                rows.append(f"| {name} | {total:.2f} | {detail} |")
                log(f"syscalls {name}: {total:.2f}/req")
            finally:
                svc.stop()
    finally:
        upstreams.stop()
    when = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    return "\n".join([f"## syscalls per request: {when}", "",
                      f"`perf stat -e raw_syscalls:sys_enter -p PIDS` during wrk -t{args.threads} "
                      f"-c{args.connections} -d{args.duration}s (after a {args.warmup}s warm-up), one worker. "
                      f"kanaria: `{binary}`.", "",
                      "| proxy | syscalls/req | main syscalls/req |", "|---|---|---|", *rows, ""])


# main ---------------------------------------------------------------------------------------------------------------

def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--duration", type=int, default=10, help="seconds per measured wrk run")
    p.add_argument("--warmup", type=int, default=2, help="seconds of wrk before each measured run")
    p.add_argument("--connections", type=int, default=50)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--proxies", default=",".join(PROXIES), help="comma-separated subset of " + ",".join(PROXIES))
    p.add_argument("--kanaria", default=str(REPO / ".build" / "release" / "kanaria"), help="binary to measure")
    p.add_argument("--callgrind", action="store_true", help="instructions and allocations per request")
    p.add_argument("--target", default="kanaria", choices=("kanaria", "nginx", "haproxy"),
                   help="proxy profiled by --callgrind")
    p.add_argument("--n1", type=int, default=2000)
    p.add_argument("--n2", type=int, default=12000)
    p.add_argument("--top", type=int, default=25, help="functions listed by --callgrind")
    p.add_argument("--syscalls", action="store_true", help="syscalls per request (perf)")
    p.add_argument("--h2", action="store_true", help="h2c front end (h2load), HTTP/1.1 upstreams")
    p.add_argument("--h2-connections", type=int, default=20, help="h2load connections (--h2)")
    p.add_argument("--h2-streams", type=int, default=10, help="h2load concurrent streams per connection (--h2)")
    args = p.parse_args()
    args.proxies = [x for x in args.proxies.split(",") if x]
    unknown = set(args.proxies) - set(PROXIES)
    if unknown:
        p.error(f"unknown proxies {sorted(unknown)}")
    if os.cpu_count() < 2:
        log("warning: fewer than 2 CPUs; pinning load and proxy apart is impossible")

    binary = Path(args.kanaria)
    workdir = Path(tempfile.mkdtemp(prefix="kanaria-bench-"))
    RESULTS.mkdir(exist_ok=True)
    try:
        if args.callgrind:
            report, out = callgrind(args, binary, workdir), RESULTS / f"callgrind-{args.target}.md"
        elif args.syscalls:
            report, out = syscalls(args, binary, workdir), RESULTS / "syscalls.md"
        elif args.h2:
            report, out = h2_throughput(args, binary, workdir), RESULTS / "h2.md"
        else:
            report, out = throughput(args, binary, workdir), RESULTS / "latest.md"
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(report)
    out.write_text(report + "\n")
    log(f"written to {out.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
