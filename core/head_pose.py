"""Where each face is turned, and whether that is towards the screen.

yaw > 0: the student turns to their own right (the nose moves toward the image's left);
pitch > 0: they look up. Both in degrees, read from the same 48x48 crop the emotion CNN reads
by a small net (`core/assets/head_pose.onnx`, taught by a face mesh: training/head_pose.py),
so a capture of 25 faces pays about 6 ms for it (HEAD_POSE_CARD.md). A head pose is a physical state,
not an emotion: `--signals attention` uses it without the emotion model.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.faces import flat_crops

POSE_FORMAT = "classmood-head-pose"
SHIPPED_POSE_MODEL = Path(__file__).parent / "assets" / "head_pose.onnx"
SCREEN, AWAY = "screen", "away"
LOOKING_WORDS = {SCREEN: "at the screen", AWAY: "looking away"}  # as every page and print says them
# "At the screen" is within 15 degrees both ways; "away" is a yaw of 45 or a pitch of 60
# (data/headpose's scoring). Half way between (30, 37.5) called 8 % of the four development
# people's at-screen photos away; these, chosen among five pairs on those people (bench.headpose,
# HEAD_POSE_CARD.md), 3 %, with 95-96 % of away photos caught. A webcam above a screen makes
# reading it a look down.
AWAY_YAW = 35.0
AWAY_PITCH = 45.0
FLAT_CROP = 4.0  # a crop whose pixels vary less than this (0-255 std) shows no face to turn


class PoseModelError(RuntimeError):
    """The head pose model cannot be used; the message is one line for the user."""


@dataclass(frozen=True)
class HeadPose:
    yaw: float
    pitch: float

    def looking(self, baseline: HeadPose | None = None) -> str:
        """ "screen" or "away" for this one reading, measured from the student's own usual pose
        (a webcam beside the screen makes "at the screen" a turned head)."""
        yaw, pitch = (self.yaw - baseline.yaw, self.pitch - baseline.pitch) if baseline else (self.yaw, self.pitch)
        return AWAY if abs(yaw) > AWAY_YAW or abs(pitch) > AWAY_PITCH else SCREEN


class HeadPoseReader:
    """`read(crops)`: a HeadPose per (n, 48, 48) uint8 crop, None where the crop is flat."""

    def __init__(self, path: str | os.PathLike | None = None, threads: int = 1):
        import onnxruntime

        self.path = Path(path or os.environ.get("CLASSMOOD_POSE_MODEL") or SHIPPED_POSE_MODEL)
        if not self.path.is_file():
            raise PoseModelError(f"head pose model not found: {self.path}")
        options = onnxruntime.SessionOptions()
        # One thread: a second one (with onnxruntime's spinning pool) took the cores the
        # capture's other stages wait on: +27 ms a 25-face capture against +7 (bench.capture).
        options.intra_op_num_threads = threads
        options.log_severity_level = 3
        try:
            self._session = onnxruntime.InferenceSession(str(self.path), options, providers=["CPUExecutionProvider"])
            meta = {k: json.loads(v) for k, v in self._session.get_modelmeta().custom_metadata_map.items()}
        except Exception as exc:  # onnxruntime raises its own types for a damaged file
            raise PoseModelError(f"{self.path} is not a usable head pose model ({type(exc).__name__})") from None
        if meta.get("format") != POSE_FORMAT:
            raise PoseModelError(f"{self.path} is not a ClassMood head pose model (format {meta.get('format')!r})")
        self.yaw_scale, self.pitch_scale = float(meta["yaw_scale"]), float(meta["pitch_scale"])
        self.version = str(meta.get("model_version", "?"))
        self.input_size = int(self._session.get_inputs()[0].shape[1])

    def raw(self, crops: np.ndarray) -> np.ndarray:
        """(n, 2) the net's own outputs (the face mesh's angles it learned); NaN for a flat crop."""
        crops = np.asarray(crops)
        if crops.ndim != 3 or crops.shape[1:] != (self.input_size, self.input_size):
            raise ValueError(f"head pose crops must be (n, {self.input_size}, {self.input_size}), got {crops.shape}")
        if len(crops) == 0:
            return np.zeros((0, 2))
        out = self._session.run(None, {"face": crops[..., None].astype(np.float32)})[0].astype(float)
        out[flat_crops(crops, FLAT_CROP)] = np.nan
        return out

    def angles(self, crops: np.ndarray) -> np.ndarray:
        """(n, 2) yaw and pitch in degrees; NaN for a flat crop."""
        raw = self.raw(crops)
        return np.stack([with_scale(raw[:, 0], self.yaw_scale), with_scale(raw[:, 1], self.pitch_scale)], axis=1)

    def read(self, crops: np.ndarray) -> list[HeadPose | None]:
        return [None if np.isnan(yaw) else HeadPose(float(yaw), float(pitch)) for yaw, pitch in self.angles(crops)]


def with_scale(raw: np.ndarray, scale: float) -> np.ndarray:
    """Degrees from the mesh's angle: atan(scale * tan(raw)). The mesh's depth is flatter
    than a head, so its angles fall short of the true ones, more so towards a profile."""
    raw = np.clip(np.asarray(raw, float), -89.0, 89.0)
    return np.degrees(np.arctan(scale * np.tan(np.radians(raw))))
