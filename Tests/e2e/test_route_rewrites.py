"""Rewrites, header operations and CORS, as Istio's HTTPRoute reference and its CORS task describe them:
what the upstream sees and what the client gets, over HTTP/1.1 and HTTP/2."""

from __future__ import annotations

import http.client

from harness.h2 import H2Client
from harness.proxy import tutorial_istio, write_config

ROUTES = tutorial_istio("""\
  - match:
    - uri:
        prefix: /v1
    rewrite:
      uri: /v2
      authority: backend.internal
    route:
    - destination:
        host: nodejs
        subset: v1
  - match:
    - uri:
        prefix: /headers
    headers:
      request:
        set:
          x-route: "on"
        add:
          x-added: "yes"
        remove:
        - x-secret
      response:
        set:
          x-served-by: kanaria
        remove:
        - x-path
    route:
    - destination:
        host: nodejs
        subset: v1
      headers:
        request:
          set:
            x-destination: v1
        response:
          add:
            x-subset: v1
  - match:
    - uri:
        prefix: /api
    corsPolicy:
      allowOrigins:
      - exact: https://shop.example
      - prefix: https://dev.
      allowMethods:
      - GET
      - POST
      allowHeaders:
      - x-token
      exposeHeaders:
      - x-version
      maxAge: 24h
      allowCredentials: true
    route:
    - destination:
        host: nodejs
        subset: v1
  - route:
    - destination:
        host: nodejs
        subset: v1
""", {"v1": "v1"})


def exchange(port: int, method: str, path: str, headers: dict | None = None) -> tuple[int, dict, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request(method, path, headers=headers or {})
    resp = conn.getresponse()
    body = resp.read().decode()
    fields = {k.lower(): v for k, v in resp.getheaders()}
    conn.close()
    return resp.status, fields, body


def test_uri_and_authority_rewrite(tmp_path, upstreams, start_proxy, kanaria_only):
    """`rewrite: {uri: /v2, authority: backend.internal}` on a `prefix: /v1` match: the upstream sees
    /v2/users?id=3 with Host backend.internal and Envoy's x-envoy-original-path; the same from an h2 client."""
    v1 = upstreams("v1")
    proxy = start_proxy(write_config(tmp_path / "c", {"v1": [v1.port]}, istio_yaml=ROUTES), workers=1)
    assert exchange(proxy.port, "GET", "/v1/users?id=3")[0] == 200
    with H2Client(proxy.port) as client:
        assert client.request("GET", "/v1/orders").status == 200
    first, second = v1.seen()
    assert (first.target, first.header("host"), first.header("x-envoy-original-path")) == \
        ("/v2/users?id=3", "backend.internal", "/v1/users?id=3")
    assert (second.target, second.header("host")) == ("/v2/orders", "backend.internal")
    assert exchange(proxy.port, "GET", "/other")[0] == 200
    assert v1.seen()[-1].target == "/other" and v1.seen()[-1].header("x-envoy-original-path") is None


def test_request_and_response_header_operations(tmp_path, upstreams, start_proxy, kanaria_only):
    """Route then destination operations, in Istio's order: the upstream sees x-route set (the client's value
    replaced), x-added added, x-secret removed, x-destination set; the client sees x-served-by set, the
    upstream's x-path removed and x-subset added. Over HTTP/1.1 and HTTP/2."""
    v1 = upstreams("v1")
    proxy = start_proxy(write_config(tmp_path / "c", {"v1": [v1.port]}, istio_yaml=ROUTES), workers=1)
    status, fields, _ = exchange(proxy.port, "GET", "/headers",
                                 {"x-route": "client", "x-secret": "s3cret", "x-kept": "1"})
    assert status == 200
    assert (fields.get("x-served-by"), fields.get("x-subset"), "x-path" in fields) == ("kanaria", "v1", False)
    seen = v1.seen()[0]
    assert seen.all("x-route") == ["on"]
    assert (seen.header("x-added"), seen.header("x-destination"), seen.header("x-kept")) == ("yes", "v1", "1")
    assert seen.header("x-secret") is None

    with H2Client(proxy.port) as client:
        resp = client.request("GET", "/headers", headers=[("x-secret", "s3cret")])
    assert (resp.status, resp.header("x-served-by"), resp.header("x-subset"), resp.header("x-path")) == \
        (200, "kanaria", "v1", None)
    assert v1.seen()[1].header("x-secret") is None and v1.seen()[1].header("x-route") == "on"


def test_cors_preflight_and_actual_requests(tmp_path, upstreams, start_proxy, kanaria_only):
    """Envoy's CORS filter as Istio configures it: a preflight from an allowed origin is answered at the proxy with
    the policy's headers; an actual request from an allowed origin gets allow-origin, credentials and expose
    headers on the upstream's answer; other origins get nothing added, and their preflight goes upstream."""
    v1 = upstreams("v1")
    proxy = start_proxy(write_config(tmp_path / "c", {"v1": [v1.port]}, istio_yaml=ROUTES), workers=1)
    preflight = {"origin": "https://shop.example", "access-control-request-method": "POST"}
    status, fields, body = exchange(proxy.port, "OPTIONS", "/api/cart", preflight)
    assert (status, body) == (200, "")
    assert fields["access-control-allow-origin"] == "https://shop.example"
    assert (fields["access-control-allow-methods"], fields["access-control-allow-headers"]) == ("GET,POST", "x-token")
    assert (fields["access-control-max-age"], fields["access-control-allow-credentials"]) == ("86400", "true")
    assert v1.seen() == []

    status, fields, _ = exchange(proxy.port, "GET", "/api/cart", {"origin": "https://dev.shop.example"})
    assert status == 200
    assert (fields["access-control-allow-origin"], fields["access-control-expose-headers"]) == \
        ("https://dev.shop.example", "x-version")

    status, fields, _ = exchange(proxy.port, "GET", "/api/cart", {"origin": "https://evil.example"})
    assert status == 200 and "access-control-allow-origin" not in fields
    exchange(proxy.port, "OPTIONS", "/api/cart", {"origin": "https://evil.example",
                                                  "access-control-request-method": "POST"})
    assert [r.method for r in v1.seen()] == ["GET", "GET", "OPTIONS"]

    with H2Client(proxy.port) as client:
        resp = client.request("OPTIONS", "/api/cart", headers=[("origin", "https://shop.example"),
                                                                ("access-control-request-method", "GET")])
    assert (resp.status, resp.header("access-control-allow-origin")) == (200, "https://shop.example")
    assert len(v1.seen()) == 3
