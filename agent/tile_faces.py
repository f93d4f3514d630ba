"""Each tile's own face, looked for first where it was at the last capture.

A search of a whole tile costs YuNet about 5 ms on a 1080p gallery's tile: 25 tiles take most
of a capture. Between captures a few seconds apart a student sits about where they sat, so a
tile whose participant had a face is searched first in a window around that face, scaled so
the face is FACE_PX tall (its box then errs by a pixel or two on the 48 px crop the classifier
sees). The whole tile is searched when nothing of the face's size is in the window, when the
tile changed size (a resized window, a reshuffle), for a new participant, and for one tile a
capture in turn, so that a face that came nearer the middle (participant_face) is not missed
for long.

The same picture must give the same reading, and the reading moves with a few pixels of crop,
so a face box is kept while its tile looks as it did when the box was found (a frozen picture,
a student sitting still: no search at all), and a search that finds the face within a few
percent of the kept box keeps the box rather than the search's own jitter.
"""

from __future__ import annotations

import os
import queue
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import cv2
import numpy as np

from core.analyze import find_faces
from core.faces import Face

TILE_MIN_FACE_PX = 12  # YuNet finds faces from ~10 px; meeting tiles show 17-60 px faces
WINDOW = 2.0  # the window around the last face, as a multiple of its larger side
FACE_PX = 64  # the last face's size in the scaled window
SAME_SIZE = 1.5  # a face larger or smaller than the last one by more than this is not taken
SURE_MARGIN = 0.2  # detector score (0..1) by which a face may trail the surest in its tile
THUMB_PX = 32  # the window around a face is compared with its earlier look as a thumbnail ...
STILL_FACE = 3.0  # ... and has not changed while their mean absolute difference (0-255) stays under this
KEEP_BOX = 0.08  # a face found within this share of its size from the kept box is the same face

Box = tuple[int, int, int, int]


def participant_face(faces: list[Face], width: int, height: int) -> Face | None:
    """The tile's own participant: of the larger faces, the one nearest the tile's centre
    (a webcam's owner sits in front of it; others in the room sit around). A face found much
    less surely than the surest one is no rival for it: a fan or a poster behind a student can
    make a larger box than the student's face."""
    if not faces:
        return None
    surest = max(f.score for f in faces)
    faces = [f for f in faces if f.score >= surest - SURE_MARGIN]
    largest = max(f.box[2] * f.box[3] for f in faces)
    big = [f for f in faces if f.box[2] * f.box[3] >= 0.5 * largest]
    return min(big, key=lambda f: np.hypot(f.box[0] + f.box[2] / 2 - width / 2, f.box[1] + f.box[3] / 2 - height / 2))


def window_around(box: Box, width: int, height: int) -> Box:
    """The square WINDOW times the face's larger side around its centre, cut to the tile."""
    x, y, w, h = box
    half = WINDOW * max(w, h) / 2
    cx, cy = x + w / 2, y + h / 2
    x0, y0 = max(0, int(cx - half)), max(0, int(cy - half))
    x1, y1 = min(width, int(np.ceil(cx + half))), min(height, int(np.ceil(cy + half)))
    return x0, y0, x1 - x0, y1 - y0


def face_near(tile: np.ndarray, last: Box, detector) -> Box | None:
    """The face of about the last one's size in the window around it, in tile pixels."""
    x0, y0, w, h = window_around(last, tile.shape[1], tile.shape[0])
    scale = min(1.0, FACE_PX / max(last[2], last[3]))
    window = tile[y0 : y0 + h, x0 : x0 + w]
    if scale < 1.0:
        window = cv2.resize(window, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    size = max(last[2], last[3])
    found = []
    for face in detector.detect(window):
        fx, fy, fw, fh = (v / scale for v in face.box)
        box = (round(x0 + fx), round(y0 + fy), round(fw), round(fh))
        if min(box[2], box[3]) >= TILE_MIN_FACE_PX and 1 / SAME_SIZE <= max(box[2], box[3]) / size <= SAME_SIZE:
            found.append(box)
    centre = (last[0] + last[2] / 2, last[1] + last[3] / 2)
    return min(found, key=lambda b: np.hypot(b[0] + b[2] / 2 - centre[0], b[1] + b[3] / 2 - centre[1]), default=None)


def face_in(tile: np.ndarray, detector) -> Box | None:
    best = participant_face(find_faces(tile, detector, TILE_MIN_FACE_PX), tile.shape[1], tile.shape[0])
    return best.box if best is not None else None


def look_around(tile: np.ndarray, face: Box) -> np.ndarray:
    """The window around a face as a small thumbnail: what must stay put for its box to hold
    (a move of a tenth of the face's size changes it by several grey levels; sensor noise and
    video coding average out)."""
    x, y, w, h = window_around(face, tile.shape[1], tile.shape[0])
    return cv2.resize(tile[y : y + h, x : x + w], (THUMB_PX, THUMB_PX), interpolation=cv2.INTER_AREA).astype(np.int16)


def unchanged(look: np.ndarray, earlier: np.ndarray) -> bool:
    return look.shape == earlier.shape and float(np.abs(look - earlier).mean()) < STILL_FACE


def same_face(box: Box, kept: Box) -> bool:
    """Is `box` the kept box found again, but for the detector's jitter of a few pixels?"""
    size = max(kept[2], kept[3])
    shift = np.hypot(box[0] + box[2] / 2 - kept[0] - kept[2] / 2, box[1] + box[3] / 2 - kept[1] - kept[3] / 2)
    return shift <= KEEP_BOX * size and abs(max(box[2], box[3]) / size - 1) <= KEEP_BOX


@dataclass(frozen=True)
class Seen:
    tile_size: tuple[int, int]
    face: Box  # in the tile's pixels
    look: np.ndarray  # look_around(tile, face) when the face was last found there


class TileFaces:
    """Faces of a capture's tiles, each participant's looked for near its last face; tiles
    are searched in parallel, one detector per core, where the detector can be twinned
    (a YuNet net is 230 KB; MTCNN's TensorFlow nets are not copied)."""

    def __init__(self, detector, workers: int = 0):
        workers = workers or min(2, os.cpu_count() or 1)
        twin = getattr(detector, "twin", None)
        detectors = [detector] + ([twin() for _ in range(workers - 1)] if twin else [])
        self._free: queue.SimpleQueue = queue.SimpleQueue()
        for each in detectors:
            self._free.put(each)
        self._pool = ThreadPoolExecutor(len(detectors), thread_name_prefix="faces") if len(detectors) > 1 else None
        self.seen: dict[str, Seen] = {}
        self.turn = 0

    def find(self, tiles: list[tuple[str, np.ndarray]]) -> list[Box | None]:
        """(participant key, tile image) -> the participant's face box in the tile, or None."""
        self.turn += 1
        in_turn = tiles[self.turn % len(tiles)][0] if tiles else None

        def search(item: tuple[str, np.ndarray]) -> Seen | None:
            key, tile = item
            last = self.seen.get(key)
            same_size = last is not None and last.tile_size == tile.shape[1::-1]
            if same_size and unchanged(look_around(tile, last.face), last.look):
                return last
            detector = self._free.get()
            try:
                box = face_near(tile, last.face, detector) if same_size and key != in_turn else None
                box = box if box is not None else face_in(tile, detector)
            finally:
                self._free.put(detector)
            if box is None:
                return None
            if same_size and same_face(box, last.face):
                box = last.face
            return Seen(tile.shape[1::-1], box, look_around(tile, box))

        found = list(self._pool.map(search, tiles)) if self._pool and len(tiles) > 1 else [search(t) for t in tiles]
        for (key, _), seen in zip(tiles, found):
            if seen is None:
                self.seen.pop(key, None)
            else:
                self.seen[key] = seen
        return [None if seen is None else seen.face for seen in found]
