"""Find the participant tiles in a screenshot of a meeting's gallery view.

A gallery is a lattice of equal tiles. We look for that lattice in the picture's own evidence
rather than guess a background at its edge (real captures are cropped, or show the window on
a desktop). Each kind of gallery has its own search, and the best lattice wins (grid.finest):

- agent.gap_grid: tiles separated by flat gaps of one colour (Zoom, Teams, Meet since 2021);
- agent.gapless_grid: tile and stage one colour, or videos abutting (Meet 2020);
- agent.grid: what they share (the tile box, gap colours, masks, lattice measures).

This module runs them: on the picture, inside a window on a desktop (when the only tile found
is most of the picture, or a framed window on a photo wallpaper), on a photo of a screen
turned level; and TileFinder keeps the last lattice while it still fits.
"""

from __future__ import annotations

import cv2
import numpy as np

from agent.gap_grid import LOOSE_TOLERANCES, gap_lattice
from agent.gapless_grid import abutting_lattice, gapless_lattice, line_lattice
from agent.grid import (
    HALF,
    MIN_TILE_H,
    MIN_TILE_W,
    TileBox,
    border_crossings,
    finest,
    frame_support,
    gap_level,
    long_edges,
    runs,
    same_lattice,
)

NOISY = 0.5  # grey levels of noise above which a picture is smoothed first (screenshots: 0-0.25)
MAX_SIDE = 4096  # larger captures are searched at a reduced scale
MIN_SKEW_DEG, MAX_SKEW_DEG = 0.3, 10.0  # a photographed screen is re-levelled within this range
STALE_CROSSING = 0.25  # a kept lattice's border crossed this much more than when found: search again
WINDOW_SIDE = 0.3  # of the picture's side: the shortest window edge searched for on a photo wallpaper
MIN_WINDOW = 0.15  # of the picture's area: the smallest window searched for a gallery


def find_tiles(image: np.ndarray, depth: int = 2) -> list[TileBox]:
    """Tiles in reading order (top to bottom, left to right); [] when there is no gallery."""
    if image is None or image.size == 0 or min(image.shape[:2]) < MIN_TILE_H:
        return []
    gray = image if image.ndim == 2 else cv2.cvtColor(image[..., :3], cv2.COLOR_BGR2GRAY)
    factor = min(1.0, MAX_SIDE / max(gray.shape))
    if factor < 1.0:
        gray = cv2.resize(gray, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)
    if noise_level(gray) > NOISY:
        gray = cv2.medianBlur(gray, 3)  # a photo of a screen: sensor noise breaks the flat colours
    tiles = _find_nested(gray, depth)
    tiles = [t.scaled(1 / factor) for t in tiles] if factor < 1.0 else tiles
    return reading_order(within(tiles, image.shape[1], image.shape[0]))


def within(tiles: list[TileBox], width: int, height: int) -> list[TileBox]:
    """The tiles cut to the picture (a lattice phase can round a pixel past its edge, and a
    negative origin would slice from the other end)."""
    out = []
    for t in tiles:
        x0, y0 = max(0, t.x), max(0, t.y)
        x1, y1 = min(width, t.x + t.w), min(height, t.y + t.h)
        if x1 - x0 >= MIN_TILE_W // 2 and y1 - y0 >= MIN_TILE_H // 2:
            out.append(TileBox(x0, y0, x1 - x0, y1 - y0))
    return out


def noise_level(gray: np.ndarray) -> float:
    """Grey levels of pixel noise: the robust spread of a second-difference filter that cancels
    flat areas and ramps (Immerkaer's mask, median absolute deviation); 0 for a screenshot."""
    step = max(1, max(gray.shape) // 800)
    small = gray[::step, ::step].astype(np.float32)
    mask = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], np.float32)
    response = cv2.filter2D(small, -1, mask)[1:-1, 1:-1]
    return float(1.4826 * np.median(np.abs(response)) / 6) if response.size else 0.0


class TileFinder:
    """find_tiles with a memory: a gallery rarely changes between two captures, so the last
    lattice is kept while its borders are crossed no more than when it was found (checked
    along the borders alone, a few ms: a reflowed gallery puts old borders through new
    videos and names), and searched afresh every `refresh` captures regardless."""

    def __init__(self, refresh: int = 12):
        self.refresh = refresh
        self.tiles: list[TileBox] = []
        self.shape: tuple[int, ...] | None = None
        self.crossings = np.zeros(0)
        self.level = 0
        self.reused = 0

    def find(self, image: np.ndarray) -> list[TileBox]:
        if image is None or image.size == 0 or min(image.shape[:2]) < MIN_TILE_H:
            return []
        gray = image if image.ndim == 2 else cv2.cvtColor(image[..., :3], cv2.COLOR_BGR2GRAY)
        if len(self.tiles) >= 2 and image.shape == self.shape and self.reused < self.refresh:
            now = border_crossings(gray, self.tiles, self.level)
            if now.size and np.all(now <= self.crossings + STALE_CROSSING):
                self.reused += 1
                return self.tiles
        self.tiles, self.shape, self.reused = find_tiles(image), image.shape, 0
        self.crossings = np.zeros(0)
        if len(self.tiles) >= 2:  # a frame with no gallery (speaker view) is searched afresh each capture
            self.level = gap_level(gray)  # kept with the grid
            self.crossings = border_crossings(gray, self.tiles, self.level)
        return self.tiles


def _find_nested(gray: np.ndarray, depth: int) -> list[TileBox]:
    tiles = gap_lattice(gray)
    if len(tiles) >= 2:
        return tiles
    lines = line_lattice(gray)
    other = gapless_lattice(gray) or abutting_lattice(gray) or gap_lattice(gray, LOOSE_TOLERANCES) or tiles
    # The same lattice found both ways: the other search bounds tiles by their edges, the line
    # search only knows the free stretch in which a boundary lies.
    candidates = [other] if same_lattice(lines, other) else [lines, other]
    if depth > 0 and len(tiles) == 1 and tiles[0].w * tiles[0].h > 0.3 * gray.size:  # a window on a desktop
        outer = tiles[0]
        inner = _find_nested(gray[outer.y : outer.y + outer.h, outer.x : outer.x + outer.w], depth - 1)
        candidates.append([t.shifted(outer.x, outer.y) for t in inner] if len(inner) >= 2 else [])
    best = finest(candidates, gray)
    if best or depth == 0:
        return best
    for window in framed_windows(gray):  # a window on a photo wallpaper: no flat desktop to cut along
        inner = _find_nested(gray[window.y : window.y + window.h, window.x : window.x + window.w], depth - 1)
        if len(inner) >= 2:
            return [t.shifted(window.x, window.y) for t in inner]
    return []


def framed_windows(gray: np.ndarray, tried: int = 4) -> list[TileBox]:
    """Rectangles bounded by long straight edges on all four sides (an app window's frame),
    largest first: the places a gallery may be when the desktop around it is no flat colour."""
    h, w = gray.shape
    vertical, horizontal = long_edges(gray, 1, int(WINDOW_SIDE * h)), long_edges(gray, 0, int(WINDOW_SIDE * w))
    xs, ys = (
        strongest_lines(vertical.sum(axis=0), WINDOW_SIDE * h),
        strongest_lines(horizontal.sum(axis=1), WINDOW_SIDE * w),
    )
    boxes = [
        TileBox(x0, y0, x1 - x0, y1 - y0)
        for i, x0 in enumerate(xs) for x1 in xs[i + 1 :] for j, y0 in enumerate(ys) for y1 in ys[j + 1 :]
        if (x1 - x0) * (y1 - y0) >= MIN_WINDOW * h * w
    ]  # fmt: skip
    framed = [b for b in boxes if all(side >= HALF for side in frame_support(vertical, horizontal, b))]
    return sorted(framed, key=lambda b: b.w * b.h, reverse=True)[:tried]


def strongest_lines(lengths: np.ndarray, least: float, most: int = 10) -> list[int]:
    """Positions of the longest edges (one per run of neighbouring ones), in order."""
    found = [a + int(np.argmax(lengths[a:b])) for a, b in runs(lengths >= least, 1)]
    return sorted(sorted(found, key=lambda p: lengths[p], reverse=True)[:most])


def skew_angle(image: np.ndarray) -> float:
    """Degrees the picture's long near-horizontal lines are turned by (a photo of a monitor
    taken slightly askew): the length-weighted median of their angles; 0 when level or unsure."""
    gray = image if image.ndim == 2 else cv2.cvtColor(image[..., :3], cv2.COLOR_BGR2GRAY)
    factor = min(1.0, 800 / max(gray.shape))
    if factor < 1.0:
        gray = cv2.resize(gray, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)
    edges = cv2.Canny(gray, 20, 60)
    width = gray.shape[1]
    lines = cv2.HoughLinesP(edges, 1, np.pi / 720, 60, minLineLength=int(0.1 * width), maxLineGap=10)
    if lines is None:
        return 0.0
    x0, y0, x1, y1 = lines.reshape(-1, 4).T.astype(np.float64)
    angles = np.degrees(np.arctan2(y1 - y0, x1 - x0))
    angles = (angles + 90) % 180 - 90
    lengths = np.hypot(x1 - x0, y1 - y0)
    near = np.abs(angles) <= MAX_SKEW_DEG
    if near.sum() < 2:
        return 0.0
    order = np.argsort(angles[near])
    weights = np.cumsum(lengths[near][order])
    angle = float(angles[near][order][np.searchsorted(weights, weights[-1] / 2)])
    return angle if abs(angle) >= MIN_SKEW_DEG else 0.0


def deskewed(image: np.ndarray, angle: float) -> np.ndarray:
    """The picture turned back by `angle` degrees about its centre (borders replicated)."""
    h, w = image.shape[:2]
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    return cv2.warpAffine(image, matrix, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def reading_order(tiles: list[TileBox]) -> list[TileBox]:
    return sorted(tiles, key=lambda b: (round(b.y / max(1, b.h / 2)), b.x))
