"""`kanaria validate`: the tutorial's config is valid (exit 0) and the report says what was checked (resources by
kind, listeners, routes, endpoints per subset); a misspelled field is reported as
`FILE:LINE: VirtualService/nodejs: … unknown field "wieght"; did you mean "weight"?` and exits 1. `--json` says the
same as one JSON object."""

from __future__ import annotations

import json
import re
import subprocess

import pytest

from harness.proxy import REPO, seed_dir, workload_entries

TYPO = re.compile(r'^(?P<file>\S+):(?P<line>\d+): VirtualService/nodejs: .*unknown field "wieght"; '
                  r'did you mean "weight"\?', re.M)


def validate(binary, *paths) -> subprocess.CompletedProcess:
    """`kanaria validate -f P …`; an argument starting with `--` is passed as a flag."""
    args = [str(binary), "validate"]
    for p in paths:
        args += [p] if str(p).startswith("--") else ["-f", str(p)]
    return subprocess.run(args, capture_output=True, text=True, timeout=30)


@pytest.fixture
def seed_copy(tmp_path):
    d = tmp_path / "config"
    d.mkdir()
    for name in ("node-app.yaml", "node-istio.yaml"):
        (d / name).write_bytes((seed_dir() / name).read_bytes())
    (d / "workloads.yaml").write_text(workload_entries({"v1": [9081], "v2": [9082]}))
    return d


def with_typo(directory):
    """Misspells the first `weight:` of node-istio.yaml; returns (path, 1-based line number of the typo)."""
    path = directory / "node-istio.yaml"
    lines = path.read_text().splitlines(keepends=True)
    number = next(i for i, line in enumerate(lines) if line.strip().startswith("weight:"))
    lines[number] = lines[number].replace("weight:", "wieght:")
    path.write_text("".join(lines))
    return path, number + 1


def test_seed_files_with_workload_entries_are_valid(kanaria_bin, seed_copy):
    out = validate(kanaria_bin, *sorted(seed_copy.iterdir()))
    assert out.returncode == 0, out.stdout + out.stderr


def test_seed_folder_is_valid(kanaria_bin, seed_copy):
    out = validate(kanaria_bin, seed_copy)
    assert out.returncode == 0, out.stdout + out.stderr


def test_repository_config_folder_is_valid(kanaria_bin):
    config = REPO / "config"
    assert (config / "workloads.yaml").is_file(), "config/workloads.yaml is missing"
    out = validate(kanaria_bin, config)
    assert out.returncode == 0, out.stdout + out.stderr


@pytest.mark.parametrize("given", ["file", "folder"])
def test_misspelled_field_names_file_line_and_suggestion(kanaria_bin, seed_copy, given):
    path, line = with_typo(seed_copy)
    out = validate(kanaria_bin, path if given == "file" else seed_copy)
    report = out.stdout + out.stderr
    assert out.returncode == 1, report
    match = TYPO.search(report)
    assert match, f"no `FILE:LINE: VirtualService/nodejs: unknown field \"wieght\"; did you mean \"weight\"?` line in:\n{report}"
    assert match["file"].endswith("node-istio.yaml") and (seed_copy / "node-istio.yaml").samefile(match["file"]), \
        match["file"]
    assert int(match["line"]) == line, f"reported line {match['line']}, the typo is on line {line}"


def test_valid_folder_reports_what_was_checked(kanaria_bin, seed_copy):
    out = validate(kanaria_bin, seed_copy)
    assert out.returncode == 0, out.stdout + out.stderr
    lines = out.stdout.splitlines()
    files = ", ".join(str(seed_copy / name) for name in ("node-app.yaml", "node-istio.yaml", "workloads.yaml"))
    assert lines[0] == f"checked 3 files: {files}", out.stdout
    assert "resources: 8 (1 Gateway, 1 VirtualService, 1 DestinationRule, 1 Service, 2 Deployment, 2 WorkloadEntry)" \
        in lines, out.stdout
    assert "  gateway port 80 HTTP (Gateway default/nodejs-gateway): hosts *; 1 route" in lines, out.stdout
    assert "routes: 1 (VirtualService default/nodejs: 1)" in lines, out.stdout
    assert "  outbound|8080|v1|nodejs.default.svc.cluster.local: 1 endpoint (127.0.0.1:9081)" in lines, out.stdout
    assert "  outbound|8080|v2|nodejs.default.svc.cluster.local: 1 endpoint (127.0.0.1:9082)" in lines, out.stdout
    assert lines[-1] == "configuration is valid: 0 errors, 0 warnings", out.stdout


def test_json_report_of_a_valid_folder(kanaria_bin, seed_copy):
    out = validate(kanaria_bin, seed_copy, "--json")
    assert out.returncode == 0, out.stdout + out.stderr
    report = json.loads(out.stdout)
    assert report["valid"] is True and report["diagnostics"] == []
    summary = report["summary"]
    counts = summary["counts"]
    assert {k: v for k, v in counts.items() if k != "byKind"} == \
        {"errors": 0, "warnings": 0, "resources": 8, "listeners": 1, "routes": 1, "clusters": 2, "endpoints": 2}
    assert counts["byKind"] == {"Gateway": 1, "VirtualService": 1, "DestinationRule": 1, "Service": 1,
                                "Deployment": 2, "WorkloadEntry": 2}
    assert [(l["port"], l["protocol"], l["gateway"]) for l in summary["listeners"]] == \
        [(80, "HTTP", "default/nodejs-gateway")]
    assert {c["subset"]: c["endpoints"] for c in summary["clusters"]} == \
        {"v1": ["127.0.0.1:9081"], "v2": ["127.0.0.1:9082"]}


def test_json_report_of_a_typo(kanaria_bin, seed_copy):
    path, line = with_typo(seed_copy)
    out = validate(kanaria_bin, seed_copy, "--json")
    assert out.returncode == 1, out.stdout + out.stderr
    report = json.loads(out.stdout)
    assert report["valid"] is False
    assert report["diagnostics"] == [{
        "file": str(path), "line": line, "severity": "error", "code": "IST0106", "resource": "VirtualService/nodejs",
        "message": 'unknown field "wieght"; did you mean "weight"?',
        "text": f'{path}:{line}: VirtualService/nodejs: unknown field "wieght"; did you mean "weight"? [IST0106]',
    }]
    counts = report["summary"]["counts"]
    assert (counts["errors"], counts["warnings"], counts["resources"], report["summary"]["listeners"]) == (1, 0, 8, [])
