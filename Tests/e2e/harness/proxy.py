"""The proxy under test as a child process: configuration files, start-up, readiness, shutdown.

`write_config` writes the tutorial's seed manifests (unchanged, or with the Istio part replaced) plus WorkloadEntries
for upstreams the test started. `Kanaria` runs the real binary (`kanaria run -f DIR --listen 80=127.0.0.1:0 …`),
reads the bound port from its stderr line `… listening on 127.0.0.1:PORT`, and on stop sends SIGTERM and checks that
it exits 0. `Nginx` stands in for the proxy when E2E_PROXY=nginx, to check the harness itself against a known-good
weighted proxy (see README.md).
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
ADMIN = re.compile(r"admin listening on ([0-9.]+):(\d+)")
LISTENING = re.compile(r"gateway port (\d+) listening on ([0-9.]+):(\d+)|listening on ([0-9.]+):(\d+)")


def seed_dir() -> Path:
    """Where the tutorial's two manifests are: $KANARIA_SEED_DIR, the repo's config/, or ../shared/seed."""
    candidates = [Path(os.environ["KANARIA_SEED_DIR"])] if os.environ.get("KANARIA_SEED_DIR") else []
    candidates += [REPO / "config", REPO.parent / "shared" / "seed"]
    for d in candidates:
        if (d / "node-app.yaml").is_file() and (d / "node-istio.yaml").is_file():
            return d
    raise FileNotFoundError("the tutorial's node-app.yaml and node-istio.yaml were not found in any of: "
                            + ", ".join(str(c) for c in candidates))


def workload_entries(endpoints: dict[str, list[int]], app: str = "nodejs") -> str:
    """WorkloadEntries for loopback upstreams: {"v1": [port, …], "v2": [port, …]}."""
    docs = []
    for version, ports in endpoints.items():
        for i, port in enumerate(ports):
            docs.append(f"""apiVersion: networking.istio.io/v1beta1
kind: WorkloadEntry
metadata:
  name: {app}-{version}-local-{i}
spec:
  address: 127.0.0.1
  ports:
    http: {port}
  labels:
    app: {app}
    version: {version}
""")
    return "---\n".join(docs)


@dataclass
class MeshConfig:
    dir: Path
    endpoints: dict[str, list[int]]
    custom: bool  # the Istio documents are not the seed's (an nginx stand-in cannot follow them)


def write_config(directory: Path, endpoints: dict[str, list[int]], istio_yaml: str | None = None) -> MeshConfig:
    """Writes node-app.yaml and node-istio.yaml (the seed's, or `istio_yaml` instead of the latter) and
    workloads.yaml (left out when there are no endpoints) into `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    seed = seed_dir()
    (directory / "node-app.yaml").write_bytes((seed / "node-app.yaml").read_bytes())
    if istio_yaml is None:
        (directory / "node-istio.yaml").write_bytes((seed / "node-istio.yaml").read_bytes())
    else:
        (directory / "node-istio.yaml").write_text(istio_yaml)
    if any(endpoints.values()):
        (directory / "workloads.yaml").write_text(workload_entries(endpoints))
    return MeshConfig(directory, endpoints, custom=istio_yaml is not None)


class OutputReader:
    """Drains a child's stdout and stderr on threads (so it never blocks on a full pipe) and keeps the lines."""

    def __init__(self, proc: subprocess.Popen):
        self.lines: list[str] = []
        self.stdout: list[str] = []  # the same lines, by stream
        self.stderr: list[str] = []
        self._cond = threading.Condition()
        self._threads = [threading.Thread(target=self._pump, args=(s, own), daemon=True)
                         for s, own in ((proc.stdout, self.stdout), (proc.stderr, self.stderr)) if s is not None]
        for t in self._threads:
            t.start()

    def _pump(self, stream, own: list[str]) -> None:
        for raw in iter(stream.readline, b""):
            with self._cond:
                line = raw.decode("utf-8", "replace").rstrip("\n")
                self.lines.append(line)
                own.append(line)
                self._cond.notify_all()

    def wait_for(self, predicate, timeout: float, proc: subprocess.Popen):
        """Waits until predicate(lines) returns something truthy; None on timeout or if the process exits."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = predicate(self.lines)
                if found:
                    return found
                if proc.poll() is not None or time.monotonic() >= deadline:
                    return None
                self._cond.wait(0.1)

    def join(self, timeout: float = 2) -> None:
        for t in self._threads:
            t.join(timeout)

    def text(self, last: int = 60) -> str:
        with self._cond:
            return "\n".join(self.lines[-last:])


class ProxyProcess:
    """A started proxy: `port` is the gateway's bound port; `stop()` asserts a clean exit."""

    name = "proxy"
    port: int
    proc: subprocess.Popen
    output: OutputReader

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def pids(self) -> list[int]:
        return [self.proc.pid]

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15) -> int:
        """Sends `sig` and waits; fails if the process had already died or does not exit 0 in time."""
        if getattr(self, "_stopped", False):
            return self.proc.returncode
        self._stopped = True
        early = self.proc.poll()
        if early is not None:
            self.output.join()
            raise AssertionError(f"{self.name} exited on its own with status {early} before it was stopped "
                                 f"(crash?). Its output:\n{self.output.text()}")
        self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"{self.name} did not exit within {timeout}s of signal {sig}. "
                                 f"Its output:\n{self.output.text()}")
        self.output.join()
        if rc != 0:
            raise AssertionError(f"{self.name} exited with status {rc} after signal {sig}, expected 0. "
                                 f"Its output:\n{self.output.text()}")
        return rc

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


class Kanaria(ProxyProcess):
    name = "kanaria"

    def __init__(self, binary: Path, config: MeshConfig, workers: int | None = None, split: str | None = None,
                 extra_args: tuple[str, ...] = (), ready_timeout: float = 30):
        self.argv = [str(binary), "run", "-f", str(config.dir), "--listen", "80=127.0.0.1:0"]
        if not any(arg == "--admin" for arg in extra_args):
            self.argv += ["--admin", "127.0.0.1:0"]  # Envoy's 15000 would clash between proxies
        if workers is not None:
            self.argv += ["--workers", str(workers)]
        if split is not None:
            self.argv += ["--split", split]
        self.argv += list(extra_args)
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        self.output = OutputReader(self.proc)

        def listening(lines):
            for line in lines:
                m = LISTENING.search(line)
                if m and "gateway port" in line:
                    return int(m.group(3))
            return None

        port = self.output.wait_for(listening, ready_timeout, self.proc)
        if port is None:
            state = f"exited with status {self.proc.returncode}" if self.proc.poll() is not None \
                else f"printed no 'gateway port 80 listening on ADDR:PORT' line within {ready_timeout}s"
            self.kill()
            self.output.join()
            raise AssertionError(f"kanaria {state}.\ncommand: {' '.join(self.argv)}\noutput:\n{self.output.text()}")
        self.port = port
        admin = ADMIN.search(self.output.text(last=200))
        self.admin_port = int(admin.group(2)) if admin else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, proc: subprocess.Popen, timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


class Nginx(ProxyProcess):
    """nginx as an equivalent weighted proxy (smooth weighted round-robin 4:1, upstream keep-alive), used only to
    check the harness (E2E_PROXY=nginx). Follows the seed topology: one v1 and one v2 endpoint."""

    name = "nginx"

    def __init__(self, config: MeshConfig, workdir: Path, workers: int | None = None):
        (v1,), (v2,) = config.endpoints["v1"], config.endpoints["v2"]
        self.port = free_port()
        workdir.mkdir(parents=True, exist_ok=True)
        user = "user root;" if os.geteuid() == 0 else ""
        (workdir / "nginx.conf").write_text(f"""
{user}
worker_processes {workers or os.cpu_count()};
pid {workdir}/nginx.pid;
error_log stderr warn;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  client_body_temp_path {workdir}/client_body; proxy_temp_path {workdir}/proxy;
  fastcgi_temp_path {workdir}/fastcgi; uwsgi_temp_path {workdir}/uwsgi; scgi_temp_path {workdir}/scgi;
  client_max_body_size 0; keepalive_requests 1000000;
  upstream weighted {{
    server 127.0.0.1:{v1} weight=4; server 127.0.0.1:{v2} weight=1;
    keepalive 64; keepalive_requests 1000000;
  }}
  server {{
    listen 127.0.0.1:{self.port} reuseport;
    location / {{
      proxy_pass http://weighted; proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_request_buffering off; proxy_buffering off;
    }}
  }}
}}
""")
        self.proc = subprocess.Popen(["nginx", "-p", str(workdir), "-c", str(workdir / "nginx.conf"), "-e", "stderr",
                                      "-g", "daemon off;"], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        self.output = OutputReader(self.proc)
        if not wait_port(self.port, self.proc):
            self.kill()
            raise AssertionError(f"nginx did not start:\n{self.output.text()}")


def _seed_gateway_and_routes_head() -> str:
    """The tutorial's Gateway and the head of its VirtualService `nodejs`, up to `http:`, from the seed file."""
    seed = (seed_dir() / "node-istio.yaml").read_text()
    return seed[:seed.index("  http:\n") + len("  http:\n")]


def tutorial_istio(http_routes: str, subsets: dict[str, str]) -> str:
    """The tutorial's node-istio.yaml with other `http:` routes (YAML, list items at two spaces) and a
    DestinationRule `nodejs` with `subsets` (subset name → its `version` label)."""
    rules = "".join(f"  - name: {name}\n    labels:\n      version: {version}\n" for name, version in subsets.items())
    return (_seed_gateway_and_routes_head() + http_routes
            + "---\napiVersion: networking.istio.io/v1alpha3\nkind: DestinationRule\nmetadata:\n  name: nodejs\n"
            + "spec:\n  host: nodejs\n  subsets:\n" + rules)


def seed_istio_with_load_balancer(simple: str) -> str:
    """The tutorial's node-istio.yaml with `trafficPolicy: {loadBalancer: {simple: …}}` on its DestinationRule
    (Istio's default, LEAST_REQUEST, draws endpoints at random; tests of even spreading ask for ROUND_ROBIN)."""
    seed = (seed_dir() / "node-istio.yaml").read_text()
    return seed.replace("  host: nodejs\n  subsets:",
                        f"  host: nodejs\n  trafficPolicy:\n    loadBalancer:\n      simple: {simple}\n  subsets:")
