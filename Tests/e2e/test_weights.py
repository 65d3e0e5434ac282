"""Live weight changes (`POST /weights`, what the dashboard's Apply button sends): the next requests follow the new
split, no request fails while it changes, /config_dump shows it, and a reload of the files (`POST /reload` or SIGHUP)
replaces it with what the files say, as the page and the README promise. Invalid changes are refused and change
nothing."""

from __future__ import annotations

import http.client
import json
import signal
import subprocess
import threading
import time

import pytest

from harness.admin import Admin
from harness.proxy import seed_dir, write_config
from test_split import versions_on_one_connection

pytestmark = pytest.mark.usefixtures("kanaria_only")

UNTIL = "the next reload of the files, which replaces them"


class SteadyClient:
    """Sends requests back to back on one keep-alive connection until stopped; records for each the moment it was
    sent, its status and version. Any failure (status, closed connection, exception) is kept."""

    def __init__(self, port: int):
        self.port = port
        self.sent: list[tuple[float, int, str]] = []
        self.failures: list = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> "SteadyClient":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def _run(self) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            i = 0
            while not self._stop.is_set():
                started = time.monotonic()
                conn.request("GET", f"/steady?i={i}")
                resp = conn.getresponse()
                body = resp.read()
                self.sent.append((started, resp.status, resp.getheader("x-version")))
                if resp.status != 200 or resp.will_close:
                    self.failures.append((i, resp.status, resp.will_close, body[:200]))
                    return
                i += 1
        except Exception as e:  # noqa: BLE001 - reported by the test
            self.failures.append(e)
        finally:
            conn.close()

    def wait_for(self, count: int, after: float = 0.0, timeout: float = 20) -> list[str]:
        """The versions of the first `count` requests sent after `after` (a time.monotonic())."""
        deadline = time.monotonic() + timeout
        while True:
            later = [v for t, _, v in list(self.sent) if t > after]
            if len(later) >= count:
                return later[:count]
            assert not self.failures, self.failures
            assert time.monotonic() < deadline, f"only {len(later)} requests in {timeout}s"
            time.sleep(0.01)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(15)


def weights(dump: dict, route: int = 0) -> list[int]:
    return [d["weight"] for d in dump["routes"][route]["destinations"]]


def test_weight_change_applies_to_the_next_requests_without_a_failure(proxy):
    """While a client sends back to back, POST /weights 50/50: the next 100 requests split 50/50 exactly, none
    fails; /config_dump shows the change until POST /reload puts the files' 80/20 back."""
    proxy, _, _ = proxy  # default workers
    admin = Admin(proxy.admin_port)
    before = admin.json("/config_dump")
    assert (weights(before), before["generation"], before["liveWeightChanges"]) == ([80, 20], 1, [])
    assert before["liveWeightChangesLastUntil"] == UNTIL

    with SteadyClient(proxy.port) as client:
        old = client.wait_for(100)
        assert (old.count("v1"), old.count("v2")) == (80, 20)
        answer = admin.post("/weights", {"route": 0, "weights": [50, 50]})
        changed_at = time.monotonic()
        assert answer.status == 200, answer.body
        new = client.wait_for(100, after=changed_at)
        assert (new.count("v1"), new.count("v2")) == (50, 50), "".join(v[1] for v in new)
        dump = admin.json("/config_dump")
        assert weights(dump) == [50, 50]
        assert [d["share"] for d in dump["routes"][0]["destinations"]] == [0.5, 0.5]
        assert dump["liveWeightChanges"] == [{"route": 0, "weights": [50, 50]}]
        assert dump["generation"] == 2
        assert dump["liveWeightChangesLastUntil"] == UNTIL
        assert weights(admin.json("/weights")) == [50, 50] and weights(admin.json("/routes")) == [50, 50]

        reload = admin.post("/reload")
        reloaded_at = time.monotonic()
        assert reload.status == 200, reload.body
        outcome = json.loads(reload.body)
        assert (outcome["applied"], outcome["generation"]) == (True, 3), outcome
        assert "configuration reloaded (generation 3)" in outcome["messages"], outcome
        again = client.wait_for(100, after=reloaded_at)
        assert (again.count("v1"), again.count("v2")) == (80, 20), "".join(v[1] for v in again)
    assert not client.failures, client.failures
    assert all(status == 200 for _, status, _ in client.sent)
    dump = admin.json("/config_dump")
    assert (weights(dump), dump["liveWeightChanges"], dump["generation"]) == ([80, 20], [], 3)
    reloads = {s.labels["result"]: s.value for s in admin.metric("kanaria_config_reloads_total")}
    assert reloads == {"success": 1, "failure": 0}
    assert admin.metric("kanaria_config_generation")[0].value == 3


def test_sighup_replaces_a_live_weight_change(mesh, start_proxy):
    config, _, _ = mesh
    proxy = start_proxy(config, workers=1)
    admin = Admin(proxy.admin_port)
    assert admin.post("/weights", {"route": 0, "weights": [0, 1]}).status == 200
    assert versions_on_one_connection(proxy.port, 10) == ["v2"] * 10
    proxy.proc.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 10
    while admin.json("/config_dump")["liveWeightChanges"]:
        assert time.monotonic() < deadline, "SIGHUP did not replace the live weight change"
        time.sleep(0.05)
    assert weights(admin.json("/config_dump")) == [80, 20]
    versions = versions_on_one_connection(proxy.port, 100)
    assert (versions.count("v1"), versions.count("v2")) == (80, 20)


@pytest.mark.parametrize("body,status,message", [
    ({"route": 0, "weights": [-10, 110]}, 422, "weights must not be negative"),
    ({"route": 0, "weights": [100]}, 422, "the route has 2 destinations, 1 weights were given"),
    ({"route": 0, "weights": [50, 50, 0]}, 422, "the route has 2 destinations, 3 weights were given"),
    ({"route": 0, "weights": [0, 0]}, 422, "the weights must not add up to 0"),
    ({"route": 7, "weights": [50, 50]}, 422, "there is no route 7"),
    ({"route": 0, "weights": [2**62, 2**62]}, 422, "is larger than 2147483647"),
    ({"route": 0, "weights": [2**31, 1]}, 422, "is larger than 2147483647"),
    ({"route": 0, "weights": [1.5, 2]}, 400, '{"route": 0, "weights": [50, 50]}'),
    ({"weights": [50, 50]}, 400, '{"route": 0, "weights": [50, 50]}'),
    (b"route=0&weights=50,50", 400, '{"route": 0, "weights": [50, 50]}'),
], ids=["negative", "too-few", "too-many", "zero-total", "no-such-route", "overflow",
        "over-int32", "fraction", "no-route", "not-json"])
def test_invalid_weight_changes_are_refused_and_change_nothing(mesh, start_proxy, body, status, message):
    config, _, _ = mesh
    proxy = start_proxy(config, workers=1)
    admin = Admin(proxy.admin_port)
    before = admin.get("/config_dump").body
    answer = admin.post("/weights", body)
    assert answer.status == status, answer.body
    assert message in answer.body.decode(), answer.body
    assert admin.get("/config_dump").body == before
    versions = versions_on_one_connection(proxy.port, 50)
    assert (versions.count("v1"), versions.count("v2")) == (40, 10)


def test_weights_beyond_int32_in_a_file_are_a_diagnostic_not_a_crash(kanaria_bin, tmp_path):
    seed = (seed_dir() / "node-istio.yaml").read_text()
    huge = seed.replace("weight: 80", "weight: 9223372036854775807").replace("weight: 20", "weight: 9223372036854775807")
    config = write_config(tmp_path / "c", {"v1": [1], "v2": [2]}, istio_yaml=huge)
    out = subprocess.run([str(kanaria_bin), "validate", "-f", str(config.dir)], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 1, (out.returncode, out.stderr[-500:])
    assert "node-istio.yaml:30: VirtualService/nodejs: weight 9223372036854775807 is larger than 2147483647, " \
           "the largest Istio accepts [IST0106]" in out.stdout, out.stdout
