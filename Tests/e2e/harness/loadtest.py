"""Runs `kanaria loadtest` as a child process and reads its report (text or `--json`)."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path


@dataclass
class LoadtestRun:
    returncode: int
    stdout: str
    stderr: str

    @property
    def report(self) -> dict:
        """The `--json` object (the run must have been started with --json)."""
        assert self.stdout.strip(), f"no JSON on stdout (status {self.returncode}); stderr:\n{self.stderr}"
        return json.loads(self.stdout)

    def counts(self) -> dict[str, int]:
        return {name: v["count"] for name, v in self.report["versions"].items()}


def loadtest(binary: Path, url: str, *args: str, timeout: float = 120, stderr=subprocess.PIPE) -> LoadtestRun:
    """`kanaria loadtest URL ARGS…`, waiting for it to exit on its own (fails the test if it hangs)."""
    proc = subprocess.run([str(binary), "loadtest", url, *args], stdin=subprocess.DEVNULL, capture_output=stderr is subprocess.PIPE,
                          stdout=None if stderr is subprocess.PIPE else subprocess.PIPE,
                          stderr=None if stderr is subprocess.PIPE else stderr, text=True, timeout=timeout)
    return LoadtestRun(proc.returncode, proc.stdout or "", proc.stderr or "")
