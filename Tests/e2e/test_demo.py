"""The demo: `kanaria shark` serves one version of the shark app; `kanaria demo` runs both versions and the proxy in
one process, and its proxy URL answers 80% v1 and 20% v2 (exactly, with its single worker) over fresh connections."""

from __future__ import annotations

import re
import signal
import subprocess

import pytest

from harness.client import request
from harness.proxy import OutputReader, free_port

SHARK = re.compile(r"shark (v[12]) listening on ([0-9.]+):(\d+)")


def stop(proc: subprocess.Popen, sig: int, allowed: tuple[int, ...], output: OutputReader) -> None:
    """Sends `sig` (Ctrl-C is SIGINT) and requires an exit within 10 s with one of the `allowed` statuses."""
    if proc.poll() is not None:
        pytest.fail(f"exited on its own with status {proc.returncode}; output:\n{output.text()}")
    proc.send_signal(sig)
    try:
        rc = proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        pytest.fail(f"did not exit within 10s of signal {sig}; output:\n{output.text()}")
    assert rc in allowed, f"exit status {rc} after signal {sig}; output:\n{output.text()}"


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_shark_app_serves_its_version(kanaria_bin, version):
    proc = subprocess.Popen([str(kanaria_bin), "shark", "--version", version, "--listen", "127.0.0.1:0"],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    output = OutputReader(proc)
    try:
        found = output.wait_for(lambda lines: next((m for l in lines if (m := SHARK.search(l))), None), 20, proc)
        assert found, f"no `shark {version} listening on ADDR:PORT` line; output:\n{output.text()}"
        assert found[1] == version
        page = request(int(found[3]), "/")
        assert page.status == 200
        assert page.header("x-version") == version
        assert page.body, "empty landing page"
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    stop(proc, signal.SIGTERM, (0, -signal.SIGTERM), output)


def test_demo_serves_80_20_over_fresh_connections(kanaria_bin):
    port = free_port()
    proc = subprocess.Popen([str(kanaria_bin), "demo", "--port", str(port), "--admin", "127.0.0.1:0"], stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    output = OutputReader(proc)
    url = f"http://127.0.0.1:{port}/"
    try:
        ready = output.wait_for(lambda lines: any(url in l for l in lines), 30, proc)
        assert ready, f"`kanaria demo --port {port}` printed no line with {url} (is stdout flushed?); " \
                      f"output:\n{output.text()}"
        pages = [request(port, "/") for _ in range(100)]
        assert all(p.status == 200 for p in pages), [p.status for p in pages]
        versions = [p.header("x-version") for p in pages]
        assert (versions.count("v1"), versions.count("v2")) == (80, 20), versions
        v1_page = next(p.body for p in pages if p.header("x-version") == "v1")
        v2_page = next(p.body for p in pages if p.header("x-version") == "v2")
        assert v1_page != v2_page, "v1 and v2 serve the same page"
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    stop(proc, signal.SIGINT, (0, 130, -signal.SIGINT), output)
