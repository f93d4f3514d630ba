"""One capture, start to finish: frame -> tiles -> names -> faces -> emotions -> identities.

Everything here is in memory; writing the rows is db.store's job. Each stage is timed, so
the capture row can say where the time went.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

import cv2
import numpy as np

from agent.identity import IdentityTracker
from agent.tiles import TileBox, find_tiles
from core.analyze import find_faces
from core.faces import crop_face

CAMERA_OFF_FLATNESS = 0.85  # share of a tile's pixels at its dominant grey level


@dataclass
class TileResult:
    box: tuple[int, int, int, int]
    key: str
    label: str
    named: bool
    state: str  # face | no_face | camera_off
    face_box: tuple[int, int, int, int] | None = None
    probabilities: tuple[float, ...] | None = None


@dataclass
class CaptureResult:
    taken_at: datetime
    tiles: list[TileResult] = field(default_factory=list)
    timings_ms: dict[str, float] = field(default_factory=dict)
    error: str | None = None

    @property
    def faces_found(self) -> int:
        return sum(t.state == "face" for t in self.tiles)


@contextmanager
def timed(timings: dict[str, float], stage: str):
    start = time.perf_counter()
    try:
        yield
    finally:
        timings[stage] = timings.get(stage, 0.0) + (time.perf_counter() - start) * 1000


def is_camera_off(tile: np.ndarray) -> bool:
    """A camera-off tile is one flat colour with a name on it."""
    gray = tile if tile.ndim == 2 else cv2.cvtColor(tile, cv2.COLOR_BGR2GRAY)
    small = cv2.resize(gray, (64, 36), interpolation=cv2.INTER_AREA)
    counts = np.bincount((small // 4).ravel(), minlength=64)
    return counts.max() / small.size >= CAMERA_OFF_FLATNESS


class CapturePipeline:
    def __init__(self, detector, classifier, names=None, tracker: IdentityTracker | None = None):
        self.detector, self.classifier, self.names = detector, classifier, names
        self.tracker = tracker or IdentityTracker()

    def process(self, frame: np.ndarray, taken_at: datetime, timings: dict[str, float] | None = None) -> CaptureResult:
        timings = {} if timings is None else timings
        result = CaptureResult(taken_at, timings_ms=timings)
        if frame is None or frame.size == 0:
            raise ValueError("empty capture")
        with timed(timings, "tiles"):
            tiles = find_tiles(frame)
            gallery = bool(tiles)
            if not gallery:  # not a gallery (a speaker view, a classroom camera): one tile, no name tag
                tiles = [TileBox(0, 0, frame.shape[1], frame.shape[0])]
            images = [frame[t.y : t.y + t.h, t.x : t.x + t.w] for t in tiles]
            camera_on = [not is_camera_off(img) for img in images]
        with timed(timings, "ocr"):
            reader = self.names if gallery else None
            names = [reader.read(img, on) if reader else None for img, on in zip(images, camera_on)]
        faces: list = [None] * len(tiles)
        with timed(timings, "detect"):
            for i, (tile, img) in enumerate(zip(tiles, images)):
                if camera_on[i]:
                    found = find_faces(img, self.detector)
                    if found:
                        best = max(found, key=lambda f: f.box[2] * f.box[3])
                        fx, fy, fw, fh = best.box
                        faces[i] = (tile.x + fx, tile.y + fy, fw, fh)
        with timed(timings, "classify"):
            margin = getattr(self.detector, "crop_margin", 0.0)
            size = self.classifier.input_size
            with_face = [i for i, f in enumerate(faces) if f is not None]
            crops = np.stack([crop_face(frame, faces[i], size, margin) for i in with_face]) if with_face else None
            probabilities = self.classifier.probabilities(crops) if crops is not None else []
        identities = self.tracker.assign(
            (frame.shape[1], frame.shape[0]), [(t.as_tuple(), img, n) for t, img, n in zip(tiles, images, names)]
        )
        by_tile = dict(zip(with_face, probabilities))
        for i, tile in enumerate(tiles):
            key, label, named = identities[i]
            if i in by_tile:
                state, probs = "face", tuple(float(p) for p in by_tile[i])
            else:
                state, probs = ("no_face" if camera_on[i] else "camera_off"), None
            result.tiles.append(TileResult(tile.as_tuple(), key, label, named, state, faces[i], probs))
        return result
