"""HTTP/2 from clients: h2c with prior knowledge and through `Upgrade: h2c`, a split decided per stream
(100 streams on one connection split exactly 80/20), h2load with no failure, and both protocol directions: an h2
client through to an HTTP/1.1 upstream, and an HTTP/1.1 client through to an HTTP/2 (h2c) upstream, with 1 MB
bodies both ways.

Run with E2E_PROXY=nginx to check these tests against nginx 1.22 (`listen … http2`, `grpc_pass`); the tests it
cannot stand in for (Upgrade: h2c, h2c on a port that also serves HTTP/1.1) skip there with a reason.
"""

from __future__ import annotations

import http.client
import json
import signal
import threading

import pytest

from harness.gateway import PEER, Server, Topology, backends, require_kanaria, start_gateway  # noqa: F401 (fixtures)
from harness.h2 import NO_ERROR, H2Client, RawH2, curl_parallel, h2load, headers_frame, nghttp_get, sha256
from harness.upstream import blob, received
from harness.waiting import wait_until

MB = 1 << 20


def h2c_topology(v1, v2, protocol: str = "HTTP2") -> Topology:
    return Topology([Server(80, protocol)], {"v1": [v1.port], "v2": [v2.port]})


def assert_one_connection(run, count: int) -> None:
    codes = {t.code for t in run.transfers}
    assert codes == {200}, f"status codes {codes}"
    assert {t.http_version for t in run.transfers} == {"2"}, [t.http_version for t in run.transfers]
    assert run.connections == 1, f"curl opened {run.connections} connections for {count} transfers"
    assert run.verbose.count("* Connected to ") == 1, run.verbose[-3000:]


def assert_one_nghttp_connection(run, count: int) -> None:
    assert run.connections == 1, f"nghttp opened {run.connections} connections"
    assert len(run.status) == count and set(run.status.values()) == {200}, run.status
    assert len(run.paths) == count, "nghttp did not send every request on the connection"


@pytest.mark.parametrize("workers", [1, None], ids=["workers=1", "workers=default"])
def test_100_streams_on_one_h2c_connection_split_exactly_80_20(upstreams, start_gateway, workers):
    """100 concurrent streams over one h2c (prior knowledge) connection: 80 v1, 20 v2, and the upstreams agree.
    With several workers one connection is still served by one worker, so the split is still exact.
    (nghttp, not curl: Debian 12's curl cannot reuse a prior-knowledge connection; see harness.h2.nghttp_get.)"""
    v1, v2 = upstreams("v1"), upstreams("v2")
    proxy = start_gateway(h2c_topology(v1, v2), workers=workers)
    run = nghttp_get([proxy.url(f"/shark?i={i}") for i in range(100)])
    assert_one_nghttp_connection(run, 100)
    versions = run.version_list()
    assert (versions.count("v1"), versions.count("v2")) == (80, 20), versions
    assert (len(v1.seen()), len(v2.seen())) == (80, 20)
    assert sorted(r.target for r in v1.seen() + v2.seen()) == sorted(f"/shark?i={i}" for i in range(100))
    # each stream was answered by the version that served its path
    served = {r.target: "v1" for r in v1.seen()} | {r.target: "v2" for r in v2.seen()}
    assert all(served[run.paths[sid]] == run.versions[sid] for sid in run.status)


def test_curl_http2_prior_knowledge(upstreams, start_gateway):
    """curl --http2-prior-knowledge, one transfer per connection (what Debian 12's curl can do): HTTP/2 answers,
    and ten fresh connections on one worker split 8/2."""
    v1, v2 = upstreams("v1"), upstreams("v2")
    proxy = start_gateway(h2c_topology(v1, v2), workers=1)
    versions = []
    for i in range(10):
        run = curl_parallel([proxy.url(f"/?i={i}")], ["--http2-prior-knowledge"], parallel=False)
        (t,) = run.transfers
        assert (t.code, t.http_version, t.connects) == (200, "2", 1)
        versions.append(t.version)
    assert (versions.count("v1"), versions.count("v2")) == (8, 2), versions


def test_h2c_prior_knowledge_on_the_tutorials_http_port(mesh, start_proxy):
    """The tutorial's Gateway (protocol HTTP, port 80) also takes h2c with prior knowledge, as Envoy's codec
    detects it on an HTTP listener; HTTP/1.1 still works on the same port."""
    require_kanaria("nginx 1.22 cannot serve HTTP/1.1 and h2c on one plain port")
    config, v1, v2 = mesh
    proxy = start_proxy(config, workers=1)
    run = nghttp_get([proxy.url(f"/?i={i}") for i in range(50)])
    assert_one_nghttp_connection(run, 50)
    assert (run.version_list().count("v1"), run.version_list().count("v2")) == (40, 10)
    h1 = curl_parallel([proxy.url("/")], ["--http1.1"], parallel=False)
    assert h1.transfers[0].code == 200 and h1.transfers[0].http_version == "1.1"


def test_upgrade_h2c_splits_per_stream(mesh, start_proxy):
    """curl --http2 on http:// asks for `Upgrade: h2c`; the proxy switches (101) and the first request is answered
    on stream 1. The following requests of the same curl reuse that HTTP/2 connection, and 10 streams split 8/2."""
    require_kanaria("nginx 1.22 does not implement Upgrade: h2c")
    config, v1, v2 = mesh
    proxy = start_proxy(config)
    run = curl_parallel([proxy.url(f"/?i={i}") for i in range(10)], ["--http2"], parallel=False)
    assert "101 Switching Protocols" in run.verbose, run.verbose[-3000:]
    assert_one_connection(run, 10)
    assert (run.versions().count("v1"), run.versions().count("v2")) == (8, 2), run.versions()
    assert (len(v1.seen()), len(v2.seen())) == (8, 2)


def test_h2load_every_request_succeeds_and_splits_1600_400(upstreams, start_gateway):
    v1, v2 = upstreams("v1"), upstreams("v2")
    proxy = start_gateway(h2c_topology(v1, v2), workers=1)
    result = h2load(proxy.url("/"), 2000, 10, 10)
    assert (result.total, result.succeeded, result.failed, result.errored, result.timeout) == (2000, 2000, 0, 0, 0), \
        result.output
    assert result.status_2xx == 2000, result.output
    assert (len(v1.seen()), len(v2.seen())) == (1600, 400)


def test_sigterm_sends_goaway_and_lets_open_streams_finish(upstreams, start_gateway):
    """On drain (SIGTERM) an HTTP/2 client gets GOAWAY(NO_ERROR) that still covers its open stream; the stream is
    answered in full, then the connection closes and the proxy exits 0."""
    require_kanaria("SIGTERM drain is Kanaria's (SIGTERM is nginx's fast shutdown)")
    v1, v2 = upstreams("v1"), upstreams("v2")
    proxy = start_gateway(h2c_topology(v1, v2), workers=1)
    outcome = {}
    with RawH2(proxy.port) as h:
        h.handshake()
        sid = h.new_stream()
        h.send(headers_frame(sid, h.block([(":method", "GET"), (":scheme", "http"), (":authority", "localhost"),
                                           (":path", "/slow?ms=1500")])))
        wait_until(lambda: received("/slow", v1, v2), "the upstream to receive the slow request")

        def stop():
            try:
                outcome["rc"] = proxy.stop(signal.SIGTERM, timeout=15)
            except AssertionError as e:
                outcome["error"] = str(e)

        stopper = threading.Thread(target=stop)
        stopper.start()
        ended = lambda: any(f.stream_id == sid and "END_STREAM" in f.flags for f in h.frames)  # noqa: E731
        h.read(ended, timeout=10)
        away = h.goaway()
        assert away is not None, f"no GOAWAY on drain; frames: {h.frames[-5:]}"
        assert away.error_code == NO_ERROR and away.last_stream_id >= sid, away
        assert h.stream_outcome(sid) == ("status", 200) and ended(), h.frames[-5:]
        assert h.body(sid) in (b"v1\n", b"v2\n")
        assert h.read_until_closed(timeout=10), "the connection stayed open after its last stream"
        stopper.join(20)
    assert outcome == {"rc": 0}, outcome


# h2 in, HTTP/1.1 out -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("length", ["content-length", "no content-length"])
def test_h2_client_uploads_1mb_to_http1_upstream(upstreams, start_gateway, length):
    """A 1 MB request body over h2 (flow-controlled DATA frames) reaches the HTTP/1.1 upstream byte for byte:
    with content-length, and without one (then the proxy must frame it itself, chunked)."""
    v1, v2 = upstreams("v1"), upstreams("v2")
    proxy = start_gateway(h2c_topology(v1, v2), workers=1)
    body = blob(MB, seed=11)
    with H2Client(proxy.port) as client:
        if length == "content-length":
            resp = client.request("POST", "/upload", body=body)
        else:
            sid = client.start("POST", "/upload", body=body, content_length=False)
            client.pump(lambda: client.responses[sid].done)
            resp = client.responses[sid]
    assert resp.status == 200, resp
    answer = json.loads(bytes(resp.body))
    assert (answer["length"], answer["sha256"]) == (MB, sha256(body))
    (seen,) = v1.seen() + v2.seen()
    assert (seen.method, seen.version, seen.body_length) == ("POST", "HTTP/1.1", MB)


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_h2_client_downloads_1mb_from_http1_upstream(upstreams, start_gateway, chunked):
    v1, v2 = upstreams("v1"), upstreams("v2")
    proxy = start_gateway(h2c_topology(v1, v2), workers=1)
    with H2Client(proxy.port) as client:
        resp = client.request("GET", f"/download?size={MB}&seed=12" + ("&chunked=1" if chunked else ""))
    assert resp.status == 200 and resp.reset is None, resp.status
    assert len(resp.body) == MB and sha256(bytes(resp.body)) == sha256(blob(MB, 12))
    assert resp.header("transfer-encoding") is None and resp.header("connection") is None


def test_h2_streams_are_independent_of_each_other(upstreams, start_gateway):
    """A slow answer on one stream does not hold up the others on the same connection."""
    v1, v2 = upstreams("v1"), upstreams("v2")
    proxy = start_gateway(h2c_topology(v1, v2), workers=1)
    with H2Client(proxy.port) as client:
        slow = client.start("GET", "/slow?ms=3000")
        fast = [client.start("GET", f"/fast?i={i}") for i in range(20)]
        client.pump(lambda: all(client.responses[s].done for s in fast), timeout=2.5)
        assert not client.responses[slow].done, "the slow stream answered before its upstream did"
        assert all(client.responses[s].status == 200 for s in fast)
        client.pump(lambda: client.responses[slow].done, timeout=10)
        assert client.responses[slow].status == 200


# HTTP/1.1 in, h2c out ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("port_name,app_protocol", [("http2-web", None), ("web", "http2")],
                         ids=["port name http2-web", "appProtocol http2"])
def test_http1_client_through_to_h2c_upstream(backends, start_gateway, port_name, app_protocol):
    """A Service port named http2-* (or with appProtocol http2) is spoken to in HTTP/2 with prior knowledge; the
    upstreams here speak nothing else. 100 keep-alive HTTP/1.1 requests split 80/20, and 1 MB bodies pass both ways."""
    v1, v2 = backends("h2c", "v1"), backends("h2c", "v2")
    topo = Topology([Server(80, "HTTP")], {"v1": [v1.port], "v2": [v2.port]}, port_name=port_name,
                    app_protocol=app_protocol)
    proxy = start_gateway(topo, workers=1)
    conn = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=30)
    try:
        versions = []
        for i in range(100):
            conn.request("GET", f"/h1?i={i}")
            resp = conn.getresponse()
            body = resp.read()
            assert resp.status == 200, (resp.status, body)
            versions.append(resp.getheader("x-version"))
            assert body == f"{versions[-1]}\n".encode()
        assert (versions.count("v1"), versions.count("v2")) == (80, 20)
        upload = blob(MB, seed=21)
        conn.request("POST", "/upload", body=upload)
        resp = conn.getresponse()
        answer = json.loads(resp.read())
        assert resp.status == 200 and (answer["length"], answer["sha256"]) == (MB, sha256(upload))
        conn.request("GET", f"/download?size={MB}&seed=22")
        resp = conn.getresponse()
        data = resp.read()
        assert resp.status == 200 and sha256(data) == sha256(blob(MB, 22))
    finally:
        conn.close()
    assert v1.protocol_errors == v2.protocol_errors == 0, "the proxy spoke something other than HTTP/2 upstream"
    assert len(v1.seen()) + len(v2.seen()) == 102
    assert (sum(1 for r in v1.seen() if r.path.startswith("/h1")), sum(1 for r in v2.seen() if r.path.startswith("/h1"))) \
        == (80, 20)
    # multiplexed over a small pool, not one upstream connection per request
    assert v1.accepts + v2.accepts <= 8, (v1.accepts, v2.accepts)
