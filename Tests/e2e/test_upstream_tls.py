"""TLS to upstreams: a DestinationRule's `tls: {mode: SIMPLE, caCertificates, sni}`, as Istio's "Egress TLS
Origination" task writes it. The gateway speaks plain HTTP to clients and TLS to the endpoint, checking its
certificate against the CA file and the name; a certificate from another CA is refused (503, no request served)."""

from __future__ import annotations

import http.client
import http.server
import ssl
import threading

from harness.certs import self_signed
from harness.h2 import H2Client
from harness.proxy import seed_dir, write_config


class TLSUpstream:
    """An HTTPS/1.1 upstream (Python's http.server over ssl, keep-alive), answering `x-version: tls`."""

    def __init__(self, cert, key):
        seen: list[str] = []
        self.seen = seen

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                seen.append(self.path)
                body = b"tls\n"
                self.send_response(200)
                self.send_header("x-version", "tls")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(str(cert), str(key))
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def istio_with_tls(tls: str) -> str:
    seed = (seed_dir() / "node-istio.yaml").read_text()
    seed = seed.replace("      weight: 80\n", "      weight: 100\n").replace("      weight: 20\n", "      weight: 0\n")
    return seed.replace("  host: nodejs\n  subsets:", "  host: nodejs\n  trafficPolicy:\n    tls:\n" + tls + "  subsets:")


def test_simple_tls_to_the_upstream(tmp_path, start_proxy, kanaria_only):
    """`tls: {mode: SIMPLE, caCertificates, sni: localhost}`: 20 requests on one keep-alive client connection and
    10 HTTP/2 streams all reach the HTTPS upstream and come back; the upstream's connections are reused."""
    cert = self_signed(tmp_path / "tls")
    upstream = TLSUpstream(cert.cert, cert.key)
    try:
        tls = f"      mode: SIMPLE\n      caCertificates: {cert.cert}\n      sni: localhost\n"
        proxy = start_proxy(write_config(tmp_path / "c", {"v1": [upstream.port]}, istio_yaml=istio_with_tls(tls)),
                            workers=1)
        conn = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=10)
        answers = []
        for i in range(20):
            conn.request("GET", f"/page/{i}")
            resp = conn.getresponse()
            answers.append((resp.status, resp.getheader("x-version"), resp.read()))
        conn.close()
        assert answers == [(200, "tls", b"tls\n")] * 20
        with H2Client(proxy.port) as client:
            streams = client.many([f"/h2/{i}" for i in range(10)])
        assert [(r.status, bytes(r.body)) for r in streams] == [(200, b"tls\n")] * 10
        assert len(upstream.seen) == 30
    finally:
        upstream.stop()


def test_a_certificate_from_another_ca_is_refused(tmp_path, start_proxy, kanaria_only):
    """The upstream's certificate is not signed by `caCertificates`: the handshake fails, the client gets 503 and
    the upstream serves nothing."""
    served = self_signed(tmp_path / "served")
    other = self_signed(tmp_path / "other")
    upstream = TLSUpstream(served.cert, served.key)
    try:
        tls = f"      mode: SIMPLE\n      caCertificates: {other.cert}\n      sni: localhost\n"
        proxy = start_proxy(write_config(tmp_path / "c", {"v1": [upstream.port]}, istio_yaml=istio_with_tls(tls)),
                            workers=1)
        conn = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=10)
        conn.request("GET", "/")
        resp = conn.getresponse()
        assert resp.status == 503, resp.read()
        conn.close()
        assert upstream.seen == []
    finally:
        upstream.stop()
