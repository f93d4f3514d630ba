"""Find the participant tiles in a screenshot of a meeting's gallery view.

Galleries (Zoom first; Teams and Meet alike) are tiles on a flat dark background. We take
the background level from the screenshot's left and right edges, split the picture into
bands at rows that are all background, split each band into tiles at columns that are all
background, and keep the boxes whose size and shape look like the other tiles'. The title
bar and toolbar become bands too, but too flat to pass as tiles.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

GAP_TOLERANCE = 8  # grey levels around the background that still count as gap (video codecs add ~6)
MIN_TILE_W, MIN_TILE_H = 64, 36
ASPECT_RANGE = (1.0, 2.4)  # width / height; Zoom 16:9, Meet and Teams 4:3 to 16:9


@dataclass(frozen=True)
class TileBox:
    x: int
    y: int
    w: int
    h: int

    @property
    def center(self) -> tuple[float, float]:
        return self.x + self.w / 2, self.y + self.h / 2

    def as_tuple(self) -> tuple[int, int, int, int]:
        return self.x, self.y, self.w, self.h


def background_level(gray: np.ndarray) -> int:
    """The most common grey level on the left and right edges (the gallery's margin)."""
    edges = np.concatenate([gray[:, :3].ravel(), gray[:, -3:].ravel()])
    return int(np.bincount(edges, minlength=256).argmax())


def runs(mask: np.ndarray, min_length: int) -> list[tuple[int, int]]:
    """Start/stop index pairs of the True runs of a 1-D mask at least `min_length` long."""
    padded = np.concatenate([[False], mask, [False]])
    edges = np.flatnonzero(np.diff(padded.astype(np.int8)))
    return [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2]) if b - a >= min_length]


def find_tiles(image: np.ndarray, depth: int = 2) -> list[TileBox]:
    """Tiles in reading order (top to bottom, left to right); [] when there is no gallery.

    A screen capture may hold the meeting window on a desktop of another colour: when the
    only "tile" found is most of the picture, look for the gallery inside it (at most `depth`
    levels deep: desktop, window, gallery).
    """
    gray = image if image.ndim == 2 else cv2.cvtColor(image[..., :3], cv2.COLOR_BGR2GRAY)
    return _find_nested(gray, depth)


def _find_nested(gray: np.ndarray, depth: int) -> list[TileBox]:
    tiles = _find_tiles(gray)
    if depth > 0 and len(tiles) == 1 and tiles[0].w * tiles[0].h > 0.3 * gray.size:
        outer = tiles[0]
        inner = _find_nested(gray[outer.y : outer.y + outer.h, outer.x : outer.x + outer.w], depth - 1)
        if len(inner) >= 2:
            return [TileBox(t.x + outer.x, t.y + outer.y, t.w, t.h) for t in inner]
    return tiles


def _find_tiles(gray: np.ndarray) -> list[TileBox]:
    if gray.size == 0:
        return []
    background = background_level(gray)
    content = np.abs(gray.astype(np.int16) - background) > GAP_TOLERANCE
    boxes = []
    for top, bottom in runs(content.mean(axis=1) > 0.02, MIN_TILE_H):
        band = content[top:bottom]
        for left, right in runs(band.mean(axis=0) > 0.02, MIN_TILE_W):
            rows = np.flatnonzero(band[:, left:right].any(axis=1))
            y0, y1 = top + rows[0], top + rows[-1] + 1
            boxes.append(TileBox(left, int(y0), right - left, int(y1 - y0)))
    return plausible_tiles(boxes)


def plausible_tiles(boxes: list[TileBox]) -> list[TileBox]:
    """Drop boxes too small, too flat or too unlike the typical tile (toolbars, banners)."""
    shaped = [
        b for b in boxes if b.w >= MIN_TILE_W and b.h >= MIN_TILE_H and ASPECT_RANGE[0] <= b.w / b.h <= ASPECT_RANGE[1]
    ]
    if not shaped:
        return []
    typical = float(np.median([b.w * b.h for b in shaped]))
    kept = [b for b in shaped if 0.5 <= b.w * b.h / typical <= 2.0]
    return sorted(kept, key=lambda b: (round(b.y / max(1, b.h / 2)), b.x))
