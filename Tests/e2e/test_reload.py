"""SIGHUP reloads the configuration files: new weights apply to the next requests; a configuration with errors is
reported and the running one is kept."""

from __future__ import annotations

import signal
import time

import pytest

from harness.proxy import seed_dir
from test_split import versions_on_one_connection

pytestmark = pytest.mark.usefixtures("kanaria_only")


def _wait_for_line(proxy, text: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in proxy.output.text(last=200):
            return
        time.sleep(0.05)
    raise AssertionError(f"no {text!r} in the proxy's output:\n{proxy.output.text()}")


def test_sighup_applies_new_weights_and_keeps_the_old_on_errors(mesh, start_proxy):
    config, _, _ = mesh
    proxy = start_proxy(config, workers=1)
    assert versions_on_one_connection(proxy.port, 10).count("v2") == 2

    istio = config.dir / "node-istio.yaml"
    seed = (seed_dir() / "node-istio.yaml").read_text()
    assert "weight: 80" in seed and "weight: 20" in seed
    istio.write_text(seed.replace("weight: 80", "weight: 50").replace("weight: 20", "weight: 50"))
    proxy.proc.send_signal(signal.SIGHUP)
    _wait_for_line(proxy, "configuration reloaded")
    assert sorted(versions_on_one_connection(proxy.port, 10)) == ["v1"] * 5 + ["v2"] * 5

    istio.write_text(seed.replace("weight: 80", "wieght: 80"))
    proxy.proc.send_signal(signal.SIGHUP)
    _wait_for_line(proxy, "reload failed")
    output = proxy.output.text(last=200)
    assert 'unknown field "wieght"; did you mean "weight"?' in output
    assert sorted(versions_on_one_connection(proxy.port, 10)) == ["v1"] * 5 + ["v2"] * 5
