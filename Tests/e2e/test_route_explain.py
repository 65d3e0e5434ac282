"""`kanaria route explain` says which route a request matches, why earlier routes did not, and where it is drawn."""

from __future__ import annotations

import subprocess

import pytest

from harness.proxy import write_config

pytestmark = pytest.mark.usefixtures("kanaria_only")

CANARY_FIRST = """\
apiVersion: networking.istio.io/v1beta1
kind: Gateway
metadata:
  name: nodejs-gateway
spec:
  servers:
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: ["*"]
---
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata:
  name: nodejs
spec:
  hosts: ["*"]
  gateways: [nodejs-gateway]
  http:
  - name: testers
    match:
    - headers:
        x-canary: {exact: "yes"}
    route:
    - destination: {host: nodejs, subset: v2}
  - name: everyone
    route:
    - destination: {host: nodejs, subset: v1}
      weight: 80
    - destination: {host: nodejs, subset: v2}
      weight: 20
---
apiVersion: networking.istio.io/v1beta1
kind: DestinationRule
metadata:
  name: nodejs
spec:
  host: nodejs
  subsets:
  - name: v1
    labels: {version: v1}
  - name: v2
    labels: {version: v2}
"""


def explain(kanaria_bin, config_dir, *args):
    done = subprocess.run([str(kanaria_bin), "route", "explain", "-f", str(config_dir), *args],
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def test_explains_a_header_route_and_the_weighted_fallback(tmp_path, kanaria_bin):
    config = write_config(tmp_path / "c", {"v1": [9181], "v2": [9182]}, istio_yaml=CANARY_FIRST)
    lines = explain(kanaria_bin, config.dir, "--path", "/sharks", "-H", "x-canary: no")
    assert 'route 0 "testers" of VirtualService default/nodejs: no match: header x-canary: exact "yes" does not match "no"' in "\n".join(lines)
    assert any('route 1 "everyone"' in l and "matches" in l for l in lines)
    assert any("outbound|8080|v1|nodejs.default.svc.cluster.local  weight 80  share 80%" in l for l in lines)
    assert "draw: smooth weighted round-robin; a fresh worker sends its first requests to v1 v1 v2 v1 v1 (then repeats)" in lines
    assert "endpoints (round-robin): 127.0.0.1:9181 (workload nodejs-v1, version v1)" in lines

    lines = explain(kanaria_bin, config.dir, "-H", "X-Canary: yes")
    assert any('route 0 "testers"' in l and "matches" in l for l in lines)
    assert "first request goes to: outbound|8080|v2|nodejs.default.svc.cluster.local" in lines
