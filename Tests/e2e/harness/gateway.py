"""Gateways beyond the tutorial's single HTTP port, for the HTTP/2, TLS and gRPC tests.

A `Topology` says which Gateway servers to serve (port number, protocol HTTP / HTTPS / HTTP2 / GRPC, TLS files,
httpsRedirect), which upstream ports answer as v1 and v2, and how the Service names its port (`http`, `http2-web`,
`grpc`, … or an `appProtocol`): Istio picks the upstream protocol from that name. `write_topology` turns it into
Istio YAML (Gateway, VirtualService with an 80/20 route, DestinationRule, Service, WorkloadEntries).

`GatewayKanaria` runs `kanaria run -f DIR --listen N=127.0.0.1:0` for every server port and reads each bound port
from its `gateway port N listening on ADDR:PORT` lines. Under E2E_PROXY=nginx, `GatewayNginx` builds the same
gateway from the same Topology with nginx 1.22 (`listen … http2` for h2c, `ssl http2` for TLS with ALPN,
`grpc_pass` to HTTP/2 upstreams, upstream weights 4:1), so the tests' clients and checks can be run against a
known-good HTTP/2 proxy. The fixtures `start_gateway` and `backends` are imported by the test modules that use them.
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import pytest

from harness.certs import Certificate
from harness.proxy import LISTENING, ADMIN, OutputReader, ProxyProcess, free_port, wait_port

PEER = os.environ.get("E2E_PROXY", "kanaria")
HTTP2_PORT_PREFIXES = ("http2", "grpc")


@dataclass
class Server:
    """One Gateway server."""

    number: int
    protocol: str = "HTTP"  # HTTP, HTTPS, HTTP2 or GRPC
    tls: Certificate | None = None  # HTTPS: mode SIMPLE with these files
    https_redirect: bool = False  # HTTP: tls.httpsRedirect
    hosts: tuple[str, ...] = ("*",)

    @property
    def name(self) -> str:
        return f"{self.protocol.lower()}-{self.number}"


@dataclass
class Topology:
    servers: list[Server]
    endpoints: dict[str, list[int]]  # version -> upstream ports on 127.0.0.1
    port_name: str = "http"  # the Service port's name, which Istio reads the protocol from
    app_protocol: str | None = None  # the Service port's appProtocol
    weights: tuple[int, int] = (80, 20)
    app: str = "backend"

    @property
    def upstream_http2(self) -> bool:
        """Whether Istio speaks HTTP/2 to the endpoints (port name or appProtocol up to its first '-')."""
        protocol = (self.app_protocol or self.port_name).split("-")[0].lower()
        return protocol in HTTP2_PORT_PREFIXES

    def server(self, protocol: str) -> Server:
        return next(s for s in self.servers if s.protocol == protocol)


def gateway_yaml(topo: Topology) -> str:
    servers = []
    for s in topo.servers:
        hosts = "".join(f'\n    - "{h}"' for h in s.hosts)
        text = (f"  - port:\n      number: {s.number}\n      name: {s.name}\n      protocol: {s.protocol}\n"
                f"    hosts:{hosts}\n")
        if s.protocol == "HTTPS":
            assert s.tls, "an HTTPS server needs a certificate"
            text += (f"    tls:\n      mode: SIMPLE\n      serverCertificate: {s.tls.cert}\n"
                     f"      privateKey: {s.tls.key}\n")
        elif s.https_redirect:
            text += "    tls:\n      httpsRedirect: true\n"
        servers.append(text)
    return f"""apiVersion: networking.istio.io/v1beta1
kind: Gateway
metadata:
  name: {topo.app}-gateway
spec:
  selector:
    istio: ingressgateway
  servers:
{"".join(servers)}"""


def topology_yaml(topo: Topology) -> str:
    w1, w2 = topo.weights
    app_protocol = f"\n    appProtocol: {topo.app_protocol}" if topo.app_protocol else ""
    docs = [gateway_yaml(topo), f"""apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata:
  name: {topo.app}
spec:
  hosts:
  - "*"
  gateways:
  - {topo.app}-gateway
  http:
  - route:
    - destination:
        host: {topo.app}
        subset: v1
      weight: {w1}
    - destination:
        host: {topo.app}
        subset: v2
      weight: {w2}
""", f"""apiVersion: networking.istio.io/v1beta1
kind: DestinationRule
metadata:
  name: {topo.app}
spec:
  host: {topo.app}
  subsets:
  - name: v1
    labels:
      version: v1
  - name: v2
    labels:
      version: v2
""", f"""apiVersion: v1
kind: Service
metadata:
  name: {topo.app}
spec:
  selector:
    app: {topo.app}
  ports:
  - name: {topo.port_name}
    port: 8080{app_protocol}
"""]
    for version, ports in topo.endpoints.items():
        for i, port in enumerate(ports):
            docs.append(f"""apiVersion: networking.istio.io/v1beta1
kind: WorkloadEntry
metadata:
  name: {topo.app}-{version}-{i}
spec:
  address: 127.0.0.1
  ports:
    {topo.port_name}: {port}
  labels:
    app: {topo.app}
    version: {version}
""")
    return "---\n".join(docs)


def write_topology(directory: Path, topo: Topology) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "gateway.yaml").write_text(topology_yaml(topo))
    return directory


def descendants(pid: int) -> list[int]:
    """pid and all its descendants (nginx's workers, for instance)."""
    children = defaultdict(list)
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            children[int(stat[stat.rindex(")") + 2:].split()[1])].append(int(entry.name))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo += children.get(p, [])
    return out


def rss_kib(pids: list[int]) -> int:
    """The summed VmRSS of the processes, in KiB (from /proc/PID/status)."""
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total


class GatewayProcess(ProxyProcess):
    """A proxy serving a Topology: `ports` maps each Gateway server number to the bound loopback port."""

    ports: dict[int, int]
    admin_port: int | None = None

    def port_of(self, number: int) -> int:
        return self.ports[number]

    def url(self, path: str = "/", number: int | None = None, scheme: str = "http") -> str:
        port = self.port if number is None else self.ports[number]
        host = "localhost" if scheme == "https" else "127.0.0.1"
        return f"{scheme}://{host}:{port}{path}"

    def all_pids(self) -> list[int]:
        return descendants(self.proc.pid)

    def rss_kib(self) -> int:
        return rss_kib(self.all_pids())


class GatewayKanaria(GatewayProcess):
    name = "kanaria"

    def __init__(self, binary: Path, config_dir: Path, numbers: list[int], workers: int | None = None,
                 extra_args: tuple[str, ...] = (), ready_timeout: float = 30):
        self.argv = [str(binary), "run", "-f", str(config_dir)]
        for n in numbers:
            self.argv += ["--listen", f"{n}=127.0.0.1:0"]
        self.argv += ["--admin", "127.0.0.1:0"]
        if workers is not None:
            self.argv += ["--workers", str(workers)]
        self.argv += list(extra_args)
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        self.output = OutputReader(self.proc)

        def listening(lines):
            found = {}
            for line in lines:
                m = LISTENING.search(line)
                if m and m.group(1):
                    found[int(m.group(1))] = int(m.group(3))
            return found if set(found) >= set(numbers) else None

        ports = self.output.wait_for(listening, ready_timeout, self.proc)
        if ports is None:
            state = f"exited with status {self.proc.returncode}" if self.proc.poll() is not None \
                else f"did not print a 'gateway port N listening on ADDR:PORT' line for each of {numbers} " \
                     f"within {ready_timeout}s"
            self.kill()
            self.output.join()
            raise AssertionError(f"kanaria {state}.\ncommand: {' '.join(self.argv)}\noutput:\n{self.output.text()}")
        self.ports = ports
        self.port = ports[numbers[0]]
        admin = ADMIN.search(self.output.text(last=200))
        self.admin_port = int(admin.group(2)) if admin else None


class GatewayNginx(GatewayProcess):
    """nginx 1.22 serving the same Topology, to check the harness (E2E_PROXY=nginx). HTTP servers speak HTTP/1.1,
    HTTP2 and GRPC servers h2c with prior knowledge only (nginx cannot do both on one plain port, nor `Upgrade: h2c`),
    HTTPS servers TLS with ALPN h2 / http/1.1."""

    name = "nginx"

    def __init__(self, topo: Topology, workdir: Path, workers: int | None = None):
        workdir.mkdir(parents=True, exist_ok=True)
        w1, w2 = topo.weights
        servers = "".join(f"server 127.0.0.1:{p} weight={w1};" for p in topo.endpoints.get("v1", [])) + \
            "".join(f"server 127.0.0.1:{p} weight={w2};" for p in topo.endpoints.get("v2", []))
        if topo.upstream_http2:
            location = "grpc_pass grpc://weighted; grpc_read_timeout 300s; grpc_send_timeout 300s;"
        else:
            location = ('proxy_pass http://weighted; proxy_http_version 1.1; proxy_set_header Connection ""; '
                        "proxy_set_header X-Forwarded-Proto $scheme; proxy_request_buffering off; proxy_buffering off;")
        self.ports = {}
        blocks = []
        for s in topo.servers:
            port = self.ports.setdefault(s.number, free_port())
            if s.protocol == "HTTPS":
                listen = (f"listen 127.0.0.1:{port} ssl http2; ssl_certificate {s.tls.cert}; "
                          f"ssl_certificate_key {s.tls.key};")
            elif s.protocol in ("HTTP2", "GRPC"):
                listen = f"listen 127.0.0.1:{port} http2;"
            else:
                listen = f"listen 127.0.0.1:{port};"
            body = "return 301 https://$host$request_uri;" if s.https_redirect else location
            blocks.append(f"server {{ {listen} location / {{ {body} }} }}")
        user = "user root;" if os.geteuid() == 0 else ""
        (workdir / "nginx.conf").write_text(f"""
{user}
worker_processes {workers or os.cpu_count()};
pid {workdir}/nginx.pid;
error_log stderr warn;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  client_body_temp_path {workdir}/client_body; proxy_temp_path {workdir}/proxy;
  fastcgi_temp_path {workdir}/fastcgi; uwsgi_temp_path {workdir}/uwsgi; scgi_temp_path {workdir}/scgi;
  client_max_body_size 0; keepalive_requests 1000000; http2_max_requests 1000000;
  http2_max_concurrent_streams 100;
  upstream weighted {{ {servers} keepalive 64; keepalive_requests 1000000; }}
  {chr(10).join(blocks)}
}}
""")
        self.proc = subprocess.Popen(["nginx", "-p", str(workdir), "-c", str(workdir / "nginx.conf"), "-e", "stderr",
                                      "-g", "daemon off;"], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        self.output = OutputReader(self.proc)
        for port in self.ports.values():
            if not wait_port(port, self.proc):
                self.kill()
                raise AssertionError(f"nginx did not start:\n{self.output.text()}")
        self.port = self.ports[topo.servers[0].number]


@pytest.fixture
def backends():
    """Factory for HTTP/2 upstreams (harness.grpc_servers): backends("grpc", "v1") or backends("h2c", "v1").
    All are stopped after the test (after the proxies, when the test asks for this fixture first)."""
    started = []

    def start(kind: str, version: str):
        from harness import grpc_servers  # grpcio is imported only by the tests that need it
        server = grpc_servers.EchoServer(version) if kind == "grpc" else grpc_servers.H2Upstream(version)
        started.append(server.start())
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def start_gateway(tmp_path, request, upstreams, backends):
    """Factory: start_gateway(topology, workers=None) runs the proxy under test (kanaria, or nginx under
    E2E_PROXY=nginx) for the Topology. Every proxy still running afterwards gets SIGTERM and must exit 0."""
    running: list[GatewayProcess] = []

    def start(topo: Topology, workers: int | None = None, extra_args: tuple[str, ...] = ()) -> GatewayProcess:
        numbers = list(dict.fromkeys(s.number for s in topo.servers))
        if PEER == "nginx":
            proxy: GatewayProcess = GatewayNginx(topo, tmp_path / f"nginx{len(running)}", workers)
        else:
            config = write_topology(tmp_path / f"gateway{len(running)}", topo)
            proxy = GatewayKanaria(request.getfixturevalue("kanaria_bin"), config, numbers, workers, extra_args)
        running.append(proxy)
        return proxy

    yield start
    problems = []
    for proxy in running:
        try:
            proxy.stop(signal.SIGTERM)
        except AssertionError as e:
            problems.append(str(e))
        finally:
            proxy.kill()
    if problems:
        pytest.fail("\n\n".join(problems), pytrace=False)


def require_kanaria(reason: str) -> None:
    """Skips, with the reason, a test of behaviour the nginx stand-in does not have (only under E2E_PROXY=nginx)."""
    if PEER != "kanaria":
        pytest.skip(f"E2E_PROXY={PEER}: {reason}")


__all__ = ["Server", "Topology", "write_topology", "GatewayKanaria", "GatewayNginx", "backends", "start_gateway",
           "require_kanaria", "rss_kib", "descendants"]
