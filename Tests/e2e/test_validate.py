"""`kanaria validate`: the tutorial's config is valid (exit 0); a misspelled field is reported as
`FILE:LINE: VirtualService/nodejs: … unknown field "wieght"; did you mean "weight"?` and exits 1."""

from __future__ import annotations

import re
import subprocess

import pytest

from harness.proxy import REPO, seed_dir, workload_entries

TYPO = re.compile(r'^(?P<file>\S+):(?P<line>\d+): VirtualService/nodejs: .*unknown field "wieght"; '
                  r'did you mean "weight"\?', re.M)


def validate(binary, *paths) -> subprocess.CompletedProcess:
    args = [str(binary), "validate"]
    for p in paths:
        args += ["-f", str(p)]
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
