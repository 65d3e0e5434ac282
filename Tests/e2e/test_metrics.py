"""Istio's standard metrics at /stats/prometheus count exactly what the proxy did: every request once, under the labels
an Istio ingress gateway gives it (`reporter="source"`, the destination's service, workload and version, the response
code and Envoy's response flags), with Istio's histogram buckets, all workers merged."""

from __future__ import annotations

import http.client
import socket
import struct

import pytest

from harness.admin import Admin, by, total
from harness.client import curl_versions, request
from harness.proxy import write_config, tutorial_istio
from harness.upstream import closed_port, received
from harness.waiting import wait_until
from test_split import versions_on_one_connection

pytestmark = pytest.mark.usefixtures("kanaria_only")

SERVICE = "nodejs.default.svc.cluster.local"
# Envoy's default histogram buckets, which Istio's three HTTP histograms use, then +Inf.
ISTIO_BUCKETS = ["0.5", "1", "5", "10", "25", "50", "100", "250", "500", "1000", "2500", "5000", "10000", "30000",
                 "60000", "300000", "600000", "1800000", "3600000", "+Inf"]
INGRESS_SOURCE = {
    "reporter": "source", "source_workload": "istio-ingressgateway", "source_workload_namespace": "istio-system",
    "source_app": "istio-ingressgateway", "source_canonical_service": "istio-ingressgateway",
    "source_canonical_revision": "latest", "source_version": "unknown", "source_principal": "unknown",
    "source_cluster": "Kubernetes", "connection_security_policy": "unknown",
}
ISTIO_LABELS = set(INGRESS_SOURCE) | {
    "destination_workload", "destination_workload_namespace", "destination_principal", "destination_app",
    "destination_version", "destination_service", "destination_canonical_service", "destination_canonical_revision",
    "destination_service_name", "destination_service_namespace", "destination_cluster", "request_protocol",
    "response_code", "grpc_response_status", "response_flags",
}


def destination(version: str, workload: str) -> dict:
    """The destination labels of a request that reached an endpoint of the tutorial's service."""
    return {"destination_service": SERVICE, "destination_service_name": "nodejs",
            "destination_service_namespace": "default", "destination_workload": workload,
            "destination_workload_namespace": "default", "destination_app": "nodejs", "destination_version": version,
            "destination_canonical_service": "nodejs", "destination_canonical_revision": version,
            "destination_principal": "unknown", "destination_cluster": "Kubernetes"}


def series(samples, name):
    return [s for s in samples if s.name == name]


def check_histograms(samples, requests) -> None:
    """Each request series has the three histograms, with Istio's buckets, cumulative, counting the same requests."""
    keys = {tuple(sorted(s.labels.items())): s.value for s in requests}
    for family in ("istio_request_duration_milliseconds", "istio_request_bytes", "istio_response_bytes"):
        counts = {tuple(sorted(s.labels.items())): s.value for s in series(samples, family + "_count")}
        assert counts == keys, f"{family}_count differs from istio_requests_total:\n{counts}\n{keys}"
        sums = {tuple(sorted(s.labels.items())): s.value for s in series(samples, family + "_sum")}
        assert sums.keys() == keys.keys()
        for key, count in keys.items():
            buckets = [s for s in series(samples, family + "_bucket")
                       if tuple(sorted((k, v) for k, v in s.labels.items() if k != "le")) == key]
            assert [b.labels["le"] for b in buckets] == ISTIO_BUCKETS, f"{family} buckets: {[b.labels['le'] for b in buckets]}"
            values = [b.value for b in buckets]
            assert values == sorted(values), f"{family} buckets are not cumulative: {values}"
            assert values[-1] == count, f"{family} +Inf bucket {values[-1]} != count {count}"
            assert sums[key] >= 0


def test_500_requests_count_400_v1_and_100_v2_with_istio_labels(mesh, start_proxy):
    """The tutorial's 80/20 over 250 keep-alive requests and 250 fresh connections (curl): exactly 400 to
    nodejs-v1 and 100 to nodejs-v2, all 200, labelled as Istio's ingress gateway labels them."""
    config, v1, v2 = mesh
    proxy = start_proxy(config, workers=1)
    admin = Admin(proxy.admin_port)
    seen = versions_on_one_connection(proxy.port, 250) + curl_versions(proxy.url("/"), 250)
    assert (seen.count("v1"), seen.count("v2")) == (400, 100)

    samples = admin.scrape()
    requests = series(samples, "istio_requests_total")
    assert len(requests) == 2, "\n".join(str(s.labels) for s in requests)
    for s in requests:
        assert set(s.labels) == ISTIO_LABELS, sorted(set(s.labels) ^ ISTIO_LABELS)
        version = s.labels["destination_version"]
        expected = {**INGRESS_SOURCE, **destination(version, f"nodejs-{version}"), "request_protocol": "http",
                    "response_code": "200", "grpc_response_status": "", "response_flags": "-"}
        assert s.labels == expected
    assert by(requests, "destination_version") == {"v1": 400, "v2": 100}
    check_histograms(samples, requests)
    # Sizes: every request head (at least "GET / HTTP/1.1\r\n\r\n") and every response (head and "vN\n").
    for s in series(samples, "istio_request_bytes_sum") + series(samples, "istio_response_bytes_sum"):
        count = by(requests, "destination_version")[s.labels["destination_version"]]
        assert s.value >= 18 * count, s

    # Kanaria's own: one keep-alive connection and 250 fresh ones; every request either opened an upstream
    # connection or reused one; nothing in flight, no series dropped.
    own = {s.name: s.value for s in samples if not s.labels}
    assert own["kanaria_downstream_connections_accepted_total"] == 251
    assert own["kanaria_requests_in_flight"] == 0
    assert own["kanaria_metric_series_dropped_total"] == 0
    assert own["kanaria_config_generation"] == 1
    opened = by(series(samples, "kanaria_upstream_connections_opened_total"), "destination_version")
    reused = by(series(samples, "kanaria_upstream_connections_reused_total"), "destination_version")
    assert {v: opened.get(v, 0) + reused.get(v, 0) for v in ("v1", "v2")} == {"v1": 400, "v2": 100}
    assert opened["v1"] == v1.accepts and opened["v2"] == v2.accepts
    wait_until(lambda: {s.name: s.value for s in admin.scrape() if not s.labels}["kanaria_downstream_connections_active"] == 0,
               "kanaria_downstream_connections_active to fall to 0 after every client left")


def test_workers_shards_merge_to_what_the_clients_saw(mesh, start_proxy):
    """Two workers count in their own shards; a scrape merges them: the totals by version equal what 300 fresh
    connections (spread over both workers) and one keep-alive connection were answered."""
    config, _, _ = mesh
    proxy = start_proxy(config, workers=2)
    seen = curl_versions(proxy.url("/"), 300) + versions_on_one_connection(proxy.port, 100)
    requests = Admin(proxy.admin_port).metric("istio_requests_total")
    assert by(requests, "destination_version") == {"v1": seen.count("v1"), "v2": seen.count("v2")}
    assert total(requests) == 400
    assert abs(seen.count("v1") - 320) <= 2


ERRORS = tutorial_istio("""\
  - match:
    - uri:
        prefix: /shark
    route:
    - destination:
        host: nodejs
        subset: v1
      weight: 80
    - destination:
        host: nodejs
        subset: v2
      weight: 20
  - match:
    - uri:
        prefix: /empty
    route:
    - destination:
        host: nodejs
        subset: empty
  - match:
    - uri:
        prefix: /refused
    route:
    - destination:
        host: nodejs
        subset: refused
  - match:
    - uri:
        prefix: /reset
    route:
    - destination:
        host: nodejs
        subset: reset
  - match:
    - uri:
        prefix: /garbage
    route:
    - destination:
        host: nodejs
        subset: garbage
""", {'v1': 'v1', 'v2': 'v2', 'empty': 'v3', 'refused': 'v4', 'reset': 'v5', 'garbage': 'v6'})


def test_error_responses_count_with_envoys_flags(tmp_path, upstreams, start_proxy):
    """404 NR (no route), 503 UH (subset without endpoints), 503 UF,URX (connection refused, retried as Istio's
    default policy says until it gives up), 503 UC (the upstream
    resets the connection), 502 UPE (the upstream answers garbage): each counted exactly, under the labels the
    gateway knows at that point. Endpoints the Deployments' template labels do not match are owned by their
    WorkloadEntry, whose name becomes destination_workload."""
    v1, v2 = upstreams("v1"), upstreams("v2")
    reset, garbage = upstreams("v5", "reset"), upstreams("v6", "garbage")
    config = write_config(tmp_path / "c", {"v1": [v1.port], "v2": [v2.port], "v4": [closed_port()],
                                           "v5": [reset.port], "v6": [garbage.port]}, istio_yaml=ERRORS)
    proxy = start_proxy(config, workers=1)
    plan = {"/shark": (10, 200), "/nowhere": (7, 404), "/empty": (3, 503), "/refused": (4, 503),
            "/reset": (5, 503), "/garbage": (6, 502)}
    for path, (count, status) in plan.items():
        statuses = [request(proxy.port, path).status for _ in range(count)]
        assert statuses == [status] * count, (path, statuses)

    samples = Admin(proxy.admin_port).scrape()
    requests = series(samples, "istio_requests_total")
    got = {(s.labels["response_code"], s.labels["response_flags"], s.labels["destination_version"],
            s.labels["destination_workload"], s.labels["destination_service"]): s.value for s in requests}
    assert got == {
        ("200", "-", "v1", "nodejs-v1", SERVICE): 8,
        ("200", "-", "v2", "nodejs-v2", SERVICE): 2,
        ("404", "NR", "unknown", "unknown", "unknown"): 7,
        ("503", "UH", "unknown", "unknown", SERVICE): 3,
        # Istio's default retry policy tried the refused endpoint 3 times: Envoy adds URX (retry limit exceeded).
        ("503", "UF,URX", "v4", "nodejs-v4-local-0", SERVICE): 4,
        ("503", "UC", "v5", "nodejs-v5-local-0", SERVICE): 5,
        ("502", "UPE", "v6", "nodejs-v6-local-0", SERVICE): 6,
    }, "\n".join(f"{k}: {v}" for k, v in got.items())
    for s in requests:
        assert set(s.labels) == ISTIO_LABELS
        assert {k: s.labels[k] for k in INGRESS_SOURCE} == INGRESS_SOURCE
        code, flags = s.labels["response_code"], s.labels["response_flags"]
        if flags == "NR":
            assert all(s.labels[k] == "unknown" for k in ISTIO_LABELS
                       if k.startswith("destination_")), s.labels
        elif flags == "UH":
            assert {k: s.labels[k] for k in ("destination_service_name", "destination_service_namespace",
                                             "destination_app", "destination_canonical_service")} == \
                {"destination_service_name": "nodejs", "destination_service_namespace": "default",
                 "destination_app": "unknown", "destination_canonical_service": "unknown"}, s.labels
        elif code != "200":
            version = s.labels["destination_version"]
            assert s.labels == {**INGRESS_SOURCE, **destination(version, f"nodejs-{version}-local-0"),
                                "request_protocol": "http", "response_code": code, "grpc_response_status": "",
                                "response_flags": flags}
    check_histograms(samples, requests)
    # the upstreams saw exactly the requests sent their way
    assert (len(v1.seen()), len(v2.seen()), len(reset.seen()), len(garbage.seen())) == (8, 2, 5, 6)


def test_http10_and_a_client_that_resets_are_counted_once(mesh, start_proxy):
    """A request counts once however it ends: an HTTP/1.0 request, and a request whose client resets the connection
    before the (slow) answer, which carries Envoy's DC flag; never twice, never lost."""
    config, v1, v2 = mesh
    proxy = start_proxy(config, workers=1)
    conn = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=10)
    conn._http_vsn, conn._http_vsn_str = 10, "HTTP/1.0"
    conn.request("GET", "/")
    assert conn.getresponse().status == 200
    conn.close()
    with socket.create_connection(("127.0.0.1", proxy.port)) as sock:
        sock.sendall(b"GET /slow?ms=300 HTTP/1.1\r\nHost: x\r\n\r\n")
        wait_until(lambda: received("/slow", v1, v2), "the upstream to receive the slow request")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close() sends RST
    admin = Admin(proxy.admin_port)
    wait_until(lambda: total(admin.metric("istio_requests_total")) >= 2, lambda: admin.metric("istio_requests_total"))
    # Past the upstream's answer, and past the proxy's handling of it: the request must still be counted once.
    slow = next(r for r in v1.seen() + v2.seen() if r.target.startswith("/slow"))
    wait_until(lambda: slow.finished, "the upstream to answer the slow request")
    assert request(proxy.port, "/after").status == 200  # the one worker has handled everything before it
    requests = admin.metric("istio_requests_total")
    flags = {(s.labels["response_code"], s.labels["response_flags"]): s.value for s in requests}
    assert total(requests) == 3, flags
    assert total(requests, response_flags="-") == 2 and total(requests, response_flags="DC") == 1, flags
