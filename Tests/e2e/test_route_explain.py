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


# The policy a request would get: timeout, retries (Istio's default when the route says none), fault, mirrors,
# rewrite, headers, CORS, and the redirect or direct answer. Same Gateway and DestinationRule, other routes.
POLICY_ROUTES = """\
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: nodejs
spec:
  hosts: ["*"]
  gateways: [nodejs-gateway]
  http:
  - name: moved
    match:
    - uri: {prefix: /old}
    redirect:
      uri: /new
      scheme: https
      redirectCode: 308
  - name: teapot
    match:
    - uri: {exact: /teapot}
    directResponse:
      status: 418
      body: {string: "short and stout"}
  - name: api
    match:
    - uri: {prefix: /api}
    rewrite: {uri: /v2}
    timeout: 0.5s
    retries: {attempts: 3, perTryTimeout: 200ms, retryOn: "gateway-error,429"}
    fault:
      abort: {httpStatus: 503, percentage: {value: 0.5}}
    mirrors:
    - destination: {host: nodejs, subset: v2}
      percentage: {value: 50}
    corsPolicy:
      allowOrigins: [{prefix: "https://"}]
      allowMethods: [GET, POST]
      maxAge: 1h
    route:
    - destination: {host: nodejs, subset: v1}
      headers:
        response:
          set: {x-version: v1}
  - name: everyone
    route:
    - destination: {host: nodejs, subset: v1}
"""
_documents = CANARY_FIRST.split("---\n")
POLICIES = "---\n".join([_documents[0], POLICY_ROUTES, _documents[2]])


@pytest.fixture
def policy_config(tmp_path):
    return write_config(tmp_path / "c", {"v1": [9181], "v2": [9182]}, istio_yaml=POLICIES)


def test_default_policy_is_spelled_out(policy_config, kanaria_bin):
    lines = explain(kanaria_bin, policy_config.dir, "--path", "/sharks")
    assert "  timeout: none (Istio's default for a route)" in lines
    assert ("  retries: Istio's default: 2 retries on connect-failure,refused-stream,retriable-status-codes,cancelled,"
            "unavailable; no status codes (503 is not retried by default since istio#52111); no per-try timeout; "
            "each retry to another host when there is one (5 host selection attempts); "
            "back-off 25ms base, 250ms max, fully jittered") in lines
    assert "  fault: none" in lines and "  mirrors: none" in lines


def test_route_policies_and_their_effect_on_the_request(policy_config, kanaria_bin):
    lines = explain(kanaria_bin, policy_config.dir, "--path", "/api/users?id=3", "-H", "Origin: https://app.example")
    assert "  timeout: 500ms, then 504 (response flag UT)" in lines
    assert ("  retries: 3 retries on gateway-error,retriable-status-codes; status codes 429; per-try timeout 200ms; "
            "each retry to another host when there is one (5 host selection attempts); "
            "back-off 25ms base, 250ms max, fully jittered") in lines
    assert "  fault: abort with HTTP 503 for 0.5% of requests (flag FI)" in lines
    assert "  mirrors: outbound|8080|v2|nodejs.default.svc.cluster.local for 50% of requests" in lines
    assert "  rewrite: uri: the matched part → /v2" in lines
    assert ("  headers (to outbound|8080|v1|nodejs.default.svc.cluster.local): request unchanged; "
            "response drop [x-version], append [x-version: v1]") in lines
    assert ('  cors: origins prefix "https://"; methods GET,POST; max age 3600s; '
            "preflights from other origins forwarded") in lines
    assert "upstream path: /v2/users?id=3" in lines
    assert "cors for this request: allowed origin: forwarded, CORS headers added to the answer" in lines


def test_redirect_and_direct_response_answers(policy_config, kanaria_bin):
    lines = explain(kanaria_bin, policy_config.dir, "--path", "/old/page?x=1", "--host", "shop.example")
    assert "  action: redirect 308 to uri /new, scheme https" in lines
    assert lines[-1] == "answer: 308 with Location: https://shop.example/new?x=1"
    lines = explain(kanaria_bin, policy_config.dir, "--path", "/teapot")
    assert "  action: direct response 418 with a 15-byte body" in lines
    assert lines[-1] == 'answer: 418 (direct response) with body "short and stout"'
