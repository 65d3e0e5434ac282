"""`kanaria loadtest https://…` against Kanaria's HTTPS Gateway server: h2 over TLS (ALPN) with streams split exactly
per stream, HTTP/1.1 over TLS, and a certificate the generator does not trust refused with a one-line error."""

from __future__ import annotations

import pytest

from harness.certs import self_signed
from harness.gateway import Server, Topology, backends, start_gateway  # noqa: F401 (fixtures)
from harness.loadtest import loadtest


@pytest.fixture
def tls_gateway(tmp_path, upstreams, start_gateway):
    cert = self_signed(tmp_path / "tls")
    v1, v2 = upstreams("v1"), upstreams("v2")
    topo = Topology([Server(443, "HTTPS", tls=cert)], {"v1": [v1.port], "v2": [v2.port]})
    return start_gateway(topo, workers=1), cert, v1, v2


def test_h2_over_tls_ten_streams_split_exactly(tls_gateway, kanaria_bin):
    proxy, cert, v1, v2 = tls_gateway
    run = loadtest(kanaria_bin, proxy.url("/", number=443, scheme="https"), "--http2", "--streams", "10",
                   "--requests", "500", "--cacert", str(cert.cert), "--expect", "v1=80,v2=20", "--max-deviation", "0", "--json")
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.counts() == {"v1": 400, "v2": 100}
    assert run.report["windows"]["max_deviation"] == 0
    assert (len(v1.seen()), len(v2.seen())) == (400, 100)


def test_http1_over_tls(tls_gateway, kanaria_bin):
    proxy, cert, _, _ = tls_gateway
    run = loadtest(kanaria_bin, proxy.url("/", number=443, scheme="https"), "--requests", "200",
                   "--cacert", str(cert.cert), "--expect", "v1=80,v2=20", "--json")
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.counts() == {"v1": 160, "v2": 40} and run.report["windows"]["max_deviation"] == 0


def test_untrusted_certificate_is_a_one_line_error_unless_insecure(tls_gateway, kanaria_bin):
    proxy, _, _, _ = tls_gateway
    url = proxy.url("/", number=443, scheme="https")
    run = loadtest(kanaria_bin, url, "--requests", "10", timeout=30)
    assert run.returncode == 1
    assert run.stderr.strip().splitlines() == [
        f"kanaria loadtest: cannot connect to 127.0.0.1:{proxy.port_of(443)}: TLS: certificate verify failed"], run.stderr
    run = loadtest(kanaria_bin, url, "--requests", "10", "--insecure", "--json", timeout=30)
    assert run.returncode == 0 and sum(run.counts().values()) == 10
