"""`kanaria demo` prints the live dashboard's URL first, before the proxy's, and that dashboard watches the demo's
own traffic: after 10 requests through the proxy, /api/split and /stats/prometheus count 8 to nodejs-v1 and 2 to
nodejs-v2."""

from __future__ import annotations

import json
import re
import signal
import subprocess

from harness.admin import Admin, by
from harness.client import request
from harness.proxy import OutputReader, free_port
from test_demo import stop

DASHBOARD = re.compile(r"http://127\.0\.0\.1:(\d+)/dashboard")


def test_demo_prints_the_dashboard_first_and_it_counts_the_demo(kanaria_bin):
    port = free_port()
    proc = subprocess.Popen([str(kanaria_bin), "demo", "--port", str(port), "--admin", "127.0.0.1:0"],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    output = OutputReader(proc)
    proxy_url = f"http://127.0.0.1:{port}/"
    try:
        ready = output.wait_for(lambda lines: any(proxy_url in l for l in lines), 30, proc)
        assert ready, f"`kanaria demo` printed no line with {proxy_url}; output:\n{output.text()}"
        lines = list(output.stdout)
        url_lines = [i for i, l in enumerate(lines) if "http://" in l]
        assert url_lines, lines
        first = lines[url_lines[0]]
        found = DASHBOARD.search(first)
        assert found, f"the first URL printed is not the dashboard's: {first!r}\n" + "\n".join(lines)
        assert proxy_url not in first
        assert any(proxy_url in l for l in lines[url_lines[0] + 1:]), lines
        admin_port = int(found[1])
        assert admin_port != 0

        page = request(admin_port, "/dashboard")
        assert page.status == 200 and b"live canary split" in page.body
        versions = [request(port, "/").header("x-version") for _ in range(10)]
        assert (versions.count("v1"), versions.count("v2")) == (8, 2), versions
        split = json.loads(request(admin_port, "/api/split").body)
        assert {v["version"]: v["requests"] for v in split["versions"]} == {"v1": 8, "v2": 2}, split
        requests = Admin(admin_port).metric("istio_requests_total")
        assert by(requests, "destination_workload") == {"nodejs-v1": 8, "nodejs-v2": 2}
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    stop(proc, signal.SIGINT, (0, 130, -signal.SIGINT), output)


def test_demo_without_admin_prints_no_dashboard(kanaria_bin):
    port = free_port()
    proc = subprocess.Popen([str(kanaria_bin), "demo", "--port", str(port), "--admin", "off"],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    output = OutputReader(proc)
    proxy_url = f"http://127.0.0.1:{port}/"
    try:
        assert output.wait_for(lambda lines: any(proxy_url in l for l in lines), 30, proc), output.text()
        assert not any("/dashboard" in l for l in output.lines), output.text()
        assert request(port, "/").status == 200
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    stop(proc, signal.SIGINT, (0, 130, -signal.SIGINT), output)
