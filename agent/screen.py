"""Grab the screen with mss: the whole primary monitor, another monitor, or a region."""

from __future__ import annotations

import os
import sys

import numpy as np


class CaptureError(RuntimeError):
    """The screen cannot be grabbed; the message is one line for the user."""


def has_display() -> bool:
    if sys.platform.startswith("linux"):
        return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return True


class ScreenGrabber:
    """One mss handle, reused: opening it per grab costs more than the grab itself."""

    def __init__(self, monitor: int = 1, region: tuple[int, int, int, int] | None = None):
        if not has_display():
            raise CaptureError(
                "no display to capture (DISPLAY is not set); without a screen, use classmood agent --video/--images"
            )
        import mss

        try:
            self._mss = mss.mss()
        except Exception as exc:  # mss raises ScreenShotError and OS-specific errors
            raise CaptureError(f"cannot open the display for capture ({exc})") from None
        monitors = self._mss.monitors
        if region is not None:
            x, y, w, h = region
            self.area = {"left": x, "top": y, "width": w, "height": h}
            whole = monitors[0]
            inside_x = x >= whole["left"] and x + w <= whole["left"] + whole["width"]
            inside_y = y >= whole["top"] and y + h <= whole["top"] + whole["height"]
            if w <= 0 or h <= 0 or not (inside_x and inside_y):
                raise CaptureError(
                    f"region {x},{y},{w},{h} is not on the screen (the desktop spans {whole['left']},{whole['top']}"
                    f" to {whole['left'] + whole['width']},{whole['top'] + whole['height']})"
                )
        elif 0 <= monitor < len(monitors):
            self.area = dict(monitors[monitor])
        else:
            raise CaptureError(f"monitor {monitor} does not exist (this desktop has {len(monitors) - 1})")

    @property
    def desktop(self) -> dict:
        """The bounding box of all monitors (mss's monitor 0)."""
        return dict(self._mss.monitors[0])

    def grab(self) -> np.ndarray:
        """The area as a BGR image."""
        try:
            shot = self._mss.grab(self.area)
        except Exception as exc:
            raise CaptureError(f"screen grab failed ({exc})") from None
        frame = np.asarray(shot)[:, :, :3]
        if frame.size == 0:
            raise CaptureError("screen grab returned an empty image")
        return np.ascontiguousarray(frame)

    def close(self) -> None:
        self._mss.close()
