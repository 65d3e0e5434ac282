"""Access logs: off unless asked for; `--access-log FILE|-` writes one line per request, in Envoy's default format
(`--access-log-format envoy`), Istio's text format (`istio`) or Istio's JSON (`json`), with the request as the
client sent it, the answer, Envoy's flags, the body bytes, the x-request-id the upstream received, and the
upstream host."""

from __future__ import annotations

import datetime as dt
import json
import re
import time

import pytest

from harness.client import request
from harness.proxy import write_config
from test_metrics import ERRORS

pytestmark = pytest.mark.usefixtures("kanaria_only")

# Envoy's default format:
# [%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" %RESPONSE_CODE% %RESPONSE_FLAGS%
# %BYTES_RECEIVED% %BYTES_SENT% %DURATION% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% "%REQ(X-FORWARDED-FOR)%"
# "%REQ(USER-AGENT)%" "%REQ(X-REQUEST-ID)%" "%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%"
ENVOY = re.compile(r'^\[(?P<start>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)\] "(?P<method>\S+) (?P<path>\S+) '
                   r'(?P<protocol>\S+)" (?P<code>\d+) (?P<flags>\S+) (?P<received>\d+) (?P<sent>\d+) '
                   r'(?P<duration>\d+) (?P<upstream_time>\d+|-) "(?P<xff>[^"]*)" "(?P<ua>[^"]*)" "(?P<id>[^"]*)" '
                   r'"(?P<authority>[^"]*)" "(?P<upstream>[^"]*)"$')
# Istio's default text format: Envoy's, with three fields after the flags and six at the end.
ISTIO = re.compile(r'^\[(?P<start>[^\]]+)\] "(?P<method>\S+) (?P<path>\S+) (?P<protocol>\S+)" (?P<code>\d+) '
                   r'(?P<flags>\S+) (?P<details>\S+) (?P<termination>\S+) "(?P<transport>[^"]*)" (?P<received>\d+) '
                   r'(?P<sent>\d+) (?P<duration>\d+) (?P<upstream_time>\d+|-) "(?P<xff>[^"]*)" "(?P<ua>[^"]*)" '
                   r'"(?P<id>[^"]*)" "(?P<authority>[^"]*)" "(?P<upstream>[^"]*)" (?P<cluster>\S+) '
                   r'(?P<upstream_local>\S+) (?P<downstream_local>\S+) (?P<downstream_remote>\S+) (?P<sni>\S+) '
                   r'(?P<route>\S+)$')
# Istio's default JSON format's keys.
JSON_KEYS = {"authority", "bytes_received", "bytes_sent", "connection_termination_details",
             "downstream_local_address", "downstream_remote_address", "duration", "method", "path", "protocol",
             "request_id", "requested_server_name", "response_code", "response_code_details", "response_flags",
             "route_name", "start_time", "upstream_cluster", "upstream_host", "upstream_local_address",
             "upstream_service_time", "upstream_transport_failure_reason", "user_agent", "x_forwarded_for"}
CLUSTER_V1 = "outbound|8080|v1|nodejs.default.svc.cluster.local"
CLUSTER_EMPTY = "outbound|8080|empty|nodejs.default.svc.cluster.local"


class _GeneratedRequestID:
    """Equal to any x-request-id the proxy generated (a UUID): Envoy makes one before routing, so a 404 or 503
    answered by the proxy itself is logged with an id too."""

    def __eq__(self, other):
        return isinstance(other, str) and re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", other) is not None

    def __repr__(self):
        return "<a generated UUID>"


GENERATED = _GeneratedRequestID()


def exchange(proxy, v1):
    """Four requests with known answers; returns (what each line must say, the time window they were sent in)."""
    begun = dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=1)
    a = request(proxy.port, "/shark?q=1", headers={"user-agent": "shark-watcher/1.0", "x-forwarded-for": "10.9.8.7"})
    b = request(proxy.port, "/shark/upload", method="POST", body=b"hello world")
    c = request(proxy.port, "/nowhere")
    d = request(proxy.port, "/empty")
    ended = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=1)
    assert [a.status, b.status, c.status, d.status] == [200, 200, 404, 503]
    seen = {r.target: r for r in v1.seen()}
    upstream = f"127.0.0.1:{v1.port}"
    authority = f"127.0.0.1:{proxy.port}"
    expected = [
        dict(method="GET", path="/shark?q=1", code=200, flags="-", received=0, sent=len(a.body), ua="shark-watcher/1.0",
             xff="10.9.8.7", id=seen["/shark?q=1"].header("x-request-id"), authority=authority, upstream=upstream,
             cluster=CLUSTER_V1),
        dict(method="POST", path="/shark/upload", code=200, flags="-", received=11, sent=len(b.body), ua=None,
             xff=None, id=seen["/shark/upload"].header("x-request-id"), authority=authority, upstream=upstream,
             cluster=CLUSTER_V1),
        dict(method="GET", path="/nowhere", code=404, flags="NR", received=0, sent=len(c.body), ua=None, xff=None,
             id=GENERATED, authority=authority, upstream=None, cluster=None),
        # no healthy upstream: the route chose a cluster (Envoy logs it) but there was no host in it
        dict(method="GET", path="/empty", code=503, flags="UH", received=0, sent=len(d.body), ua=None, xff=None,
             id=GENERATED, authority=authority, upstream=None, cluster=CLUSTER_EMPTY),
    ]
    for e in expected[:2]:
        assert e["id"] and re.fullmatch(r"[0-9a-f-]{36}", e["id"]), f"the upstream got x-request-id {e['id']!r}"
    return expected, (begun, ended)


def start(tmp_path, upstreams, start_proxy, *args):
    v1 = upstreams("v1")
    config = write_config(tmp_path / "c", {"v1": [v1.port]}, istio_yaml=ERRORS)
    # only v1 has an endpoint: the /shark route's v2 share would be 503, so send the /shark requests to v1 only
    config.dir.joinpath("node-istio.yaml").write_text(ERRORS.replace("      weight: 80\n", "      weight: 100\n")
                                                      .replace("      weight: 20\n", "      weight: 0\n"))
    return start_proxy(config, workers=1, extra_args=args), v1


def read_lines(path, count: int, timeout: float = 5) -> list[str]:
    deadline = time.monotonic() + timeout
    while True:
        lines = path.read_text().splitlines() if path.exists() else []
        if len(lines) >= count or time.monotonic() > deadline:
            return lines
        time.sleep(0.05)


def dash(value):
    return "-" if value is None else value


def test_envoy_format_to_a_file(tmp_path, upstreams, start_proxy):
    log = tmp_path / "access.log"
    proxy, v1 = start(tmp_path, upstreams, start_proxy, "--access-log", str(log))
    expected, (begun, ended) = exchange(proxy, v1)
    lines = read_lines(log, 4)
    assert len(lines) == 4, lines
    for line, e in zip(lines, expected):
        m = ENVOY.match(line)
        assert m, f"not Envoy's default format: {line!r}"
        f = m.groupdict()
        assert (f["method"], f["path"], f["protocol"], int(f["code"]), f["flags"]) == \
            (e["method"], e["path"], "HTTP/1.1", e["code"], e["flags"]), line
        assert (int(f["received"]), int(f["sent"])) == (e["received"], e["sent"]), f"body bytes: {line!r}"
        assert (f["ua"], f["xff"], f["id"], f["authority"], f["upstream"]) == \
            (dash(e["ua"]), dash(e["xff"]), dash(e["id"]), e["authority"], dash(e["upstream"])), line
        start_time = dt.datetime.strptime(f["start"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.timezone.utc)
        assert begun <= start_time <= ended, (f["start"], begun, ended)
        assert (f["upstream_time"] == "-") == (e["upstream"] is None), line
    # nothing on standard output when the log goes to a file
    assert not [l for l in proxy.output.stdout if l.strip()], proxy.output.stdout


def test_istio_text_format(tmp_path, upstreams, start_proxy):
    log = tmp_path / "access.log"
    proxy, v1 = start(tmp_path, upstreams, start_proxy, "--access-log", str(log), "--access-log-format", "istio")
    expected, _ = exchange(proxy, v1)
    lines = read_lines(log, 4)
    assert len(lines) == 4, lines
    for line, e in zip(lines, expected):
        m = ISTIO.match(line)
        assert m, f"not Istio's text format: {line!r}"
        f = m.groupdict()
        assert (f["method"], f["path"], int(f["code"]), f["flags"], int(f["received"]), int(f["sent"])) == \
            (e["method"], e["path"], e["code"], e["flags"], e["received"], e["sent"]), line
        assert (f["id"], f["upstream"]) == (dash(e["id"]), dash(e["upstream"])), line
        assert f["cluster"] == dash(e["cluster"]), line


def test_json_format_to_stdout(tmp_path, upstreams, start_proxy):
    proxy, v1 = start(tmp_path, upstreams, start_proxy, "--access-log", "-", "--access-log-format", "json")
    expected, (begun, ended) = exchange(proxy, v1)
    deadline = time.monotonic() + 5
    while len(proxy.output.stdout) < 4 and time.monotonic() < deadline:
        time.sleep(0.05)
    lines = list(proxy.output.stdout)
    assert len(lines) == 4, lines
    assert not any(l.startswith("{") for l in proxy.output.stderr), "access-log lines on standard error"
    for line, e in zip(lines, expected):
        entry = json.loads(line)
        assert set(entry) == JSON_KEYS, sorted(set(entry) ^ JSON_KEYS)
        assert {k: entry[k] for k in ("method", "path", "protocol", "response_code", "response_flags",
                                      "bytes_received", "bytes_sent", "request_id", "authority", "upstream_host",
                                      "user_agent", "x_forwarded_for")} == \
            {"method": e["method"], "path": e["path"], "protocol": "HTTP/1.1", "response_code": e["code"],
             "response_flags": e["flags"], "bytes_received": e["received"], "bytes_sent": e["sent"],
             "request_id": e["id"], "authority": e["authority"], "upstream_host": e["upstream"],
             "user_agent": e["ua"], "x_forwarded_for": e["xff"]}, line
        assert entry["upstream_cluster"] == e["cluster"]
        assert isinstance(entry["duration"], int) and entry["duration"] >= 0
        assert (entry["upstream_service_time"] is None) == (e["upstream"] is None), line
        start_time = dt.datetime.strptime(entry["start_time"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.timezone.utc)
        assert begun <= start_time <= ended


def test_access_log_is_off_by_default(tmp_path, upstreams, start_proxy):
    proxy, v1 = start(tmp_path, upstreams, start_proxy)
    exchange(proxy, v1)
    time.sleep(0.3)
    assert proxy.output.stdout == [], proxy.output.stdout
    assert not any("/shark" in l or "/nowhere" in l for l in proxy.output.stderr), proxy.output.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c"], "the proxy wrote a file nobody asked for"


def test_istio_fields_envoy_fills(tmp_path, upstreams, start_proxy):
    proxy, v1 = start(tmp_path, upstreams, start_proxy, "--access-log", "-", "--access-log-format", "json")
    exchange(proxy, v1)
    deadline = time.monotonic() + 5
    while len(proxy.output.stdout) < 4 and time.monotonic() < deadline:
        time.sleep(0.05)
    entries = [json.loads(line) for line in proxy.output.stdout]
    assert [e["response_code_details"] for e in entries] == \
        ["via_upstream", "via_upstream", "route_not_found", "no_healthy_upstream"]
    for e in entries:
        assert re.fullmatch(r"127\.0\.0\.1:\d+", e["downstream_remote_address"] or ""), e
        assert e["downstream_local_address"] == f"127.0.0.1:{proxy.port}", e
        assert e["request_id"] and re.fullmatch(r"[0-9a-f-]{36}", e["request_id"]), e
    for e in entries[:2]:
        assert re.fullmatch(r"127\.0\.0\.1:\d+", e["upstream_local_address"] or ""), e
