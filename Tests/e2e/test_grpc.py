"""gRPC end to end: a real grpcio client through a `protocol: GRPC` Gateway server (h2c) to two real grpcio
servers (generic handlers, raw-bytes messages, no generated code) labelled v1 and v2 behind a Service whose port
says grpc (name `grpc`, `grpc-*`, or appProtocol grpc), so the proxy speaks HTTP/2 upstream. The VirtualService
splits 80/20 per call, even though the client keeps one HTTP/2 connection. Trailers (grpc-status, custom trailing
metadata) come back, deadlines and cancellations pass through, error statuses reach the client, and
/stats/prometheus labels the requests `request_protocol="grpc"` with their `grpc_response_status`.

Under E2E_PROXY=nginx the same client and servers run through nginx 1.22 (`listen … http2`, `grpc_pass`).
"""

from __future__ import annotations

import os
import time

os.environ.setdefault("GRPC_VERBOSITY", "ERROR")  # grpcio's INFO lines (GOAWAY at shutdown) are noise here

import grpc  # noqa: E402
import pytest

from harness.admin import Admin, by
from harness.gateway import Server, Topology, backends, require_kanaria, start_gateway  # noqa: F401 (fixtures)

CHANNEL_OPTIONS = [("grpc.enable_retries", 0), ("grpc.max_receive_message_length", 8 << 20),
                   ("grpc.max_send_message_length", 8 << 20)]


def grpc_gateway(backends, start_gateway, port_name="grpc", app_protocol=None, workers=1):
    v1, v2 = backends("grpc", "v1"), backends("grpc", "v2")
    topo = Topology([Server(80, "GRPC")], {"v1": [v1.port], "v2": [v2.port]}, port_name=port_name,
                    app_protocol=app_protocol, app="echo")
    return start_gateway(topo, workers=workers), v1, v2


class Echo:
    """The demo.Echo stubs on one channel (one HTTP/2 connection) to the proxy."""

    def __init__(self, port: int):
        self.channel = grpc.insecure_channel(f"127.0.0.1:{port}", options=CHANNEL_OPTIONS)
        grpc.channel_ready_future(self.channel).result(timeout=10)
        self.say = self.channel.unary_unary("/demo.Echo/Say")
        self.count = self.channel.unary_stream("/demo.Echo/Count")
        self.slow = self.channel.unary_unary("/demo.Echo/Slow")
        self.missing = self.channel.unary_unary("/demo.Echo/Missing")

    def close(self) -> None:
        self.channel.close()


@pytest.fixture
def echo():
    clients: list[Echo] = []

    def connect(port: int) -> Echo:
        clients.append(Echo(port))
        return clients[-1]

    yield connect
    for c in clients:
        c.close()


@pytest.mark.parametrize("port_name,app_protocol", [("grpc", None), ("grpc-echo", None), ("echo", "grpc")],
                         ids=["port grpc", "port grpc-echo", "appProtocol grpc"])
def test_500_unary_calls_split_400_100(backends, start_gateway, echo, port_name, app_protocol):
    proxy, v1, v2 = grpc_gateway(backends, start_gateway, port_name, app_protocol)
    client = echo(proxy.port)
    answers = [client.say(f"call {i}".encode(), timeout=10) for i in range(500)]
    versions = [a.split(b":", 1)[0].decode() for a in answers]
    assert (versions.count("v1"), versions.count("v2")) == (400, 100)
    assert all(a.split(b":", 1)[1] == f"call {i}".encode() for i, a in enumerate(answers))
    assert (len(v1.seen("Say")), len(v2.seen("Say"))) == (400, 100)
    # each window of five calls holds one v2: the split is decided per stream on the one connection
    assert all(versions[i:i + 5].count("v2") == 1 for i in range(0, 500, 5))


def test_split_holds_with_several_workers(backends, start_gateway, echo):
    """One channel is one connection, so one worker: still exactly 80/20 with the default worker count."""
    proxy, v1, v2 = grpc_gateway(backends, start_gateway, workers=None)
    client = echo(proxy.port)
    versions = [client.say(b"x", timeout=10).split(b":")[0] for _ in range(100)]
    assert (versions.count(b"v1"), versions.count(b"v2")) == (80, 20)


def test_trailers_reach_the_client(backends, start_gateway, echo):
    proxy, v1, v2 = grpc_gateway(backends, start_gateway)
    client = echo(proxy.port)
    response, call = client.say.with_call(b"hello", metadata=(("x-shark", "great-white"),), timeout=10)
    assert call.code() == grpc.StatusCode.OK
    version = response.split(b":")[0].decode()
    trailers = dict(call.trailing_metadata())
    assert trailers.get("x-version") == version and trailers.get("x-trailer") == "kept", trailers
    (seen,) = v1.seen() + v2.seen()
    assert seen.metadata.get("x-shark") == "great-white", seen.metadata


def test_server_streaming(backends, start_gateway, echo):
    proxy, v1, v2 = grpc_gateway(backends, start_gateway)
    client = echo(proxy.port)
    for _ in range(5):
        messages = list(client.count(b"50", timeout=10))
        assert len(messages) == 50
        (version,) = {m.split(b":")[0] for m in messages}
        assert messages == [version + f":{i}".encode() for i in range(50)]
    assert (len(v1.seen("Count")), len(v2.seen("Count"))) == (4, 1)


def test_large_messages_both_ways(backends, start_gateway, echo):
    """A 3 MB request and a 3 MB answer (beyond every default HTTP/2 window) pass through flow control intact."""
    proxy, v1, v2 = grpc_gateway(backends, start_gateway)
    client = echo(proxy.port)
    payload = bytes(range(256)) * (3 * 4096)
    answer = client.say(payload, timeout=30)
    assert answer.split(b":", 1)[1] == payload


def test_deadline_shorter_than_the_handler(backends, start_gateway, echo):
    """A 0.5 s deadline on a 3 s handler: DEADLINE_EXCEEDED at about 0.5 s, the cancel reaches the server's
    handler (the proxy resets the upstream stream), and the connection keeps working."""
    proxy, v1, v2 = grpc_gateway(backends, start_gateway)
    client = echo(proxy.port)
    start = time.monotonic()
    with pytest.raises(grpc.RpcError) as failure:
        client.slow(b"3", timeout=0.5)
    elapsed = time.monotonic() - start
    assert failure.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED, failure.value
    assert elapsed < 2, f"DEADLINE_EXCEEDED after {elapsed:.1f}s"
    assert client.say(b"after", timeout=10).endswith(b":after")
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and len(v1.cancelled) + len(v2.cancelled) < 1:
        time.sleep(0.05)
    assert v1.cancelled + v2.cancelled == [True], "the upstream handler ran to its end: the cancel did not reach it"


def test_not_found_reaches_the_client(backends, start_gateway, echo):
    proxy, v1, v2 = grpc_gateway(backends, start_gateway)
    client = echo(proxy.port)
    with pytest.raises(grpc.RpcError) as failure:
        client.missing(b"megalodon", timeout=10)
    assert failure.value.code() == grpc.StatusCode.NOT_FOUND
    assert failure.value.details() == "no such shark"
    assert client.say(b"still", timeout=10).endswith(b":still")


def test_prometheus_labels_grpc_requests(backends, start_gateway, echo):
    """istio_requests_total counts each call with request_protocol="grpc" and its grpc_response_status (0 OK, 5
    NOT_FOUND), with HTTP response code 200 as Envoy reports gRPC calls."""
    require_kanaria("Istio's metrics are Kanaria's")
    proxy, v1, v2 = grpc_gateway(backends, start_gateway)
    client = echo(proxy.port)
    for _ in range(100):
        client.say(b"m", timeout=10)
    with pytest.raises(grpc.RpcError):
        client.missing(b"m", timeout=10)
    admin = Admin(proxy.admin_port)
    samples = admin.metric("istio_requests_total", request_protocol="grpc")
    assert samples, [s for s in admin.scrape() if s.name == "istio_requests_total"]
    counts = by(samples, "grpc_response_status", "response_code")
    assert counts == {("0", "200"): 100, ("5", "200"): 1}, counts
    ok = by([s for s in samples if s.labels.get("grpc_response_status") == "0"], "destination_version")
    assert ok == {"v1": 80, "v2": 20}, ok
    assert {s.labels.get("destination_service") for s in samples} == {"echo.default.svc.cluster.local"}
