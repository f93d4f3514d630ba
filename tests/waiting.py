"""Polling helpers for tests that drive real servers and processes."""

from __future__ import annotations

import socket
import time


def wait_for(predicate, timeout: float, what: str, interval: float = 0.25, ignore: tuple = ()):
    """Poll `predicate` until it returns something truthy and return that; fail after `timeout` s.

    Exceptions listed in `ignore` count as "not yet" (a server still starting, a page mid-render).
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except ignore:
            pass
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_dashboard(url: str, ready_path: str, env: dict | None = None, extra: tuple = ()):
    """`classmood dashboard` on a free port, waited for until `ready_path` answers:
    (process, base URL, port). Its stdout and stderr are pipes, for the caller to check."""
    import os
    import subprocess
    import sys
    import urllib.request
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "classmood", "dashboard", "--db", url, "--port", str(port), *extra],
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root), **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: urllib.request.urlopen(base + ready_path, timeout=2), 60, "the dashboard", ignore=OSError)
    except AssertionError:
        process.kill()
        raise AssertionError("dashboard did not start: " + process.communicate()[1][-2000:]) from None
    return process, base, port


def live_refresh_body(dependencies: list[dict], shown: str | None = None) -> dict:
    """What a browser POSTs to /_dash-update-component for one tick of the live view, given
    the app's /_dash-dependencies and the key of the capture the page shows (None at first)."""
    live = next(c for c in dependencies if "live-title.children" in c["output"])
    outputs = [dict(zip(("id", "property"), part.split("."))) for part in live["output"].strip(".").split("...")]
    return {
        "output": live["output"],
        "outputs": outputs,
        "inputs": [{"id": "live-tick", "property": "n_intervals", "value": 1}],
        "changedPropIds": ["live-tick.n_intervals"],
        "state": [
            {"id": "live-mood", "property": "relayoutData", "value": None},
            {"id": "live-shown", "property": "data", "value": shown},
        ],
    }
