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
