"""`kanaria route explain` shows the DestinationRule traffic policy of the cluster a request goes to."""

from __future__ import annotations

import pytest

from harness.proxy import write_config
from test_route_explain import CANARY_FIRST, explain

pytestmark = pytest.mark.usefixtures("kanaria_only")

# test_route_explain's canary (x-canary: yes → v2, else 80/20), with Istio's circuit-breaking task and a cookie
# hash on subset v1; v2 keeps Istio's defaults.
CIRCUIT_BREAKING = CANARY_FIRST.replace("""\
  - name: v1
    labels: {version: v1}
""", """\
  - name: v1
    labels: {version: v1}
    trafficPolicy:
      connectionPool:
        tcp: {maxConnections: 1}
        http: {http1MaxPendingRequests: 1, maxRequestsPerConnection: 1}
      outlierDetection: {consecutive5xxErrors: 1, interval: 1s, baseEjectionTime: 3m, maxEjectionPercent: 100}
      loadBalancer:
        consistentHash:
          httpCookie: {name: user, path: /, ttl: 1h}
""")


def test_explains_the_subsets_policy(tmp_path, kanaria_bin):
    config = write_config(tmp_path / "c", {"v1": [9181], "v2": [9182]}, istio_yaml=CIRCUIT_BREAKING)
    lines = explain(kanaria_bin, config.dir, "--path", "/sharks", "-H", "x-canary: no")
    at = lines.index("traffic policy of outbound|8080|v1|nodejs.default.svc.cluster.local:")
    assert lines[at + 1:at + 5] == [
        "  load balancer: consistent hash by cookie user, path /, set for 1h when absent; ring hash, at least 1024 entries",
        "  connection pool: maxConnections 1, http1MaxPendingRequests 1, http2MaxRequests unlimited, "
        "maxRequestsPerConnection 1, maxRetries unlimited, connectTimeout 10s, idleTimeout 1h; overflow answers 503 (flag UO)",
        "  outlier detection: eject after 1 consecutive 5xx; sweep every 1s; ejected for 3m × times ejected (at most 5m); "
        "at most 100% of endpoints ejected; all endpoints used below 0% healthy",
        "  tls: DISABLE (plain text)",
    ]


def test_a_subset_without_policy_gets_istios_defaults(tmp_path, kanaria_bin):
    config = write_config(tmp_path / "c", {"v1": [9181], "v2": [9182]}, istio_yaml=CIRCUIT_BREAKING)
    lines = explain(kanaria_bin, config.dir, "--path", "/sharks", "-H", "x-canary: yes")
    at = lines.index("traffic policy of outbound|8080|v2|nodejs.default.svc.cluster.local:")
    assert lines[at + 1] == "  load balancer: LEAST_REQUEST (the fewer requests in flight of two endpoints drawn at random)"
    assert lines[at + 3] == "  outlier detection: off (no endpoint is ever ejected)"
