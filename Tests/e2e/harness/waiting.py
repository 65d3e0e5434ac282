"""Waiting on a condition instead of sleeping: `wait_until(condition)` polls until it holds, and fails the test with
`what` when it still does not after `timeout` seconds. A slow machine then waits longer instead of failing, and a
slow proxy cannot pass by being given a fixed head start."""

from __future__ import annotations

import time


def wait_until(condition, what: str, timeout: float = 10, interval: float = 0.01):
    """Polls `condition()` every `interval` seconds; returns its first truthy value. `what` names the condition
    in the failure message (a string, or a callable giving one, evaluated only on failure)."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"waited {timeout:g} s for {what() if callable(what) else what}")
        time.sleep(interval)
