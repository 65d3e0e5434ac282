#!/usr/bin/env python3
"""Two Kanaria binaries, before and after a change, on the h2c front end, in the same interleaved rounds.

The setup is bench.py's `--h2` mode (h2load -cC -mM on CPU 0 with the nginx upstreams, each proxy on CPU 1 with one
worker, HTTP/1.1 to the upstreams, the seed manifests with the Gateway server's protocol HTTP2); what differs is that
both Kanaria binaries run side by side (each idle while the other is measured) and every round measures before,
after and the peers in turn, so that the drift of a shared machine hits them alike. Reported: medians of rps and
CPU µs per request, and the after ÷ before ratio of CPU per request, as a median of the per-round ratios and with
its spread.

`--callgrind`: counts that do not drift instead. Each binary runs under `valgrind --tool=callgrind` twice, for
`h2load -n N1` and `-n N2` on one connection with 10 streams; per request = (run₂ − run₁) ÷ (N2 − N1) for instructions
and for calls of malloc and free (bench.py's method for HTTP/1.1, here over h2c).

    python3 Benchmarks/h2_compare.py --before /path/to/main/kanaria --after .build/release/kanaria --rounds 5
    python3 Benchmarks/h2_compare.py --before /path/to/main/kanaria --callgrind
"""

from __future__ import annotations

import argparse
import datetime
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench  # noqa: E402 (the benchmark's own helpers)


def start_kanaria(name: str, binary: Path, workdir: Path, u1: int, u2: int, wrapper: list[str] | None = None
                  ) -> bench.Service:
    """One Kanaria with the h2c seed configuration, pinned to the proxy CPU (or under `wrapper`), logging to
    `name`.log; no admin port, so that two can run side by side."""
    prefix = wrapper if wrapper is not None else ["taskset", "-c", bench.PROXY_CPU]
    argv = prefix + [str(binary), "run", "-f", str(bench.kanaria_config(workdir, u1, u2, True)),
                     "--listen", "80=127.0.0.1:0", "--workers", "1", "--admin", "off"]
    return bench.Service(name, argv, None, workdir, r"gateway port \d+ listening on [0-9.]+:(\d+)", 300)


def run(args, workdir: Path) -> str:
    upstreams, u1, u2 = bench.start_upstreams(workdir)
    services: dict[str, bench.Service] = {}
    rounds: dict[str, list[dict]] = {}
    try:
        services["before"] = start_kanaria("kanaria-before", Path(args.before), workdir, u1, u2)
        services["after"] = start_kanaria("kanaria-after", Path(args.after), workdir, u1, u2)
        for peer in args.peers:
            services[peer] = bench.start_proxy(peer, workdir, Path(args.after), u1, u2, h2=True)
        split = {name: bench.h2_split_check(svc.port) for name, svc in services.items()}
        for r in range(args.rounds):
            for name, svc in services.items():
                result = bench.measure_load(svc.pids, lambda warmup, port=svc.port: bench.h2load_run(
                    port, args.warmup if warmup else args.duration, args.h2_connections, args.h2_streams),
                    args.h2_connections)
                rounds.setdefault(name, []).append(result)
                bench.log(f"round {r + 1}/{args.rounds} {name:7} {result['rps']:>9.0f} rps {result['cpu']:6.1f} us/req"
                          + (f" [{result['errors']}]" if result["errors"] else ""))
    finally:
        for svc in services.values():
            svc.stop()
        upstreams.stop()
    return report(args, rounds, split)


def report(args, rounds: dict[str, list[dict]], split: dict[str, str]) -> str:
    when = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    lines = [f"## h2c front end, Kanaria before and after: {when}", "",
             f"h2load -c{args.h2_connections} -m{args.h2_streams} -D{args.duration} (+{args.warmup}s warm-up), "
             f"{args.rounds} interleaved rounds, medians. before: `{args.before}`; after: `{args.after}`. "
             f"{bench.versions()}; {bench.h2load_version()}.", "",
             "| proxy | rps | CPU µs/req | user µs/req | sys µs/req | CPU µs/req per round | split of 100 streams |",
             "|---|---|---|---|---|---|---|"]
    for name, rs in rounds.items():
        med = {k: statistics.median(r[k] for r in rs) for k in ("rps", "cpu", "user", "sys")}
        per_round = ", ".join(f"{r['cpu']:.1f}" + (f" [{r['errors']}]" if r["errors"] else "") for r in rs)
        lines.append(f"| {name} | {med['rps'] / 1000:.1f}k | {med['cpu']:.1f} | {med['user']:.1f} | {med['sys']:.1f} | "
                     f"{per_round} | {split[name]} |")
    ratios = [a["cpu"] / b["cpu"] for a, b in zip(rounds["after"], rounds["before"])]
    lines += ["", f"CPU per request after ÷ before: median of the per-round ratios {statistics.median(ratios):.3f} "
              f"(rounds: {', '.join(f'{x:.3f}' for x in ratios)}; min {min(ratios):.3f}, max {max(ratios):.3f}).", ""]
    return "\n".join(lines)


def callgrind_counts(name: str, binary: Path, workdir: Path, u1: int, u2: int, n: int) -> tuple[int, dict]:
    """(total instructions, calls per callee) of one Kanaria run under callgrind that serves `n` h2c requests."""
    out = workdir / f"callgrind.{name}.{n}.out"
    svc = start_kanaria(f"callgrind-{name}-{n}", binary, workdir, u1, u2,
                        ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}"])
    try:
        result = subprocess.run(["h2load", f"-n{n}", "-c1", "-m10", f"http://127.0.0.1:{svc.port}/"],
                                capture_output=True, text=True, timeout=600)
        if f"{n} succeeded" not in result.stdout:
            raise RuntimeError(f"h2load: {result.stdout[-800:]}")
    finally:
        svc.stop(signal.SIGTERM, timeout=300)
    total, calls, _ = bench.parse_callgrind(out)
    return total, calls


def callgrind(args, workdir: Path) -> str:
    upstreams, u1, u2 = bench.start_upstreams(workdir)
    rows = {}
    try:
        for name, binary in (("before", Path(args.before)), ("after", Path(args.after))):
            copy = workdir / name
            copy.mkdir()
            binary = bench.profilable_copy(binary, copy)
            (t1, c1), (t2, c2) = (callgrind_counts(name, binary, workdir, u1, u2, n) for n in (args.n1, args.n2))
            dn = args.n2 - args.n1
            rows[name] = ((t2 - t1) / dn, *((c2.get(f, 0) - c1.get(f, 0)) / dn for f in ("malloc", "free")))
            bench.log(f"callgrind {name}: {rows[name][0]:,.0f} instructions per request")
    finally:
        upstreams.stop()
    when = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    lines = [f"## callgrind, h2c front end, Kanaria before and after: {when}", "",
             f"h2load -n{args.n1} and -n{args.n2}, one connection, 10 streams; per request = difference ÷ "
             f"{args.n2 - args.n1}. before: `{args.before}`; after: `{args.after}`.", "",
             "| per request | before | after | after ÷ before |", "|---|---|---|---|"]
    for i, label in enumerate(("instructions", "malloc calls", "free calls")):
        b, a = rows["before"][i], rows["after"][i]
        lines.append(f"| {label} | {b:,.1f} | {a:,.1f} | {a / b:.3f} |" if b else f"| {label} | {b:,.1f} | {a:,.1f} | — |")
    return "\n".join(lines + [""])


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--before", required=True, help="the Kanaria binary before the change")
    p.add_argument("--after", default=str(bench.REPO / ".build" / "release" / "kanaria"), help="the binary after it")
    p.add_argument("--peers", default="haproxy", help="comma-separated peers measured in the same rounds (nginx, haproxy)")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--duration", type=int, default=8, help="seconds per measured h2load run")
    p.add_argument("--warmup", type=int, default=2, help="seconds of h2load before each measured run")
    p.add_argument("--h2-connections", type=int, default=20)
    p.add_argument("--h2-streams", type=int, default=10)
    p.add_argument("--callgrind", action="store_true", help="instructions and mallocs per request instead")
    p.add_argument("--n1", type=int, default=2000)
    p.add_argument("--n2", type=int, default=12000)
    args = p.parse_args()
    args.peers = [x for x in args.peers.split(",") if x]
    workdir = Path(tempfile.mkdtemp(prefix="kanaria-h2compare-"))
    bench.RESULTS.mkdir(exist_ok=True)
    try:
        text = callgrind(args, workdir) if args.callgrind else run(args, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(text)
    (bench.RESULTS / ("h2-compare-callgrind.md" if args.callgrind else "h2-compare.md")).write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
