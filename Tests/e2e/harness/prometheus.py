"""A real Prometheus server (Debian's `prometheus` package) scraping a kanaria admin port, and its HTTP query API.

    with PrometheusServer(tmp_path, admin_port, interval="1s") as prom:
        prom.wait_for('sum(istio_requests_total)', lambda v: v == 500)
        prom.vector('sum by (destination_version) (istio_requests_total)')   # {("v1",): 400.0, …}

`require_tool` fails the test (never skips) when the binary is missing, naming the Debian package that has it.
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import time
import urllib.parse
import urllib.request
from pathlib import Path

from harness.proxy import OutputReader, free_port


def require_tool(name: str, package: str) -> str:
    import pytest

    path = shutil.which(name)
    if not path:
        pytest.fail(f"`{name}` is not installed: install the Debian package `{package}` "
                    f"(apt-get install {package}; .ci/run does)", pytrace=False)
    return path


class PrometheusServer:
    """`prometheus` on 127.0.0.1:<free port>, scraping `/stats/prometheus` of 127.0.0.1:`target_port` every
    `interval`, with its TSDB in `workdir`."""

    def __init__(self, workdir: Path, target_port: int, interval: str = "1s", binary: str | None = None):
        binary = binary or require_tool("prometheus", "prometheus")
        workdir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        config = workdir / "prometheus.yml"
        config.write_text(f"""global:
  scrape_interval: {interval}
  scrape_timeout: {interval}
  evaluation_interval: {interval}
scrape_configs:
- job_name: kanaria
  metrics_path: /stats/prometheus
  static_configs:
  - targets: ["127.0.0.1:{target_port}"]
""")
        self.argv = [binary, f"--config.file={config}", f"--storage.tsdb.path={workdir / 'data'}",
                     f"--web.listen-address=127.0.0.1:{self.port}", "--log.level=warn"]
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        self.output = OutputReader(self.proc)
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/-/ready", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise AssertionError(f"prometheus did not become ready: {' '.join(self.argv)}\n{self.output.text()}")
            time.sleep(0.1)

    def __enter__(self) -> "PrometheusServer":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.output.join()

    # the HTTP API --------------------------------------------------------------------------------------------------

    def api(self, path: str, **params) -> dict:
        url = f"http://127.0.0.1:{self.port}{path}?{urllib.parse.urlencode(params)}"
        with urllib.request.urlopen(url, timeout=10) as r:
            body = json.loads(r.read())
        assert body.get("status") == "success", f"{path} {params}: {body}"
        return body["data"]

    def query(self, promql: str, at: float | None = None) -> list[dict]:
        """An instant query's result vector: [{"metric": {…}, "value": [t, "v"]}, …]."""
        params = {"query": promql}
        if at is not None:
            params["time"] = f"{at:.3f}"
        data = self.api("/api/v1/query", **params)
        assert data["resultType"] == "vector", data
        return data["result"]

    def vector(self, promql: str, at: float | None = None) -> dict[tuple, float]:
        """The result as {(label values in sorted label-name order): value}."""
        return {tuple(v for _, v in sorted(r["metric"].items())): float(r["value"][1])
                for r in self.query(promql, at)}

    def scalar(self, promql: str, at: float | None = None) -> float | None:
        """The single value of a one-element result; None when the result is empty."""
        result = self.query(promql, at)
        assert len(result) <= 1, f"{promql}: expected one series, got {result}"
        return float(result[0]["value"][1]) if result else None

    def wait_for(self, promql: str, predicate, timeout: float = 20) -> float | None:
        """Polls `promql` (one value) until predicate(value) holds; fails with the last value after `timeout`."""
        deadline = time.monotonic() + timeout
        value = None
        while time.monotonic() < deadline:
            value = self.scalar(promql)
            if value is not None and not math.isnan(value) and predicate(value):
                return value
            time.sleep(0.2)
        targets = self.api("/api/v1/targets")
        raise AssertionError(f"{promql} was {value} after {timeout}s; scrape targets: {targets}\n"
                             f"prometheus output:\n{self.output.text()}")
