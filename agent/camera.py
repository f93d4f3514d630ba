"""Is a tile's camera on? Camera-off tiles are drawn by the meeting app, not filmed.

Zoom, Teams and Meet draw a camera-off tile as one flat colour with something centred on it:
the name, an initials avatar, or a still profile photo (square in Zoom, round in Meet). A
video fills its tile to the edges (a pillarboxed 4:3 camera still reaches the top and bottom
in the middle). So we look at the tile's outer ring, leaving out the name tag's corner and
the few pixels a speaker border covers: flat all round means camera off. A black frame (the
camera on but covered) is flat too, and counts as off. No app draws its tiles black, though,
so a black ring counts as drawn only when it is black nearly all round: a dark room filmed
(a silhouette reaching the ring) stays a live video.

A profile photo with a face in it must not have its expression read. Across captures a still
photo stays pixel-identical where live video never does: still_signature and is_still give
that second signal for tiles the ring leaves in doubt (the pipeline keeps the signatures).
"""

from __future__ import annotations

import cv2
import numpy as np

RING = 0.14  # of the tile's shorter side: the outer band that a centred photo leaves empty
BORDER_PX = 5  # a speaker border (Zoom green/yellow) and anti-aliasing
FLAT_LEVELS = 6  # grey levels around the ring's main level that count as the same colour
STILL_RING = 0.6  # a still tile is a photo only when its ring is partly flat too (video rings measured <= 0.52)
FLAT_SHARE = 0.75  # share of the ring at one level for "drawn, not filmed"; 0 of 1,915 real photos reach it
BLACK = 8  # a ring level this dark is no app's tile colour: a covered camera, or a dark room ...
BLACK_UNIFORM = 0.9  # ... told apart by how much of the ring is black (a covered camera: all of it)


def ring_pixels(gray: np.ndarray) -> np.ndarray:
    """The tile's outer band, less the border and the bottom-left name tag (Zoom, Meet)."""
    h, w = gray.shape
    inner = gray[BORDER_PX : h - BORDER_PX, BORDER_PX : w - BORDER_PX]
    ih, iw = inner.shape
    if ih < 8 or iw < 8:
        return inner.ravel()
    band = max(2, int(RING * min(ih, iw)))
    mask = np.zeros(inner.shape, bool)
    mask[:band], mask[-band:], mask[:, :band], mask[:, -band:] = True, True, True, True
    mask[int(ih * 0.75) :, : int(iw * 0.6)] = False  # the tag and its mic icon
    mask[: int(ih * 0.2), : int(iw * 0.2)] = False  # a raised hand, a pinned icon
    mask[: int(ih * 0.2), int(iw * 0.8) :] = False  # the "..." menu button
    return inner[mask]


def ring_flatness(tile: np.ndarray) -> float:
    """Share of the outer ring within FLAT_LEVELS of its most common grey level."""
    gray = tile if tile.ndim == 2 else cv2.cvtColor(tile[..., :3], cv2.COLOR_BGR2GRAY)
    pixels = ring_pixels(gray).astype(np.int16)
    if pixels.size == 0:
        return 1.0
    level = int(np.bincount(pixels, minlength=256).argmax())
    share = float((np.abs(pixels - level) <= FLAT_LEVELS).mean())
    return share * FLAT_SHARE / BLACK_UNIFORM if level <= BLACK else share  # black: drawn only at BLACK_UNIFORM


def is_camera_off(tile: np.ndarray) -> bool:
    return is_drawn(ring_flatness(tile))


def is_drawn(flatness: float) -> bool:
    """A ring this flat was drawn by the app, not filmed: the camera is off."""
    return flatness >= FLAT_SHARE


def still_signature(tile: np.ndarray) -> np.ndarray:
    """A small grey thumbnail of the tile's middle, for comparing one capture with the next."""
    gray = tile if tile.ndim == 2 else cv2.cvtColor(tile[..., :3], cv2.COLOR_BGR2GRAY)
    h, w = gray.shape
    middle = gray[h // 6 : h - h // 4, w // 6 : w - w // 6]
    if middle.size == 0:
        return np.zeros((12, 16), np.float32)
    return cv2.resize(middle, (16, 12), interpolation=cv2.INTER_AREA).astype(np.float32)


def is_still(previous: np.ndarray | None, current: np.ndarray, tolerance: float = 1.5) -> bool:
    """Two signatures of one participant's tile alike to codec noise: a still picture."""
    if previous is None or previous.shape != current.shape:
        return False
    return float(np.abs(previous - current).mean()) < tolerance
