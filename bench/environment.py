"""What benchmarks and tests both need from the machine: the shared data folder, a virtual screen."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def shared_folder() -> Path:
    """The data and third-party models that are never committed: $CLASSMOOD_SHARED, else ../shared;
    made absolute, so that a test or bench that changes its working folder still finds it."""
    return Path(os.environ.get("CLASSMOOD_SHARED", ROOT.parent / "shared")).absolute()


def missing_display_tools() -> list[str]:
    return [tool for tool in ("Xvfb", "openbox") if not shutil.which(tool)]


@contextmanager
def virtual_display(size: str = "1920x1080") -> Iterator[str]:
    """An Xvfb screen with openbox on the first free display number from :90; yields ":N".

    openbox matters: window listing (PyWinCtl) and minimizing go through a window manager.
    """
    number = next(n for n in range(90, 200) if not Path(f"/tmp/.X11-unix/X{n}").exists())
    name = f":{number}"
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    xvfb = subprocess.Popen(["Xvfb", name, "-screen", "0", f"{size}x24", "-nolisten", "tcp"], **quiet)
    deadline = time.monotonic() + 10
    while not Path(f"/tmp/.X11-unix/X{number}").exists():
        if time.monotonic() > deadline or xvfb.poll() is not None:
            xvfb.kill()
            raise RuntimeError(f"Xvfb did not start on {name}")
        time.sleep(0.1)
    wm = subprocess.Popen(["openbox"], env={**os.environ, "DISPLAY": name}, **quiet)
    time.sleep(0.5)
    try:
        yield name
    finally:
        wm.terminate()
        xvfb.terminate()
        xvfb.wait(5)
