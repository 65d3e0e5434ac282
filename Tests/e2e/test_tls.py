"""TLS on HTTPS Gateway servers: `tls: {mode: SIMPLE, serverCertificate, privateKey}` terminates TLS,
ALPN picks h2 or http/1.1, 50 h2 streams on one TLS connection split exactly 40/10, and `tls.httpsRedirect` on an
HTTP server answers 301 to https. The certificate is self-signed for localhost and 127.0.0.1, made per test with
the openssl CLI, and the clients verify it (curl --cacert, Python's ssl).

Under E2E_PROXY=nginx the same checks run against nginx 1.22 (`listen … ssl http2`, `return 301 https://…`).
"""

from __future__ import annotations

import http.client
import json
import shutil
import signal
import socket
import ssl
import threading
import time

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


def _served_certificate(port: int) -> bytes:
    """The DER certificate a new TLS connection to `port` is served (not verified: only compared)."""
    ctx = ssl.create_default_context()
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw, \
            ctx.wrap_socket(raw, server_hostname="localhost") as tls:
        return tls.getpeercert(binary_form=True)


def test_a_reload_serves_a_renewed_certificate_with_no_failed_request(tls_gateway, tmp_path, kanaria_only):
    """A certificate renewed in place and a SIGHUP: the next connections get the new certificate, while 8 clients
    that open a new TLS connection every few requests keep going across the reload without one failure."""
    proxy, cert, v1, v2 = tls_gateway
    port = proxy.port_of(443)
    old_der = ssl.PEM_cert_to_DER_cert(cert.cert.read_text())
    assert _served_certificate(port) == old_der
    renewed = self_signed(tmp_path / "renewed")
    trust = tmp_path / "both.pem"
    trust.write_text(cert.cert.read_text() + renewed.cert.read_text())

    stop = threading.Event()
    outcomes: list[list[str]] = [[] for _ in range(8)]

    def client(results: list[str]) -> None:
        ctx = ssl.create_default_context(cafile=str(trust))
        while not stop.is_set():
            conn = http.client.HTTPSConnection("localhost", port, context=ctx, timeout=10)
            try:
                for _ in range(3):
                    conn.request("GET", "/renewal")
                    resp = conn.getresponse()
                    resp.read()
                    results.append(str(resp.status))
            except (OSError, http.client.HTTPException) as error:
                results.append(f"{type(error).__name__}: {error}")
            finally:
                conn.close()

    threads = [threading.Thread(target=client, args=(outcomes[i],)) for i in range(8)]
    for thread in threads:
        thread.start()
    try:
        deadline = time.monotonic() + 30
        while min(len(r) for r in outcomes) < 10 and time.monotonic() < deadline:
            time.sleep(0.01)
        before = sum(len(r) for r in outcomes)
        shutil.copyfile(renewed.cert, cert.cert)
        shutil.copyfile(renewed.key, cert.key)
        proxy.proc.send_signal(signal.SIGHUP)
        reloaded = proxy.output.wait_for(lambda lines: any("configuration reloaded" in l for l in lines), 10, proxy.proc)
        assert reloaded, proxy.output.text(last=50)
        new_der = ssl.PEM_cert_to_DER_cert(renewed.cert.read_text())
        assert _served_certificate(port) == new_der
        while sum(len(r) for r in outcomes) < before + 200 and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    results = [r for rs in outcomes for r in rs]
    assert len(results) >= before + 200, "the clients stalled across the reload"
    failures = [r for r in results if r != "200"]
    assert failures == [], failures[:5]


def test_a_reload_with_a_broken_certificate_keeps_serving_the_old_one(tls_gateway, kanaria_only):
    proxy, cert, v1, v2 = tls_gateway
    port = proxy.port_of(443)
    old_der = ssl.PEM_cert_to_DER_cert(cert.cert.read_text())
    cert.cert.write_text("-----BEGIN CERTIFICATE-----\nnot a certificate\n-----END CERTIFICATE-----\n")
    proxy.proc.send_signal(signal.SIGHUP)
    failed = proxy.output.wait_for(lambda lines: any("reload failed" in l for l in lines), 10, proxy.proc)
    assert failed, proxy.output.text(last=50)
    assert str(cert.cert) in proxy.output.text(last=50), "the diagnostic does not name the certificate file"
    assert _served_certificate(port) == old_der
