"""The admin API on `--admin`: /ready, /config_dump (the compiled configuration), /clusters in Envoy's text form and
as JSON, /routes, POST /reload (a broken file is refused with its diagnostic and the proxy keeps serving), and
plain HTTP answers for unknown paths (404) and wrong methods (405)."""

from __future__ import annotations

import http.client
import json

import pytest

from harness.admin import Admin
from harness.client import request
from harness.proxy import seed_dir, seed_istio_with_load_balancer, write_config
from harness.upstream import closed_port
from test_split import versions_on_one_connection

pytestmark = pytest.mark.usefixtures("kanaria_only")

SERVICE = "nodejs.default.svc.cluster.local"
V1, V2 = f"outbound|8080|v1|{SERVICE}", f"outbound|8080|v2|{SERVICE}"


def test_ready_says_live(proxy):
    proxy, _, _ = proxy
    admin = Admin(proxy.admin_port)
    ready = admin.get("/ready")
    assert (ready.status, ready.body) == (200, b"LIVE\n")
    assert request(proxy.admin_port, "/ready", method="HEAD").status == 200


def test_config_dump_is_the_compiled_configuration(mesh, start_proxy):
    config, v1, v2 = mesh
    proxy = start_proxy(config)
    dump = Admin(proxy.admin_port).json("/config_dump")
    assert dump["generation"] == 1
    assert dump["sources"] == [str(config.dir)]
    assert dump["liveWeightChanges"] == []
    assert dump["listeners"] == [{"port": 80, "gateway": "default/nodejs-gateway",
                                  "virtualHosts": [{"domains": ["*"], "routes": [0]}]}]
    assert len(dump["routes"]) == 1
    route = dump["routes"][0]
    assert (route["index"], route["virtualService"], route["matches"]) == (0, "default/nodejs", [])
    assert route["destinations"] == [
        {"cluster": V1, "host": SERVICE, "subset": "v1", "weight": 80, "share": 0.8},
        {"cluster": V2, "host": SERVICE, "subset": "v2", "weight": 20, "share": 0.2},
    ]
    assert dump["clusters"] == [
        {"name": V1, "service": SERVICE, "subset": "v1", "port": 8080, "protocol": "http1",
         "endpoints": [f"127.0.0.1:{v1.port}"]},
        {"name": V2, "service": SERVICE, "subset": "v2", "port": 8080, "protocol": "http1",
         "endpoints": [f"127.0.0.1:{v2.port}"]},
    ]
    assert sorted(dump["endpoints"], key=lambda e: e["port"]) == sorted([
        {"address": "127.0.0.1", "port": v1.port, "workload": "nodejs-v1", "namespace": "default",
         "labels": {"app": "nodejs", "version": "v1"}},
        {"address": "127.0.0.1", "port": v2.port, "workload": "nodejs-v2", "namespace": "default",
         "labels": {"app": "nodejs", "version": "v2"}},
    ], key=lambda e: e["port"])
    routes = Admin(proxy.admin_port).json("/routes")
    assert routes == {"generation": 1, "routes": dump["routes"]}
    assert Admin(proxy.admin_port).json("/weights") == routes


def send_50(port: int) -> None:
    """10 requests on fresh connections and 40 on keep-alive ones (a new one after a 503 that closes)."""
    statuses = [request(port, "/").status for _ in range(10)]
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    for _ in range(40):
        conn.request("GET", "/")
        resp = conn.getresponse()
        resp.read()
        statuses.append(resp.status)
        if resp.will_close:
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.close()
    assert sorted(statuses) == [200] * 40 + [503] * 10, statuses


def cluster_stats(admin: Admin) -> dict[tuple[str, str], dict[str, str]]:
    text = admin.get("/clusters")
    assert text.status == 200 and text.header("content-type").startswith("text/plain")
    stats: dict[tuple[str, str], dict[str, str]] = {}
    for line in text.body.decode().splitlines():
        cluster, address, stat, value = line.split("::")
        stats.setdefault((cluster, address), {})[stat] = value
    return stats


def test_clusters_count_requests_per_endpoint_in_envoys_form(tmp_path, upstreams, start_proxy):
    """A v1 endpoint and a v2 endpoint that refuses connections: of 50 requests, 40 reached v1 and 10 failed on
    v2, and /clusters says so in Envoy's `CLUSTER::HOST::STAT::VALUE` lines (and as JSON)."""
    v1 = upstreams("v1")
    refused = closed_port()
    proxy = start_proxy(write_config(tmp_path / "c", {"v1": [v1.port], "v2": [refused]}), workers=1)
    send_50(proxy.port)
    admin = Admin(proxy.admin_port)
    stats = cluster_stats(admin)
    a, r = f"127.0.0.1:{v1.port}", f"127.0.0.1:{refused}"
    assert set(stats) == {(V1, a), (V2, r)}, sorted(stats)
    assert stats[(V1, a)] == {"health_flags": "healthy", "rq_total": "40", "rq_error": "0",
                              "cx_opened": str(v1.accepts), "cx_reused": str(40 - v1.accepts),
                              "workload": "nodejs-v1", "version": "v1"}
    refused_stats = {k: v for k, v in stats[(V2, r)].items() if not k.startswith("cx_")}  # (attempts count there)
    assert refused_stats == {"health_flags": "healthy", "rq_total": "10", "rq_error": "10", "workload": "nodejs-v2",
                             "version": "v2"}
    lines = admin.get("/clusters").body.decode().splitlines()
    assert f"{V1}::{a}::rq_total::40" in lines and f"{V2}::{r}::rq_total::10" in lines

    clusters = admin.json("/clusters?format=json")["clusters"]
    assert [c["name"] for c in clusters] == [V1, V2]
    by_address = {e["address"]: e for c in clusters for e in c["endpoints"]}
    assert {k: (v["requests"], v["errors"], v["health"], v["version"], v["workload"]) for k, v in by_address.items()} \
        == {a: (40, 0, "healthy", "v1", "nodejs-v1"), r: (10, 10, "healthy", "v2", "nodejs-v2")}


def test_clusters_count_each_host_of_a_workload_apart(tmp_path, upstreams, start_proxy):
    v1a, v1b = upstreams("v1"), upstreams("v1")
    refused = closed_port()
    proxy = start_proxy(write_config(tmp_path / "c", {"v1": [v1a.port, v1b.port], "v2": [refused]},
                                     istio_yaml=seed_istio_with_load_balancer("ROUND_ROBIN")), workers=1)
    send_50(proxy.port)
    stats = cluster_stats(Admin(proxy.admin_port))
    assert (stats[(V1, f"127.0.0.1:{v1a.port}")]["rq_total"], stats[(V1, f"127.0.0.1:{v1b.port}")]["rq_total"]) \
        == ("20", "20")


def test_clusters_lists_a_subset_without_endpoints(tmp_path, upstreams, start_proxy):
    v1 = upstreams("v1")
    proxy = start_proxy(write_config(tmp_path / "c", {"v1": [v1.port]}), workers=1)
    lines = Admin(proxy.admin_port).get("/clusters").body.decode().splitlines()
    assert f"{V2}::no endpoints (503 no healthy upstream)" in lines, lines
    assert f"{V1}::127.0.0.1:{v1.port}::rq_total::0" in lines, lines


def test_reload_refuses_a_broken_file_with_its_diagnostic_and_keeps_serving(mesh, start_proxy):
    config, _, _ = mesh
    proxy = start_proxy(config, workers=1)
    admin = Admin(proxy.admin_port)
    istio = config.dir / "node-istio.yaml"
    seed = (seed_dir() / "node-istio.yaml").read_text()
    istio.write_text(seed.replace("weight: 20", "wieght: 20"))
    answer = admin.post("/reload")
    assert answer.status == 422, answer.body
    outcome = json.loads(answer.body)
    assert (outcome["applied"], outcome["generation"]) == (False, 1), outcome
    line = next(i for i, l in enumerate(istio.read_text().splitlines(), 1) if "wieght" in l)
    assert any(m.startswith(f"{istio}:{line}:") and 'unknown field "wieght"; did you mean "weight"?' in m
               for m in outcome["messages"]), outcome["messages"]
    assert outcome["messages"][-1] == "reload failed; still serving the previous configuration"
    versions = versions_on_one_connection(proxy.port, 100)
    assert (versions.count("v1"), versions.count("v2")) == (80, 20)
    assert admin.json("/config_dump")["generation"] == 1
    reloads = {s.labels["result"]: s.value for s in admin.metric("kanaria_config_reloads_total")}
    assert reloads == {"success": 0, "failure": 1}

    istio.write_text(seed.replace("weight: 80", "weight: 50").replace("weight: 20", "weight: 50"))
    answer = admin.post("/reload")
    assert answer.status == 200, answer.body
    assert json.loads(answer.body)["applied"] is True
    versions = versions_on_one_connection(proxy.port, 100)
    assert (versions.count("v1"), versions.count("v2")) == (50, 50)
    assert admin.json("/config_dump")["generation"] == 2


@pytest.mark.parametrize("method,path,status", [
    ("GET", "/nope", 404), ("GET", "/stats", 404), ("GET", "/config_dump/x", 404), ("POST", "/nope", 404),
    ("POST", "/ready", 405), ("GET", "/reload", 405), ("DELETE", "/weights", 405), ("PUT", "/config_dump", 405),
    ("POST", "/stats/prometheus", 405), ("POST", "/clusters", 405), ("POST", "/dashboard", 405),
    ("POST", "/api/split", 405), ("POST", "/routes", 405),
])
def test_unknown_paths_and_wrong_methods(proxy, method, path, status):
    proxy, _, _ = proxy
    answer = request(proxy.admin_port, path, method=method)
    assert answer.status == status, (method, path, answer.status, answer.body)
    # and the admin port still answers afterwards
    assert request(proxy.admin_port, "/ready").status == 200
