"""Where frames come from: the screen, a meeting window, a recording, a folder of screenshots.

Live sources return one frame per grab(); offline sources iterate (timestamp, frame) pairs
whose timestamps come from the video position or the file order.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

from agent.screen import CaptureError, ScreenGrabber
from core.analyze import IMAGE_SUFFIXES, InputError, iter_video, read_image

logger = logging.getLogger(__name__)


class ScreenSource:
    def __init__(self, monitor: int = 1, region: tuple[int, int, int, int] | None = None):
        self.grabber = ScreenGrabber(monitor, region)
        self.description = f"region {region}" if region else f"monitor {monitor}"

    def grab(self) -> np.ndarray:
        return self.grabber.grab()

    def close(self) -> None:
        self.grabber.close()


class WindowSource:
    """The meeting window found by title, followed when it moves or resizes (PyWinCtl)."""

    def __init__(self, title: str):
        self.title = title
        self.description = f"window '{title}'"
        self.grabber = ScreenGrabber(0)
        _pywinctl()  # fail now if windows cannot be listed at all; a missing window is only skipped

    def _find(self):
        pywinctl = _pywinctl()

        matches = [w for w in pywinctl.getAllWindows() if self.title.casefold() in (w.title or "").casefold()]
        if not matches:
            raise CaptureError(f"no window whose title contains '{self.title}'")
        return max(matches, key=lambda w: w.width * w.height)

    def grab(self) -> np.ndarray:
        window = self._find()
        if window.isMinimized:
            raise CaptureError(f"window '{window.title}' is minimized")
        left, top, width, height = window.left, window.top, window.width, window.height
        if width <= 0 or height <= 0:
            raise CaptureError(f"window '{window.title}' has no visible area")
        cover = _pywinctl().getTopWindowAt(left + width // 2, top + height // 2)
        if cover is not None and cover.getHandle() != window.getHandle():
            raise CaptureError(f"window '{window.title}' is covered by '{cover.title}'")
        screen = self.grabber.desktop
        x0, y0 = max(left, screen["left"]), max(top, screen["top"])
        x1 = min(left + width, screen["left"] + screen["width"])
        y1 = min(top + height, screen["top"] + screen["height"])
        if x1 <= x0 or y1 <= y0:
            raise CaptureError(f"window '{window.title}' is off screen")
        self.grabber.area = {"left": x0, "top": y0, "width": x1 - x0, "height": y1 - y0}
        return self.grabber.grab()

    def close(self) -> None:
        self.grabber.close()


def video_frames(path: Path, every_seconds: float, start: datetime) -> Iterator[tuple[datetime, np.ndarray]]:
    for seconds, frame in iter_video(path, every_seconds):
        yield start + timedelta(seconds=seconds), frame


def image_frames(
    folder: Path, every_seconds: float, start: datetime
) -> Iterator[tuple[datetime, np.ndarray | InputError]]:
    """Images in name order, `every_seconds` apart; an unreadable one yields its error instead."""
    if not folder.is_dir():
        raise InputError(f"{folder}: not a folder")
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise InputError(f"{folder}: no images inside")
    for i, path in enumerate(files):
        taken_at = start + timedelta(seconds=i * every_seconds)
        try:
            yield taken_at, read_image(path)
        except InputError as exc:
            yield taken_at, exc


def _pywinctl():
    """Import PyWinCtl, which on Linux exits the process when xrandr/xset are missing."""
    import shutil
    import sys

    if sys.platform.startswith("linux") and not (shutil.which("xrandr") and shutil.which("xset")):
        raise CaptureError("--window needs the xrandr and xset programs (Debian: x11-xserver-utils)")
    try:
        import pywinctl
    except (ImportError, SystemExit) as exc:
        raise CaptureError(f"cannot list windows on this desktop ({exc})") from None
    return pywinctl
