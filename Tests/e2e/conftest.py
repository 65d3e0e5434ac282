"""Fixtures for Kanaria's end-to-end tests: the real binary, upstream servers on loopback, generated configs.

The proxy under test is the kanaria binary at $KANARIA_BIN, else <repo>/.build/debug/kanaria; if it is missing the
tests fail with a message saying so (nothing is skipped). E2E_PROXY=nginx puts nginx in its place to check the
harness itself; tests of Kanaria-only behaviour then skip with a reason (see README.md).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from harness.proxy import REPO, Kanaria, MeshConfig, Nginx, ProxyProcess, write_config
from harness.upstream import Upstream

PEER = os.environ.get("E2E_PROXY", "kanaria")
assert PEER in ("kanaria", "nginx"), f"E2E_PROXY must be kanaria or nginx, not {PEER!r}"


def kanaria_path() -> Path:
    return Path(os.environ.get("KANARIA_BIN") or REPO / ".build" / "debug" / "kanaria")


@pytest.fixture(scope="session")
def kanaria_bin() -> Path:
    """The kanaria executable; fails (does not skip) when it is missing."""
    path = kanaria_path()
    if PEER != "kanaria":
        pytest.skip(f"E2E_PROXY={PEER}: this test needs the kanaria binary itself")
    if not (path.is_file() and os.access(path, os.X_OK)):
        pytest.fail(f"kanaria binary not found at {path}: run `swift build` first (scripts/test does), "
                    f"or point KANARIA_BIN at one", pytrace=False)
    return path


@pytest.fixture
def kanaria_only():
    """Marks a test whose behaviour only Kanaria has (Istio/Envoy semantics); skipped, with a reason, under
    E2E_PROXY=nginx and never otherwise."""
    if PEER != "kanaria":
        pytest.skip(f"E2E_PROXY={PEER}: Kanaria-specific behaviour")


@pytest.fixture
def upstreams():
    """Factory: upstreams("v1") starts an upstream answering as v1; all are stopped after the test."""
    started: list[Upstream] = []

    def start(version: str = "v1", behaviour: str = "ok") -> Upstream:
        up = Upstream(version, behaviour).start()
        started.append(up)
        return up

    yield start
    for up in started:
        up.stop()


@pytest.fixture
def mesh(tmp_path, upstreams):
    """The tutorial's topology: upstreams v1 and v2, the seed manifests plus their WorkloadEntries.
    Returns (config, v1, v2)."""
    v1, v2 = upstreams("v1"), upstreams("v2")
    config = write_config(tmp_path / "config", {"v1": [v1.port], "v2": [v2.port]})
    return config, v1, v2


@pytest.fixture
def start_proxy(tmp_path, request, upstreams):
    """Factory: start_proxy(config, workers=None, split=None) runs the proxy under test on 127.0.0.1:<ephemeral>.
    After the test every proxy still running gets SIGTERM and must exit 0; a crash fails the test. (It depends on
    `upstreams` so that proxies stop before their upstreams.)"""
    running: list[ProxyProcess] = []

    def start(config: MeshConfig, workers: int | None = None, split: str | None = None,
              extra_args: tuple[str, ...] = ()) -> ProxyProcess:
        if PEER == "nginx":
            if config.custom or split or extra_args or sorted(config.endpoints) != ["v1", "v2"] \
                    or any(len(p) != 1 for p in config.endpoints.values()):
                pytest.skip("E2E_PROXY=nginx: the nginx stand-in only follows the seed topology")
            proxy: ProxyProcess = Nginx(config, tmp_path / f"nginx{len(running)}", workers)
        else:
            proxy = Kanaria(request.getfixturevalue("kanaria_bin"), config, workers, split, extra_args)
        running.append(proxy)
        return proxy

    yield start
    problems = []
    for proxy in running:
        try:
            proxy.stop()
        except AssertionError as e:
            problems.append(str(e))
        finally:
            proxy.kill()
    if problems:
        pytest.fail("\n\n".join(problems), pytrace=False)


@pytest.fixture
def proxy(mesh, start_proxy):
    """The proxy with the seed topology and default workers. Returns (proxy, v1, v2)."""
    config, v1, v2 = mesh
    return start_proxy(config), v1, v2
