"""One capture, start to finish: frame -> tiles -> names -> faces -> emotions and head pose -> identities.

Everything here is in memory; writing the rows is db.store's job. Each stage is timed, so
the capture row can say where the time went.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

import cv2
import numpy as np

from agent.attention import AttentionTracker
from agent.camera import STILL_RING, is_drawn, is_still, ring_flatness, still_signature
from agent.identity import IdentityTracker
from agent.tile_faces import TILE_MIN_FACE_PX, TileFaces
from agent.tiles import TileBox, TileFinder, deskewed, find_tiles, skew_angle
from core.analyze import crop_size, find_faces
from core.faces import crop_face

LONE_FACE_REGION = 1.6  # a face without a gallery tracks by the region around it (x its size)
MIN_FRAME_PX = 16
SKEW_EVERY = 20
MAX_DETECT_SIDE = 4096  # a larger frame is searched for faces at a reduced scale


@dataclass
class TileResult:
    box: tuple[int, int, int, int]
    key: str
    label: str
    named: bool
    state: str  # face | no_face | camera_off
    face_box: tuple[int, int, int, int] | None = None
    probabilities: tuple[float, ...] | None = None
    uncertain: bool | None = None  # the reading is a guess (core.calibration); None without a face
    listed: bool | None = None  # with a class list: the name is the list's (False: as read, unmatched)
    yaw: float | None = None  # head pose in degrees (core.head_pose); None without a face
    pitch: float | None = None
    looking: str | None = None  # "screen" | "away" after the student's baseline and hysteresis


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


def face_regions(frame: np.ndarray, detector) -> list[TileBox]:
    """No gallery (speaker view, a classroom camera, a collage in one video): a region per face."""
    height, width = frame.shape[:2]
    factor = min(1.0, MAX_DETECT_SIDE / max(height, width))
    small = frame if factor == 1.0 else cv2.resize(frame, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)
    regions = []
    for face in find_faces(small, detector, TILE_MIN_FACE_PX):
        x, y, w, h = (v / factor for v in face.box)
        side = LONE_FACE_REGION * max(w, h)
        x0, y0 = int(max(0, x + w / 2 - side / 2)), int(max(0, y + h / 2 - side / 2))
        x1, y1 = int(min(width, x + w / 2 + side / 2)), int(min(height, y + h / 2 + side / 2))
        regions.append(TileBox(x0, y0, x1 - x0, y1 - y0))
    return sorted(regions, key=lambda b: (b.y // max(1, b.h), b.x))


class CapturePipeline:
    """`classifier` None: no expression is read (--signals attention); `poser` None: no head pose."""

    def __init__(self, detector, classifier, names=None, tracker: IdentityTracker | None = None, poser=None):
        self.detector, self.classifier, self.names, self.poser = detector, classifier, names, poser
        self.tracker = tracker or IdentityTracker()
        self.attention = AttentionTracker()
        self.tile_finder = TileFinder()
        self.tile_faces = TileFaces(detector)
        self.stills: dict[str, np.ndarray] = {}  # participant -> middle of their tile last capture
        self.skew, self.last_count, self.captures = 0.0, -1, 0

    def process(self, frame: np.ndarray, taken_at: datetime, timings: dict[str, float] | None = None) -> CaptureResult:
        timings = {} if timings is None else timings
        result = CaptureResult(taken_at, timings_ms=timings)
        if frame is None or frame.size == 0:
            raise ValueError("empty capture")
        if min(frame.shape[:2]) < MIN_FRAME_PX:
            raise ValueError(f"capture too small to hold a face ({frame.shape[1]}x{frame.shape[0]} px)")
        with timed(timings, "tiles"):
            tiles = self.tile_finder.find(frame)
            frame, tiles = self.levelled(frame, tiles)
            gallery = len(tiles) >= 2
        if not gallery:
            with timed(timings, "detect"):
                tiles = face_regions(frame, self.detector)
        with timed(timings, "tiles"):
            images = [frame[t.y : t.y + t.h, t.x : t.x + t.w] for t in tiles]
            gray = frame if frame.ndim == 2 else cv2.cvtColor(frame[..., :3], cv2.COLOR_BGR2GRAY)
            grays = [gray[t.y : t.y + t.h, t.x : t.x + t.w] for t in tiles]  # made grey once, not per use
            flatness = [ring_flatness(g) for g in grays] if gallery else [0.0] * len(images)
            camera_on = [not is_drawn(f) for f in flatness]
        with timed(timings, "ocr"):
            reader = self.names if gallery else None
            if reader:
                reader.settle()  # tags read before: one more crop each votes on their names
            names = reader.read_all(list(zip(images, camera_on))) if reader else [None] * len(images)
        identities = self.tracker.assign(
            (frame.shape[1], frame.shape[0]), [(t.as_tuple(), g, n) for t, g, n in zip(tiles, grays, names)]
        )
        if gallery:
            camera_on = self.not_still(grays, camera_on, flatness, [identity.key for identity in identities])
        faces: list = [None] * len(tiles)
        with timed(timings, "detect"):
            live = [i for i in range(len(tiles)) if camera_on[i]]
            found = self.tile_faces.find([(identities[i][0], images[i]) for i in live])
            for i, box in zip(live, found):
                if box is not None:
                    faces[i] = (tiles[i].x + box[0], tiles[i].y + box[1], box[2], box[3])
        with_face = [i for i, f in enumerate(faces) if f is not None]
        with timed(timings, "classify"):
            margin = getattr(self.detector, "crop_margin", 0.0)
            size = crop_size(self.classifier, self.poser)
            crops = np.stack([crop_face(frame, faces[i], size, margin) for i in with_face]) if with_face else None
            read = crops is not None and self.classifier is not None
            probabilities, guesses = self.classifier.readings(crops) if read else ([None] * len(with_face),) * 2
        with timed(timings, "pose"):
            poses = self.poser.read(crops) if crops is not None and self.poser else [None] * len(with_face)
        by_tile = dict(zip(with_face, zip(probabilities, guesses, poses)))
        for i, tile in enumerate(tiles):
            key, label, named, listed = identities[i]
            probs, guess, pose = None, None, None
            if i in by_tile:
                state, (reading, guess, pose) = "face", by_tile[i]
                if reading is not None:
                    probs, guess = tuple(float(p) for p in reading), bool(guess)
            else:
                state = "no_face" if camera_on[i] else "camera_off"
            looking = self.attention.update(key, taken_at or datetime.now(UTC), pose)
            yaw, pitch = (round(pose.yaw, 1), round(pose.pitch, 1)) if pose else (None, None)
            result.tiles.append(
                TileResult(
                    tile.as_tuple(), key, label, named, state, faces[i], probs, guess, listed, yaw, pitch, looking
                )
            )
        if not tiles:
            result.error = "no gallery tiles and no faces in the frame"
        return result

    def levelled(self, frame: np.ndarray, tiles: list[TileBox]) -> tuple[np.ndarray, list[TileBox]]:
        """A photo of a screen held askew, turned level when that finds more tiles. The angle
        is measured again only when the tile count changes (or every SKEW_EVERY captures)."""
        self.captures += 1
        if len(tiles) != self.last_count or self.captures % SKEW_EVERY == 1:
            self.skew = skew_angle(frame)
        self.last_count = len(tiles)
        if not self.skew:
            return frame, tiles
        level = deskewed(frame, self.skew)
        straight = find_tiles(level)
        return (level, straight) if len(straight) > len(tiles) else (frame, tiles)

    def not_still(
        self, images: list[np.ndarray], camera_on: list[bool], flatness: list[float], keys: list[str]
    ) -> list[bool]:
        """A tile whose picture has not changed since the last capture, with a partly flat ring,
        shows a still profile photo (camera off), not live video."""
        out = []
        for img, on, flat, key in zip(images, camera_on, flatness, keys):
            signature = still_signature(img)
            if on and is_still(self.stills.get(key), signature) and flat >= STILL_RING:
                on = False
            self.stills[key] = signature
            out.append(on)
        return out
