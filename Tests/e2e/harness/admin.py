"""The admin endpoints of a running kanaria (`--admin`), as the tests read them: the Prometheus text exposition
parsed into samples, JSON endpoints, and a small Prometheus-text parser that follows the format's escaping rules."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from harness.client import Response, request

_SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: (\S+))?$')
_LABEL = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*(?:,|$)')


@dataclass(frozen=True)
class Sample:
    name: str
    labels: dict
    value: float


def parse_labels(text: str) -> dict[str, str]:
    labels: dict[str, str] = {}
    pos = 0
    while pos < len(text):
        m = _LABEL.match(text, pos)
        assert m, f"malformed label set at {text[pos:pos + 60]!r} in {{{text}}}"
        value = m.group(2).replace('\\"', '"').replace("\\n", "\n").replace("\\\\", "\\")
        assert m.group(1) not in labels, f"label {m.group(1)} twice in {{{text}}}"
        labels[m.group(1)] = value
        pos = m.end()
    return labels


def parse_prometheus(text: str) -> tuple[list[Sample], dict[str, str]]:
    """Samples and the `# TYPE` of each family. Fails on a line that is neither a comment nor a sample."""
    samples: list[Sample] = []
    types: dict[str, str] = {}
    for line in text.splitlines():
        if not line:
            continue
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            types[name] = kind
            continue
        if line.startswith("#"):
            continue
        m = _SAMPLE.match(line)
        assert m, f"not a Prometheus sample line: {line!r}"
        samples.append(Sample(m.group(1), parse_labels(m.group(2) or ""), float(m.group(3))))
    return samples, types


class Admin:
    """The admin endpoints at 127.0.0.1:`port`."""

    def __init__(self, port: int):
        assert port, "the proxy printed no `admin listening on ADDR:PORT` line"
        self.port = port

    def get(self, path: str) -> Response:
        return request(self.port, path)

    def post(self, path: str, body=None, headers: dict | None = None) -> Response:
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
            headers = {"content-type": "application/json", **(headers or {})}
        return request(self.port, path, method="POST", body=body, headers=headers)

    def json(self, path: str):
        resp = self.get(path)
        assert resp.status == 200, f"GET {path}: {resp.status} {resp.body[:300]!r}"
        return json.loads(resp.body)

    def scrape(self) -> list[Sample]:
        resp = self.get("/stats/prometheus")
        assert resp.status == 200, f"GET /stats/prometheus: {resp.status}"
        return parse_prometheus(resp.body.decode())[0]

    def metric(self, name: str, **match) -> list[Sample]:
        """The samples of `name` whose labels include `match`."""
        return [s for s in self.scrape() if s.name == name and all(s.labels.get(k) == v for k, v in match.items())]


def total(samples: list[Sample], **match) -> float:
    return sum(s.value for s in samples if all(s.labels.get(k) == v for k, v in match.items()))


def by(samples: list[Sample], *labels: str) -> dict:
    """Sums of sample values grouped by the given labels (a tuple key, or the bare value for one label)."""
    out: dict = {}
    for s in samples:
        key = tuple(s.labels.get(l) for l in labels)
        key = key[0] if len(labels) == 1 else key
        out[key] = out.get(key, 0) + s.value
    return out
