"""TLS on HTTPS Gateway servers: `tls: {mode: SIMPLE, serverCertificate, privateKey}` terminates TLS,
ALPN picks h2 or http/1.1, 50 h2 streams on one TLS connection split exactly 40/10, and `tls.httpsRedirect` on an
HTTP server answers 301 to https. The certificate is self-signed for localhost and 127.0.0.1, made per test with
the openssl CLI, and the clients verify it (curl --cacert, Python's ssl).

Under E2E_PROXY=nginx the same checks run against nginx 1.22 (`listen … ssl http2`, `return 301 https://…`).
"""

from __future__ import annotations

import http.client
import json
import ssl

import pytest

from harness.certs import self_signed
from harness.gateway import Server, Topology, backends, start_gateway  # noqa: F401 (fixtures)
from harness.h2 import H2Client, curl_one, curl_parallel, sha256, tls_context
from harness.upstream import blob


@pytest.fixture
def tls_gateway(tmp_path, upstreams, start_gateway):
    """An HTTPS server (443) and an HTTP server (80) with httpsRedirect, in front of v1/v2 HTTP/1.1 upstreams.
    Returns (proxy, certificate, v1, v2)."""
    cert = self_signed(tmp_path / "tls")
    v1, v2 = upstreams("v1"), upstreams("v2")
    topo = Topology([Server(443, "HTTPS", tls=cert), Server(80, "HTTP", https_redirect=True)],
                    {"v1": [v1.port], "v2": [v2.port]})
    return start_gateway(topo, workers=1), cert, v1, v2


def test_alpn_picks_h2_and_50_streams_split_exactly_40_10(tls_gateway):
    proxy, cert, v1, v2 = tls_gateway
    urls = [proxy.url(f"/tls?i={i}", number=443, scheme="https") for i in range(50)]
    run = curl_parallel(urls, ["--http2", "--cacert", str(cert.cert)])
    assert "ALPN: server accepted h2" in run.verbose, run.verbose[-3000:]
    assert "SSL certificate verify ok" in run.verbose
    assert {t.code for t in run.transfers} == {200}
    assert {t.http_version for t in run.transfers} == {"2"}
    assert run.connections == 1 and run.verbose.count("* Connected to ") == 1, "curl used more than one connection"
    versions = run.versions()
    assert (versions.count("v1"), versions.count("v2")) == (40, 10), versions
    assert (len(v1.seen()), len(v2.seen())) == (40, 10)


def test_http1_over_tls(tls_gateway):
    """A client that offers only http/1.1 gets it: ten keep-alive requests on one TLS connection, split 8/2."""
    proxy, cert, v1, v2 = tls_gateway
    urls = [proxy.url(f"/h1?i={i}", number=443, scheme="https") for i in range(10)]
    run = curl_parallel(urls, ["--http1.1", "--cacert", str(cert.cert)], parallel=False)
    assert "ALPN: server accepted http/1.1" in run.verbose, run.verbose[-3000:]
    assert {(t.code, t.http_version) for t in run.transfers} == {(200, "1.1")}
    assert run.connections == 1, "the TLS connection was not kept alive"
    assert (run.versions().count("v1"), run.versions().count("v2")) == (8, 2)


def test_python_ssl_without_alpn_speaks_http1(tls_gateway):
    """No ALPN at all means HTTP/1.1 (RFC 7301): Python's http.client over ssl, with a 1 MB upload."""
    proxy, cert, v1, v2 = tls_gateway
    ctx = ssl.create_default_context(cafile=str(cert.cert))
    conn = http.client.HTTPSConnection("localhost", proxy.port_of(443), context=ctx, timeout=30)
    try:
        body = blob(1 << 20, seed=31)
        conn.request("POST", "/upload", body=body)
        resp = conn.getresponse()
        answer = json.loads(resp.read())
        assert resp.status == 200 and (answer["length"], answer["sha256"]) == (1 << 20, sha256(body))
        assert conn.sock.selected_alpn_protocol() is None
    finally:
        conn.close()
    (seen,) = v1.seen() + v2.seen()
    assert seen.body_length == 1 << 20


def test_h2_over_tls_bodies_both_ways(tls_gateway):
    """Python's h2 over ssl with ALPN h2: 1 MB up and 1 MB down on one connection, byte for byte."""
    proxy, cert, v1, v2 = tls_gateway
    with H2Client(proxy.port_of(443), tls=tls_context(cert.cert, ["h2"])) as client:
        body = blob(1 << 20, seed=32)
        resp = client.request("POST", "/upload", body=body)
        assert resp.status == 200
        assert json.loads(bytes(resp.body))["sha256"] == sha256(body)
        resp = client.request("GET", f"/download?size={1 << 20}&seed=33")
        assert resp.status == 200 and sha256(bytes(resp.body)) == sha256(blob(1 << 20, 33))


def test_x_forwarded_proto_is_https_behind_tls(tls_gateway):
    """Envoy sets x-forwarded-proto from the downstream connection: https when it terminated TLS, over h2 and
    HTTP/1.1 alike."""
    proxy, cert, v1, v2 = tls_gateway
    with H2Client(proxy.port_of(443), tls=tls_context(cert.cert, ["h2"])) as client:
        assert client.request("GET", "/h2").status == 200
    curl_one(proxy.url("/h1", number=443, scheme="https"), ["--http1.1", "--cacert", str(cert.cert)])
    seen = {s.target: s.header("x-forwarded-proto") for s in v1.seen() + v2.seen()}
    assert seen == {"/h2": "https", "/h1": "https"}


def test_https_redirect_answers_301_to_https(tls_gateway):
    proxy, cert, v1, v2 = tls_gateway
    status, headers, _ = curl_one(proxy.url("/sharks?kind=great-white", number=80), ["--http1.1"],
                                  ["-H", "Host: sharks.example"])
    assert status == 301, (status, headers)
    assert headers.get("location") == "https://sharks.example/sharks?kind=great-white", headers
    assert v1.seen() == [] and v2.seen() == [], "a redirected request reached an upstream"


def test_wrong_certificate_is_refused_by_the_client(tls_gateway, tmp_path):
    """The clients really verify: a CA file that did not sign the proxy's certificate fails the handshake (so the
    passing tests above are not passing by skipping verification)."""
    proxy, cert, _, _ = tls_gateway
    other = self_signed(tmp_path / "other", name="other")
    ctx = ssl.create_default_context(cafile=str(other.cert))
    conn = http.client.HTTPSConnection("localhost", proxy.port_of(443), context=ctx, timeout=10)
    with pytest.raises(ssl.SSLCertVerificationError):
        conn.request("GET", "/")
    conn.close()
