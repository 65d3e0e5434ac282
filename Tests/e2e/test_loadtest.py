"""`kanaria loadtest` against real proxies: Kanaria with the tutorial's configuration, nginx with weights 4:1, and
Kanaria's random split. The generator must see the split each proxy really makes, tell an exact split from one that is
only right on average, fail its gates by name, count errors by kind, and hold an open-loop rate."""

from __future__ import annotations

import base64
import os
import pty
import select
import shutil
import struct
import subprocess
import time
import zlib

import pytest

from harness.loadtest import loadtest
from harness.proxy import REPO, Nginx, OutputReader, free_port, tutorial_istio, write_config
from harness.upstream import closed_port

SEVENTY_THIRTY = """  - route:
    - destination:
        host: nodejs
        subset: v1
      weight: 70
    - destination:
        host: nodejs
        subset: v2
      weight: 30
"""
JSON_KEYS = {"requests", "errors", "errors_by_kind", "duration_s", "rate", "versions", "windows", "p_value", "gate"}
VERSION_KEYS = {"count", "share", "expected", "deviation_pp", "ci99", "latency_ms", "status"}


def assert_exact_80_20(run, requests: int = 1000) -> dict:
    assert run.returncode == 0, f"status {run.returncode}\n{run.stdout}\n{run.stderr}"
    report = run.report
    assert run.counts() == {"v1": requests * 4 // 5, "v2": requests // 5}, report["versions"]
    assert report["windows"]["size"] == 5
    assert report["windows"]["max_deviation"] == 0, report["windows"]
    assert report["windows"]["checked"] > 0
    assert report["errors"] == 0 and report["gate"]["passed"]
    return report


def test_http1_one_connection_splits_exactly_800_200(mesh, start_proxy, kanaria_bin):
    config, v1, v2 = mesh
    proxy = start_proxy(config)
    run = loadtest(kanaria_bin, proxy.url("/sharks"), "--requests", "1000", "--expect", "v1=80,v2=20",
                   "--max-deviation", "0", "--json")
    report = assert_exact_80_20(run)
    assert report["p_value"] == 1
    # the upstreams agree with what the generator saw
    assert (len(v1.seen()), len(v2.seen())) == (800, 200)
    assert {r.target for r in v1.seen()} == {"/sharks"}


def test_h2c_ten_streams_split_exactly_per_stream(mesh, start_proxy, kanaria_bin):
    config, v1, v2 = mesh
    proxy = start_proxy(config)
    run = loadtest(kanaria_bin, proxy.url("/"), "--http2", "--streams", "10", "--requests", "1000",
                   "--expect", "v1=80,v2=20", "--json")
    assert_exact_80_20(run)
    assert (len(v1.seen()), len(v2.seen())) == (800, 200)


def test_nginx_with_weights_4_1_splits_800_200(mesh, tmp_path, upstreams, kanaria_bin):
    assert shutil.which("nginx"), "nginx is not installed (.ci/run installs nginx-light)"
    config, v1, v2 = mesh
    nginx = Nginx(config, tmp_path / "nginx", workers=1)
    try:
        run = loadtest(kanaria_bin, nginx.url("/"), "--requests", "1000", "--expect", "v1=80,v2=20", "--json")
        assert_exact_80_20(run)
    finally:
        nginx.stop()
    assert (len(v1.seen()), len(v2.seen())) == (800, 200)


def test_random_split_is_right_on_average_but_not_per_window(mesh, start_proxy, kanaria_bin):
    config, _, _ = mesh
    proxy = start_proxy(config, workers=1, split="random")
    run = loadtest(kanaria_bin, proxy.url("/"), "--requests", "2000", "--expect", "v1=80,v2=20")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "not exact per window" in run.stdout, run.stdout
    json_run = loadtest(kanaria_bin, proxy.url("/"), "--requests", "2000", "--expect", "v1=80,v2=20", "--json")
    report = json_run.report
    assert report["windows"]["max_deviation"] > 0, report["windows"]
    # Envoy-style draws are right on average: a chi-square p-value below 0.001 would happen 1 time in 1000.
    assert report["p_value"] > 0.001, report
    for name, expected in (("v1", 0.8), ("v2", 0.2)):
        lo, hi = report["versions"][name]["ci99"]
        assert lo < report["versions"][name]["share"] < hi
        assert abs(report["versions"][name]["share"] - expected) < 0.05


def test_70_30_configuration_fails_an_80_20_gate_naming_v1(tmp_path, upstreams, start_proxy, kanaria_bin, kanaria_only):
    v1, v2 = upstreams("v1"), upstreams("v2")
    config = write_config(tmp_path / "config", {"v1": [v1.port], "v2": [v2.port]},
                          tutorial_istio(SEVENTY_THIRTY, {"v1": "v1", "v2": "v2"}))
    proxy = start_proxy(config)
    run = loadtest(kanaria_bin, proxy.url("/"), "--requests", "1000", "--expect", "v1=80,v2=20", "--max-deviation", "1")
    assert run.returncode == 1, run.stdout + run.stderr
    assert "gate: FAILED" in run.stdout
    assert "v1: observed 70.0%, expected 80.0%, deviation -10.00 pp exceeds --max-deviation 1 pp" in run.stdout, run.stdout
    # the same configuration passes the split it has, exactly per window of 10
    run = loadtest(kanaria_bin, proxy.url("/"), "--requests", "1000", "--expect", "v1=70,v2=30", "--max-deviation", "0", "--json")
    assert run.returncode == 0 and run.counts() == {"v1": 700, "v2": 300}
    assert run.report["windows"] == {"size": 10, "max_deviation": 0, "checked": 991}


def test_upstream_killed_mid_run_ends_with_errors_by_kind(upstreams, kanaria_bin):
    upstream = upstreams("v1")
    proc = subprocess.Popen([str(kanaria_bin), "loadtest", f"http://127.0.0.1:{upstream.port}/", "--connections", "2",
                             "--duration", "3", "--json"], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 10
        while len(upstream.seen()) < 50 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.02)
        assert len(upstream.seen()) >= 50, "the generator sent no load"
        upstream.stop()
        out, err = proc.communicate(timeout=20)
    finally:
        proc.kill()
    assert proc.returncode == 0, err  # no gate was asked for
    import json
    report = json.loads(out)
    kinds = report["errors_by_kind"]
    assert kinds["reset"] + kinds["connect"] > 0, kinds
    assert kinds["connect"] > 0, f"reconnecting to the dead upstream must fail with connect errors: {kinds}"
    assert report["versions"]["v1"]["count"] >= 50
    assert report["requests"] == report["versions"]["v1"]["count"] + sum(kinds[k] for k in ("connect", "reset", "timeout", "protocol"))
    assert report["errors"] == report["requests"] - report["versions"]["v1"]["count"]


def test_upstream_killed_behind_kanaria_counts_503_answers(mesh, start_proxy, kanaria_bin):
    config, v1, v2 = mesh
    proxy = start_proxy(config, workers=1)
    v2.stop()
    run = loadtest(kanaria_bin, proxy.url("/"), "--requests", "500", "--expect", "v1=80,v2=20", "--max-error-rate", "5", "--json")
    assert run.returncode == 1, run.stdout + run.stderr
    report = run.report
    assert report["versions"]["v1"]["count"] == 400
    assert report["versions"]["other"]["status"] == {"503": 100}
    assert report["errors"] == 100 and report["errors_by_kind"]["http"] == 100
    assert report["gate"]["failures"] == ["error rate 20.00% (100 of 500) exceeds --max-error-rate 5%"]


def test_open_loop_holds_the_rate(mesh, start_proxy, kanaria_bin):
    config, _, _ = mesh
    proxy = start_proxy(config)
    run = loadtest(kanaria_bin, proxy.url("/"), "--rate", "1000", "--duration", "3", "--connections", "4",
                   "--expect", "v1=80,v2=20", "--json")
    assert run.returncode == 0, run.stderr
    report = run.report
    assert report["requests"] == 3000, report
    assert report["rate"]["target"] == 1000
    assert abs(report["rate"]["achieved"] - 1000) <= 10, report["rate"]
    assert sum(run.counts().values()) == 3000 and report["errors"] == 0


def test_json_has_every_field(mesh, start_proxy, kanaria_bin):
    config, _, _ = mesh
    proxy = start_proxy(config)
    report = loadtest(kanaria_bin, proxy.url("/"), "--requests", "100", "--expect", "v1=80,v2=20", "--json").report
    assert set(report) == JSON_KEYS
    assert set(report["rate"]) == {"target", "achieved"} and report["rate"]["target"] is None
    assert set(report["versions"]) == {"v1", "v2"}
    for line in report["versions"].values():
        assert set(line) == VERSION_KEYS
        assert {"p50", "p90", "p99", "max"} <= set(line["latency_ms"])
        assert 0 < line["latency_ms"]["p50"] <= line["latency_ms"]["max"]
        lo, hi = line["ci99"]
        assert 0 <= lo < line["share"] < hi <= 1
    assert report["versions"]["v1"]["status"] == {"200": 80}
    assert set(report["windows"]) == {"size", "max_deviation", "checked"}
    assert report["gate"] == {"passed": True, "failures": []}


def test_version_from_a_body_regex(mesh, start_proxy, kanaria_bin):
    config, _, _ = mesh
    proxy = start_proxy(config)
    # the harness upstreams answer "<version>\n"
    run = loadtest(kanaria_bin, proxy.url("/"), "--requests", "200", "--version-body", r"^(v[0-9]+)\n",
                   "--expect", "v1=80,v2=20", "--json")
    assert_exact_80_20(run, requests=200)


def test_fresh_connections_split_exactly_with_one_worker(mesh, start_proxy, kanaria_bin):
    config, _, _ = mesh
    proxy = start_proxy(config, workers=1)
    run = loadtest(kanaria_bin, proxy.url("/"), "--fresh", "--requests", "200", "--expect", "v1=80,v2=20", "--json")
    assert_exact_80_20(run, requests=200)


def test_unreachable_url_is_a_one_line_error(kanaria_bin):
    port = closed_port()
    started = time.monotonic()
    run = loadtest(kanaria_bin, f"http://127.0.0.1:{port}/", "--requests", "10", timeout=30)
    assert run.returncode == 1
    assert time.monotonic() - started < 10
    assert run.stderr.strip().splitlines() == [f"kanaria loadtest: cannot connect to 127.0.0.1:{port}: Connection refused (errno 111)"]
    assert run.stdout == ""


@pytest.mark.parametrize("args,message", [
    (("--expect", "v1:80"), "--expect v1:80: expected VERSION=WEIGHT"),
    (("--max-deviation", "1"), "--max-deviation needs an expected split"),
    (("--requests", "5", "--duration", "1"), "give --duration or --requests, not both"),
    (("--no-such-flag",), "Unknown option '--no-such-flag'"),
])
def test_usage_errors_exit_2(kanaria_bin, args, message):
    run = loadtest(kanaria_bin, "http://127.0.0.1:9/", *args, timeout=30)
    assert run.returncode == 2, (run.returncode, run.stderr)
    assert message in run.stderr


def test_progress_line_only_on_a_terminal(mesh, start_proxy, kanaria_bin):
    config, _, _ = mesh
    proxy = start_proxy(config)
    quiet = loadtest(kanaria_bin, proxy.url("/"), "--duration", "1.5", "--expect", "v1=80,v2=20")
    assert quiet.returncode == 0 and quiet.stderr == "", quiet.stderr
    master, slave = pty.openpty()
    proc = subprocess.Popen([str(kanaria_bin), "loadtest", proxy.url("/"), "--duration", "2.5", "--expect", "v1=80,v2=20"],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=slave)
    os.close(slave)
    seen = b""
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.5)
            if ready:
                try:
                    chunk = os.read(master, 4096)
                except OSError:
                    break
                if not chunk:
                    break
                seen += chunk
            elif proc.poll() is not None:
                break
        proc.wait(20)
    finally:
        proc.kill()
        os.close(master)
    text = seen.decode()
    assert "requests" in text and "v1 " in text and "v2 " in text and "/s" in text, repr(text)


CANARY_ROUTES = """  - match:
    - headers:
        x-canary:
          exact: "yes"
    route:
    - destination:
        host: nodejs
        subset: v2
""" + SEVENTY_THIRTY


def test_expected_split_from_the_configuration(tmp_path, upstreams, start_proxy, kanaria_bin, kanaria_only):
    """--expect-from takes the weights of the route the request matches, with the subsets' version labels."""
    v1, v2 = upstreams("v1"), upstreams("v2")
    config = write_config(tmp_path / "config", {"v1": [v1.port], "v2": [v2.port]},
                          tutorial_istio(CANARY_ROUTES, {"v1": "v1", "v2": "v2"}))
    proxy = start_proxy(config)
    run = loadtest(kanaria_bin, proxy.url("/"), "--requests", "500", "--expect-from", str(config.dir), "--max-deviation", "0")
    assert run.returncode == 0, run.stdout + run.stderr
    assert 'expected split from route 1 "nodejs.1" of VirtualService default/nodejs: v1=70,v2=30' in run.stdout, run.stdout
    run = loadtest(kanaria_bin, proxy.url("/"), "--requests", "100", "--header", "x-canary: yes",
                   "--expect-from", str(config.dir), "--max-deviation", "0", "--json")
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.counts() == {"v2": 100}
    assert run.report["versions"]["v2"]["expected"] == 1


def test_expect_from_a_configuration_with_errors_is_a_usage_error(tmp_path, kanaria_bin):
    (tmp_path / "bad.yaml").write_text("apiVersion: networking.istio.io/v1beta1\nkind: VirtualService\nmetadata:\n  name: x\n"
                                       "spec:\n  hosts: [x]\n  http:\n  - route:\n    - destination:\n        host: x\n      wieght: 1\n")
    run = loadtest(kanaria_bin, "http://127.0.0.1:9/", "--expect-from", str(tmp_path), timeout=30)
    assert run.returncode == 2, run.stderr
    assert 'unknown field "wieght"; did you mean "weight"?' in run.stderr, run.stderr


def decode_histogram_log(text: str) -> tuple[float, list[int]]:
    """An independent reader of HdrHistogram's interval log (one interval): its max (ms) and its counts array, from
    the V2 compressed encoding (big-endian header, zlib, ZigZag LEB128 with negative runs of zeros)."""
    lines = text.splitlines()
    assert lines[0] == "#[Histogram log format version 1.3]" and lines[1].startswith("#[StartTime: ")
    assert lines[2] == '"StartTimestamp","Interval_Length","Interval_Max","Interval_Compressed_Histogram"'
    start, length, maximum, encoded = lines[3].split(",")
    raw = base64.b64decode(encoded)
    cookie, size = struct.unpack(">II", raw[:8])
    assert cookie == 0x1c849314, hex(cookie)
    inner = zlib.decompress(raw[8:8 + size])
    cookie, payload, offset, digits, lowest, highest, ratio = struct.unpack(">IIIIqqd", inner[:40])
    assert (cookie, offset, digits, lowest, ratio) == (0x1c849313, 0, 3, 1, 1.0)
    counts, data, i = [], inner[40:40 + payload], 0
    while i < len(data):
        value, shift = 0, 0
        while True:
            byte = data[i]
            i += 1
            value |= (byte & 0x7F) << shift if shift < 56 else byte << shift
            if byte < 0x80 or shift >= 56:
                break
            shift += 7
        value = (value >> 1) ^ -(value & 1)
        counts += [0] * -value if value < 0 else [value]
    return float(maximum), counts


def test_histogram_and_chart_files(mesh, start_proxy, kanaria_bin, tmp_path):
    config, _, _ = mesh
    proxy = start_proxy(config)
    histogram, chart = tmp_path / "latency.hlog", tmp_path / "shares.svg"
    run = loadtest(kanaria_bin, proxy.url("/"), "--duration", "1.5", "--expect", "v1=80,v2=20",
                   "--histogram", str(histogram), "--chart", str(chart), "--json")
    assert run.returncode == 0, run.stderr
    maximum, counts = decode_histogram_log(histogram.read_text())
    assert sum(counts) == run.report["requests"]
    assert maximum == max(v["latency_ms"]["max"] for v in run.report["versions"].values())
    # the last non-zero count is the max's slot: values below 2048 µs have one slot each
    if maximum < 2.048:
        assert len(counts) - 1 == round(maximum * 1000)
    svg = chart.read_text()
    assert svg.startswith("<svg xmlns=\"http://www.w3.org/2000/svg\"") and svg.endswith("</svg>\n")
    assert svg.count('class="observed"') == 2 and svg.count('class="expected"') == 2
    assert "v1 (expected 80.0%)" in svg
    # nothing fetched from elsewhere: the chart is self-contained
    assert "href" not in svg and "<script" not in svg


def test_readme_measure_the_split_against_kanaria_demo(kanaria_bin):
    """The README's "Measure the split" command, run against `kanaria demo`: the lines it shows, timings aside."""
    port = free_port()
    proc = subprocess.Popen([str(kanaria_bin), "demo", "--port", str(port), "--admin", "127.0.0.1:0"],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    output = OutputReader(proc)
    try:
        url = f"http://127.0.0.1:{port}/"
        assert output.wait_for(lambda lines: any(url in line for line in lines), 30, proc), output.text()
        run = loadtest(kanaria_bin, f"{url}sharks", "--requests", "1000", "--expect-from", str(REPO / "config"),
                       "--max-deviation", "1")
    finally:
        proc.terminate()
        proc.wait(10)
    assert run.returncode == 0, run.stdout + run.stderr
    readme = (REPO / "README.md").read_text()
    section = readme[readme.index("## Measure the split"):]
    shown = section[section.index("$ kanaria loadtest"):section.index("gate: passed")].splitlines()
    assert shown[0] == "$ kanaria loadtest http://127.0.0.1:8080/sharks --requests 1000 --expect-from config/ --max-deviation 1"
    got = run.stdout.replace(f"127.0.0.1:{port}", "127.0.0.1:8080").splitlines()
    timing = ("1000 requests in", "v1 ", "v2 ")  # lines with times in them: compared up to their first timing
    for want, have in zip(shown[1:], got):
        if want.startswith(timing):
            assert have.split()[:6] == want.split()[:6] or have.startswith("1000 requests in"), (want, have)
        else:
            assert have == want
    assert got[-1] == "gate: passed"
