"""What the grid searches share: the tile box, the flat colours a picture offers as gaps,
content masks, and the measures that compare candidate lattices (size, cover, alikeness)."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from agent.cut_lines import EDGE_STEP, correlations

GAP_TOLERANCE = 4  # half of the smallest tile/gap contrast measured on real Zoom (34 vs 26)
MIN_TILE_W, MIN_TILE_H = 64, 36
ASPECT_RANGE = (1.0, 2.4)  # width / height; Zoom 16:9, Meet and Teams 4:3 to 16:9
SIZE_TOLERANCE = 0.04  # tiles of one gallery have one size, up to a trimmed border
MAX_CANDIDATE_GAPS = 6
FULL_LINE = 0.9  # share of a row or column in one colour for it to be a drawn line (a gap)
HALF = 0.5
FILLED = 0.5  # share of a cell that a video covers (dark video parts can match the stage)
ALIKE_REFINES = 0.75  # a finer lattice this much less alike than a coarse one halves its tiles


@dataclass(frozen=True)
class TileBox:
    x: int
    y: int
    w: int
    h: int

    @property
    def center(self) -> tuple[float, float]:
        return self.x + self.w / 2, self.y + self.h / 2

    def contains(self, x: float, y: float) -> bool:
        return self.x <= x < self.x + self.w and self.y <= y < self.y + self.h

    def as_tuple(self) -> tuple[int, int, int, int]:
        return self.x, self.y, self.w, self.h

    def shifted(self, dx: int, dy: int) -> TileBox:
        return TileBox(self.x + dx, self.y + dy, self.w, self.h)

    def scaled(self, factor: float) -> TileBox:
        return TileBox(*(int(round(v * factor)) for v in self.as_tuple()))


def runs(mask: np.ndarray, min_length: int) -> list[tuple[int, int]]:
    """Start/stop index pairs of the True runs of a 1-D mask at least `min_length` long."""
    padded = np.concatenate([[False], mask, [False]])
    edges = np.flatnonzero(np.diff(padded.astype(np.int8)))
    return [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2]) if b - a >= min_length]


def gap_level(gray: np.ndarray) -> int:
    """The picture's most common flat colour: its gap between tiles, where it has one."""
    levels = candidate_gaps(gray, thin=False)
    return levels[0] if levels else int(np.median(gray))


def border_crossings(gray: np.ndarray, tiles: list[TileBox], level: int | None = None) -> np.ndarray:
    """For each tile's four borders, the share of its length that content crosses with no step
    between the two sides (the least of the border and the lines a pixel either side); an
    empty array when a tile no longer fits the picture. Content is what differs from the gap
    colour `level` (by default the picture's most common flat colour)."""
    level = gap_level(gray) if level is None else level
    g = gray.astype(np.int16)
    height, width = g.shape
    shares = []
    for t in tiles:
        x0, x1 = max(2, t.x), min(width - 2, t.x + t.w)
        y0, y1 = max(2, t.y), min(height - 2, t.y + t.h)
        if x1 - x0 < 4 or y1 - y0 < 4:
            return np.zeros(0)
        pairs = [border_pairs(g, x0, x1, y0, y1, d) for d in (-1, 0, 1)]
        shares.extend(min(crossed_share(*pairs[d][side], level) for d in range(3)) for side in range(4))
    return np.array(shares)


def border_pairs(g: np.ndarray, x0: int, x1: int, y0: int, y1: int, d: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """The pixel lines either side of a box's left, right, top and bottom border, moved by d."""
    return [
        (g[y0:y1, x0 - 1 + d], g[y0:y1, x0 + d]),
        (g[y0:y1, x1 - 1 + d], g[y0:y1, x1 + d]),
        (g[y0 - 1 + d, x0:x1], g[y0 + d, x0:x1]),
        (g[y1 - 1 + d, x0:x1], g[y1 + d, x0:x1]),
    ]


def crossed_share(before: np.ndarray, after: np.ndarray, level: int) -> float:
    content = (np.abs(before - level) > GAP_TOLERANCE) & (np.abs(after - level) > GAP_TOLERANCE)
    return float((content & (np.abs(before - after) < EDGE_STEP)).mean())


def frame_support(vertical: np.ndarray, horizontal: np.ndarray, box: TileBox) -> list[float]:
    """Share of each side of the box that lies on a long edge."""
    x1, y1 = box.x + box.w, box.y + box.h
    return [
        boundary_support(vertical, box.x, box.y, y1, 1),
        boundary_support(vertical, x1, box.y, y1, 1),
        boundary_support(horizontal, box.y, box.x, x1, 0),
        boundary_support(horizontal, y1, box.x, x1, 0),
    ]


def candidate_gaps(gray: np.ndarray, thin: bool = True) -> list[int]:
    """Grey levels of the picture's large flat areas, most common first, then (`thin`) those of
    lines drawn across it: the gap is one of them."""
    step = max(1, max(gray.shape) // 800)
    small = gray[::step, ::step].astype(np.int16)
    flat = (np.abs(np.diff(small, axis=1))[:-1, :] <= 1) & (np.abs(np.diff(small, axis=0))[:, :-1] <= 1)
    levels = small[:-1, :-1][flat]
    if levels.size == 0:
        return []
    counts = np.bincount(levels.ravel(), minlength=256).astype(np.float64)
    peaks = []
    for level in np.argsort(counts)[::-1]:
        if counts[level] < 0.01 * small.size or len(peaks) == MAX_CANDIDATE_GAPS:
            break
        if all(abs(int(level) - p) > GAP_TOLERANCE for p in peaks):
            peaks.append(int(level))
    for level in line_levels(gray) if thin else []:  # a 1-2 px gap of a cropped grid is too few pixels
        if all(abs(level - p) > GAP_TOLERANCE for p in peaks):
            peaks.append(level)
    return peaks


def line_levels(gray: np.ndarray) -> list[int]:
    """Grey levels of whole rows or columns drawn in one colour (FULL_LINE of their length
    within a grey level of the median of 9 samples along them): thin gaps between tiles.
    Every row and every column is looked at (a gap can be 1 px), each at every few pixels."""
    levels: list[int] = []
    step = max(1, max(gray.shape) // 800)
    for lines in (gray, gray.T):
        samples = lines[:, np.linspace(0, lines.shape[1] - 1, 9).astype(int)].astype(np.int16)
        median = np.median(samples, axis=1, keepdims=True)
        likely = np.flatnonzero((np.abs(samples - median) <= 1).sum(axis=1) >= 7)  # the few worth a full look
        whole = lines[likely, ::step].astype(np.int16)
        one_colour = (np.abs(whole - median[likely]) <= 1).mean(axis=1) >= FULL_LINE
        levels.extend(int(m) for m in median[likely][one_colour, 0])
    counts = np.bincount(np.array(levels, np.int64), minlength=256) if levels else np.zeros(256, np.int64)
    return [int(level) for level in np.argsort(counts)[::-1][:2] if counts[level] > 0]


def share(mask: np.ndarray, axis: int) -> np.ndarray:
    """Share of set pixels per column (axis 0) or row (axis 1) of a 0/1 uint8 mask (OpenCV's
    reduce: several times faster than numpy's mean on these sizes)."""
    if mask.size == 0:
        return np.zeros(mask.shape[1 - axis], np.float64)
    sums = cv2.reduce(mask, axis, cv2.REDUCE_SUM, dtype=cv2.CV_32S).ravel()
    return sums / mask.shape[axis]


def same_size(a: TileBox, b: TileBox) -> bool:
    return abs(a.w - b.w) <= max(3, SIZE_TOLERANCE * a.w) and abs(a.h - b.h) <= max(3, SIZE_TOLERANCE * a.h)


def shaped(box: TileBox) -> bool:
    return box.w >= MIN_TILE_W and box.h >= MIN_TILE_H and ASPECT_RANGE[0] <= box.w / box.h <= ASPECT_RANGE[1]


def largest_equal_group(boxes: list[TileBox]) -> list[TileBox]:
    """The most boxes of one size (ties: the larger tiles): the gallery's cells."""
    best: list[TileBox] = []
    for box in boxes:
        group = [b for b in boxes if same_size(box, b)]
        if (len(group), box.w * box.h) > (len(best), best[0].w * best[0].h if best else 0):
            best = group
    return best


def content_mask(gray: np.ndarray, level: int, tolerance: int) -> np.ndarray:
    """1 where a pixel is further than `tolerance` from the gap colour `level`, else 0."""
    table = (np.abs(np.arange(256) - level) > tolerance).astype(np.uint8)
    return cv2.LUT(gray, table)


def drawn_on(gray: np.ndarray, box: TileBox) -> bool:
    """Something is drawn inside the cell (a name, an avatar, video): not a bare desktop or
    stage, nor a sliver of the neighbouring video along its side."""
    cell = gray[max(0, box.y) : box.y + box.h, max(0, box.x) : box.x + box.w]
    if cell.size == 0:
        return False
    level = int(np.bincount(cell.ravel(), minlength=256).argmax())
    drawn = np.abs(cell.astype(np.int16) - level) > GAP_TOLERANCE
    dx, dy = max(2, box.w // 25), max(2, box.h // 25)
    return float(drawn.mean()) > 0.005 and int(drawn[dy:-dy, dx:-dx].sum()) >= 0.0005 * cell.size


def alikeness(gray: np.ndarray, tiles: list[TileBox]) -> float:
    """How alike a lattice's tiles are laid out (0..1): the correlation of each tile's coarse
    detail map with their median. Every tile of a gallery puts its name tag, avatar or video
    in the same places; a wrong lattice mixes halves of tiles."""
    if len(tiles) < 2:
        return 1.0
    maps = []
    for t in tiles:
        cell = gray[max(0, t.y) : t.y + t.h, max(0, t.x) : t.x + t.w]
        if cell.size == 0:
            return 0.0
        detail = np.abs(cv2.Laplacian(cell, cv2.CV_32F))
        maps.append(cv2.resize(detail, (16, 9), interpolation=cv2.INTER_AREA).ravel())
    stack = np.stack(maps)
    median = np.median(stack, axis=0)
    if median.std() < 1e-6:
        return 1.0
    return float(np.clip(correlations(stack, median).mean(), 0.05, 1.0))


def same_lattice(a: list[TileBox], b: list[TileBox]) -> bool:
    """As many tiles, each of one lattice holding the centre of its own tile of the other."""
    if len(a) != len(b) or len(a) < 2:
        return False
    holders = {next((i for i, t in enumerate(a) if t.contains(x, y)), -1) for x, y in (t.center for t in b)}
    return -1 not in holders and len(holders) == len(a)


def overlap(a: TileBox, b: TileBox) -> int:
    dx = min(a.x + a.w, b.x + b.w) - max(a.x, b.x)
    dy = min(a.y + a.h, b.y + b.h) - max(a.y, b.y)
    return max(0, dx) * max(0, dy)


def area(tiles: list[TileBox]) -> int:
    return sum(t.w * t.h for t in tiles)


def score(tiles: list[TileBox], picture_area: int) -> tuple[int, int]:
    """More of the picture covered by equal tiles (in steps of 5 %), then more tiles.

    A lattice of profile photos inside camera-off tiles has more cells of one size than the
    gallery, but covers less of the picture."""
    return (int(20 * area(tiles) / picture_area) if len(tiles) >= 2 else -1), len(tiles)


def pitch(profile: np.ndarray, min_lag: int) -> int | None:
    """The lag (>= min_lag) at which a content profile best repeats itself, or None."""
    centered = profile - profile.mean()
    n = centered.size
    if n < 2 * min_lag or not centered.any():
        return None
    corr = np.correlate(centered, centered, mode="full")[n - 1 :]
    corr = corr / (corr[0] + 1e-9)
    lags = np.arange(min_lag, n // 2 + 1)
    if lags.size == 0:
        return None
    lag = int(lags[np.argmax(corr[lags])])
    for divisor in (4, 3, 2):  # the lattice repeats at every multiple of its pitch: take the smallest
        near = np.arange(max(min_lag, lag // divisor - 2), lag // divisor + 3)
        near = near[near < n]
        if near.size and corr[near].max() >= 0.7 * corr[lag]:
            lag = int(near[np.argmax(corr[near])])
            break
    return lag if corr[lag] > 0.2 else None


def longest_run(mask: np.ndarray) -> tuple[int, int] | None:
    found = runs(mask, 1)
    return max(found, key=lambda r: r[1] - r[0]) if found else None


def long_edges(gray: np.ndarray, axis: int, length: int) -> np.ndarray:
    """Edge pixels on straight lines at least `length` long: the borders of abutting videos.

    axis 1: vertical lines (steps along x); axis 0: horizontal lines (steps along y).
    """
    step = np.abs(np.diff(gray.astype(np.int16), axis=axis)) > 2 * GAP_TOLERANCE
    step = np.pad(step, ((0, 1), (0, 0)) if axis == 0 else ((0, 0), (0, 1))).astype(np.uint8)
    kernel = np.ones((length, 1) if axis == 1 else (1, length), np.uint8)
    return cv2.morphologyEx(step, cv2.MORPH_OPEN, kernel).astype(bool)


def finest(lattices: list[list[TileBox]], gray: np.ndarray, refiners: list[list[TileBox]] = ()) -> list[TileBox]:
    """The best of several lattices. A coarse lattice is set aside first: one whose tiles hold
    two or more tiles of a finer lattice covering at least half as much (its lines are a subset
    of the true ones; a chrome bar or a margin can make it cover more), unless the finer
    tiles look much less alike (they halve each tile: a name tag in one half, none in the
    other). Of the rest, the one covering most of the picture (in 5 % steps, weighted by how
    alike its tiles look), then the one with more tiles."""
    known: dict[int, float] = {}

    def alike(tiles: list[TileBox]) -> float:
        if id(tiles) not in known:
            known[id(tiles)] = alikeness(gray, tiles)
        return known[id(tiles)]

    def refines(fine: list[TileBox], coarse: list[TileBox]) -> bool:
        if len(fine) <= len(coarse) or area(fine) < HALF * area(coarse):
            return False
        centres = [t.center for t in fine]
        split = [sum(c.contains(x, y) for x, y in centres) >= 2 for c in coarse]
        return sum(split) >= HALF * len(coarse) and alike(fine) >= ALIKE_REFINES * alike(coarse)

    lattices = [tiles for tiles in lattices if len(tiles) >= 2]
    refiners = [tiles for tiles in refiners if len(tiles) >= 2]
    kept = [tiles for tiles in lattices if not any(refines(other, tiles) for other in [*lattices, *refiners])]
    return max(kept, key=lambda tiles: (score(tiles, gray.size)[0] * alike(tiles), len(tiles)), default=[])


def boundary_support(lines: np.ndarray, position: int, start: int, stop: int, axis: int) -> float:
    """Share of a cell side's length that lies on a long edge (within 2 px of the side)."""
    if axis == 1:  # a vertical side at x = position, rows start..stop
        strip = lines[start:stop, max(0, position - 2) : position + 3]
        return float(strip.any(axis=1).mean()) if strip.size else 0.0
    strip = lines[max(0, position - 2) : position + 3, start:stop]
    return float(strip.any(axis=0).mean()) if strip.size else 0.0
