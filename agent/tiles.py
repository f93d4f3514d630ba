"""Find the participant tiles in a screenshot of a meeting's gallery view.

A gallery is a lattice of equal tiles. We look for that lattice in the picture's own evidence
rather than guess a background at its edge (real captures are cropped, or show the window on
a desktop):

1. Gap galleries (Zoom, Teams, new Meet): tiles separated by flat gaps of one colour. Each
   flat colour of the picture is tried as the gap; the picture is cut recursively at rows and
   columns of that colour (an XY-cut), and the colour whose cut gives the most tiles of one
   size wins. A camera-off tile differs from Zoom's gap by only 8 grey levels (34 on 26), so
   the gap tolerance is half of that; codec noise is absorbed by counting shares of pixels,
   not single pixels (gaps can be 1 px wide: no blur).
2. Gapless galleries (Meet 2020: tile and stage one colour): the tiles' contents repeat at
   the lattice pitch, so the pitch is the peak of the autocorrelation of the content profile,
   and the phase is where the larger contents centre.

When the window sits on a desktop and the only tile found is most of the picture, the search
goes on inside it.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from agent.cut_lines import EDGE_STEP, UNCROSSED, Crossings, chain_candidates, correlations, shared_chains

GAP_TOLERANCE = 4  # half of the smallest tile/gap contrast measured on real Zoom (34 vs 26)
NOISY = 0.5  # grey levels of noise above which a picture is smoothed first (screenshots: 0-0.25)
# Looser tolerances are tried only when the strict one finds no lattice: a blurred or upscaled
# capture whose gaps never reach the gap colour.
LOOSE_TOLERANCES = (16, 40)
MIN_TILE_W, MIN_TILE_H = 64, 36
ASPECT_RANGE = (1.0, 2.4)  # width / height; Zoom 16:9, Meet and Teams 4:3 to 16:9
SIZE_TOLERANCE = 0.04  # tiles of one gallery have one size, up to a trimmed border
MAX_CANDIDATE_GAPS = 6
FULL_LINE = 0.9  # share of a row or column in one colour for it to be a drawn line (a gap)
MAX_SIDE = 4096  # larger captures are searched at a reduced scale
MIN_SKEW_DEG, MAX_SKEW_DEG = 0.3, 10.0  # a photographed screen is re-levelled within this range
CONTENT_SHARE = 0.15  # a row or column with more non-gap pixels is not gap (JPEG, a bleeding speaker border)
DIP = 0.5  # ... nor one with at least this share of the content on either side of it
MAX_GAP = 0.2  # of a tile's side: the widest gap between gallery tiles
PACKED = 0.75  # share of a lattice's tiles that must have a neighbour that near
ROW_CANDIDATES = 8  # row chains tried (by most cells, and by most span)
HALF = 0.5
MIN_GAPLESS_COVER = 0.2  # share of the picture a gapless lattice must cover
FILLED = 0.5  # share of a cell that a video covers (dark video parts can match the stage)
OFF_CENTRE = 0.12  # of a cell's width: how far a camera-off tile's avatar may sit from its centre
TILE_LIKE = 0.75  # share of a lattice's cells that must look like tiles
UI_FLAT = 0.6  # share of the stage-coloured pixels within a grey level of it: an app's flat fill
STALE_CROSSING = 0.25  # a kept lattice's border crossed this much more than when found: search again
ALIKE_REFINES = 0.75  # a finer lattice this much less alike than a coarse one halves its tiles
TAG_SHAPE = 2.0  # width / height from which a content blob is taken for a name tag
WINDOW_SIDE = 0.3  # of the picture's side: the shortest window edge searched for on a photo wallpaper
MIN_WINDOW = 0.15  # of the picture's area: the smallest window searched for a gallery
LINE_ASPECT = (0.75, 3.2)  # gapless grids divide the stage: Meet 2020 showed 2x2 tiles of 2.9


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
        self.reused = 0

    def find(self, image: np.ndarray) -> list[TileBox]:
        if image is None or image.size == 0 or min(image.shape[:2]) < MIN_TILE_H:
            return []
        gray = image if image.ndim == 2 else cv2.cvtColor(image[..., :3], cv2.COLOR_BGR2GRAY)
        if len(self.tiles) >= 2 and image.shape == self.shape and self.reused < self.refresh:
            now = border_crossings(gray, self.tiles)
            if now.size and np.all(now <= self.crossings + STALE_CROSSING):
                self.reused += 1
                return self.tiles
        self.tiles, self.shape, self.reused = find_tiles(image), image.shape, 0
        self.crossings = border_crossings(gray, self.tiles) if len(self.tiles) >= 2 else np.zeros(0)
        return self.tiles


def border_crossings(gray: np.ndarray, tiles: list[TileBox], level: int | None = None) -> np.ndarray:
    """For each tile's four borders, the share of its length that content crosses with no step
    between the two sides (the least of the border and the lines a pixel either side); an
    empty array when a tile no longer fits the picture. Content is what differs from the gap
    colour `level` (by default the picture's most common flat colour)."""
    if level is None:
        levels = candidate_gaps(gray)
        level = levels[0] if levels else int(np.median(gray))
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


def frame_support(vertical: np.ndarray, horizontal: np.ndarray, box: TileBox) -> list[float]:
    """Share of each side of the box that lies on a long edge."""
    x1, y1 = box.x + box.w, box.y + box.h
    return [
        boundary_support(vertical, box.x, box.y, y1, 1),
        boundary_support(vertical, x1, box.y, y1, 1),
        boundary_support(horizontal, box.y, box.x, x1, 0),
        boundary_support(horizontal, y1, box.x, x1, 0),
    ]


# --- gap galleries --------------------------------------------------------------------------


def candidate_gaps(gray: np.ndarray) -> list[int]:
    """Grey levels of the picture's large flat areas, most common first: the gap is one of them."""
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
    for level in line_levels(gray):  # a 1-2 px gap of a grid cropped to its tiles is too few pixels
        if all(abs(level - p) > GAP_TOLERANCE for p in peaks):
            peaks.append(level)
    return peaks


def line_levels(gray: np.ndarray) -> list[int]:
    """Grey levels of whole rows or columns drawn in one colour (FULL_LINE of their length
    within a grey level of their median): thin gaps between tiles."""
    levels: list[int] = []
    g = gray.astype(np.int16)
    for lines in (g, g.T):
        median = np.median(lines, axis=1, keepdims=True)
        one_colour = (np.abs(lines - median) <= 1).mean(axis=1) >= FULL_LINE
        levels.extend(int(m) for m in median[one_colour, 0])
    counts = np.bincount(np.array(levels, np.int64), minlength=256) if levels else np.zeros(256, np.int64)
    return [int(level) for level in np.argsort(counts)[::-1][:2] if counts[level] > 0]


def share(mask: np.ndarray, axis: int) -> np.ndarray:
    """Share of set pixels per column (axis 0) or row (axis 1) of a 0/1 uint8 mask (OpenCV's
    reduce: several times faster than numpy's mean on these sizes)."""
    if mask.size == 0:
        return np.zeros(mask.shape[1 - axis], np.float64)
    sums = cv2.reduce(mask, axis, cv2.REDUCE_SUM, dtype=cv2.CV_32S).ravel()
    return sums / mask.shape[axis]


def not_gap(profile: np.ndarray, outer: bool, reach: int = 12) -> np.ndarray:
    """Rows (or columns) that are not gap, from their share of content pixels.

    A gap is nearly empty (CONTENT_SHARE), or a dip to under half of the content on both of
    its sides: JPEG ringing and a bleeding speaker border fill a 6 px gap partly. Content
    present in every row (a desktop beside the window) does not count. Both only on the
    `outer` cuts (picture, bands): inside one tile they would split a video at a dark stripe.
    """
    if not outer:
        return profile > CONTENT_SHARE
    profile = profile - profile.min()
    padded = np.pad(profile, reach, constant_values=0.0)
    windows = np.lib.stride_tricks.sliding_window_view(padded, reach)
    before, after = windows[: profile.size], windows[reach + 1 : reach + 1 + profile.size]
    sides = np.minimum(before.max(axis=1), after.max(axis=1))
    return (profile > CONTENT_SHARE) & (profile >= DIP * sides)


def xy_cut(content: np.ndarray, x0: int = 0, y0: int = 0, depth: int = 4) -> list[TileBox]:
    """Boxes of content separated by gap rows and columns, cutting alternately (leaves only)."""
    outer = depth >= 4  # the picture and its bands
    rows = runs(not_gap(share(content, 1), outer), MIN_TILE_H // 2)
    boxes = []
    for top, bottom in rows:
        band = content[top:bottom]
        for left, right in runs(not_gap(share(band, 0), outer), MIN_TILE_W // 2):
            cell = band[:, left:right]
            filled = np.flatnonzero(share(cell, 1) > CONTENT_SHARE)
            if filled.size == 0:
                continue
            y_a, y_b = top + filled[0], top + filled[-1] + 1
            box = TileBox(x0 + left, y0 + int(y_a), right - left, int(y_b - y_a))
            inner = content[y_a:y_b, left:right]
            split = xy_cut(inner, box.x, box.y, depth - 1) if depth > 1 else []
            boxes.extend(split if len(split) > 1 else [box])
    return boxes


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


def gap_lattice(gray: np.ndarray, tolerances: tuple[int, ...] = (GAP_TOLERANCE,)) -> list[TileBox]:
    """The best lattice over every (gap colour, tolerance) pair; a stricter tolerance wins ties."""
    best: list[TileBox] = []
    levels = candidate_gaps(gray)
    ramps = on_ramp(gray, 2 * GAP_TOLERANCE)
    for tolerance in tolerances:
        if len(best) >= 2:
            break
        for level in levels:
            tiles = lattice_at(content_mask(gray, level, tolerance) | ramps, gray, level)
            if len(tiles) >= 2 and not bounded_by_gaps(gray, tiles, level):
                continue
            if score(tiles, gray.size) > score(best, gray.size):
                best = tiles
    return best


def bounded_by_gaps(gray: np.ndarray, tiles: list[TileBox], level: int) -> bool:
    """Most tile borders run along a gap that no content crosses: an XY-cut can also split a
    gapless grid where the content merely thins out (between rows of avatars), and its
    "tiles" then cut through avatars and videos."""
    crossings = border_crossings(gray, tiles, level)
    return crossings.size > 0 and float(np.median(crossings)) <= 1 - UNCROSSED


def content_mask(gray: np.ndarray, level: int, tolerance: int) -> np.ndarray:
    """1 where a pixel is further than `tolerance` from the gap colour `level`, else 0."""
    table = (np.abs(np.arange(256) - level) > tolerance).astype(np.uint8)
    return cv2.LUT(gray, table)


def on_ramp(gray: np.ndarray, step: int) -> np.ndarray:
    """1 where a pixel lies midway on a slope (brighter on one side, darker on the other, by
    more than `step` each way): a soft or resampled edge passes through every grey level
    between its two sides, the gap's included, but a gap is a flat field."""
    ramp = np.zeros(gray.shape, np.uint8)
    for a, b, mid in (
        (gray[:-2], gray[2:], (slice(1, -1), slice(None))),
        (gray[:, :-2], gray[:, 2:], (slice(None), slice(1, -1))),
    ):
        c = gray[mid]
        rising = cv2.bitwise_and(steep(c, a, step), steep(b, c, step))
        falling = cv2.bitwise_and(steep(a, c, step), steep(c, b, step))
        ramp[mid] |= cv2.bitwise_or(rising, falling)
    return ramp


def steep(high: np.ndarray, low: np.ndarray, step: int) -> np.ndarray:
    """1 where high exceeds low by more than step (uint8 arithmetic saturates at 0)."""
    return (cv2.subtract(np.ascontiguousarray(high), np.ascontiguousarray(low)) > step).view(np.uint8)


def lattice_at(content: np.ndarray, gray: np.ndarray, level: int) -> list[TileBox]:
    """The equal tiles that one content mask cuts into."""
    leaves = xy_cut(content)
    boxes = [b for b in leaves if shaped(b) and drawn_on(gray, b)]  # a bare patch of desktop is no tile
    group = largest_equal_group(boxes)
    if len(group) == 1:  # one tile: the window on a desktop, or a single video
        return [max(boxes, key=lambda b: b.w * b.h)]
    if not group or not packed(group):
        return []
    return complete_lattice(group, leaves, gray, level)


def packed(tiles: list[TileBox]) -> bool:
    """Gallery tiles sit a narrow gap from a neighbour (Zoom 6 px, Teams 10); avatars or photos
    inside camera-off tiles repeat at the lattice's pitch too, but far apart."""

    def near(a: TileBox, b: TileBox) -> bool:
        side = abs(a.y - b.y) <= 3 and 0 <= b.x - a.x - a.w <= MAX_GAP * a.w
        below = abs(a.x - b.x) < a.w and 0 <= b.y - a.y - a.h <= MAX_GAP * a.h  # a last row is centred
        return side or below

    with_neighbour = sum(any(near(a, b) or near(b, a) for b in tiles if b is not a) for a in tiles)
    return with_neighbour >= PACKED * len(tiles)


def lattice_gap(tiles: list[TileBox]) -> int:
    """The gap between neighbouring tiles of one row (the lattice pitch less the tile width)."""
    w = int(np.median([t.w for t in tiles]))
    steps = [b.x - a.x - w for a in tiles for b in tiles if abs(a.y - b.y) <= 3 and 0 <= b.x - a.x - w <= 0.2 * w]
    return int(np.median(steps)) if steps else max(1, w // 50)


def complete_lattice(group: list[TileBox], leaves: list[TileBox], gray: np.ndarray, level: int) -> list[TileBox]:
    """Add the cells that the cut missed: a tile grown by a speaker border (snapped back to the
    lattice's size) and neighbours merged where no gap was drawn (split at the pitch, only
    where the pieces line up with the lattice's own rows or columns)."""
    w, h = int(np.median([t.w for t in group])), int(np.median([t.h for t in group]))
    gap = lattice_gap(group)
    tiles = [TileBox(t.x + (t.w - w) // 2, t.y + (t.h - h) // 2, w, h) for t in group]
    columns, rows = {t.x for t in tiles}, {t.y for t in tiles}
    left, right = min(columns), max(columns) + w
    near = max(3, w // 40)
    for box in merge_fragments(leaves, w, h):
        if any(overlap(box, t) > 0.5 * min(box.w * box.h, t.w * t.h) for t in tiles):
            continue
        cols, rws = round((box.w + gap) / (w + gap)), round((box.h + gap) / (h + gap))
        span_w, span_h = cols * w + (cols - 1) * gap, rws * h + (rws - 1) * gap
        if cols < 1 or rws < 1 or abs(box.w - span_w) > 0.06 * span_w or abs(box.h - span_h) > 0.06 * span_h:
            cell = partial_cell(box, w, h, gap, columns, rows)
            inside = cell is not None and cell.x >= 0 and cell.y >= 0
            fits = inside and cell.x + w <= gray.shape[1] and cell.y + h <= gray.shape[0]
            fits = fits and left - gap <= cell.x and cell.x + w <= right + gap  # no row is wider than the full ones
            if fits and drawn_on(gray, cell) and framed_by_gap(gray, cell, max(1, gap // 2), level):
                tiles.append(cell)
            continue
        x0, y0 = box.x + (box.w - span_w) // 2, box.y + (box.h - span_h) // 2
        cells = [TileBox(x0 + c * (w + gap), y0 + r * (h + gap), w, h) for r in range(rws) for c in range(cols)]
        aligned = any(on_pitch(c.x - x, w + gap, near) for c in cells for x in columns) or any(
            on_pitch(c.y - y, h + gap, near) for c in cells for y in rows
        )
        if (len(cells) == 1 or aligned) and all(drawn_on(gray, c) for c in cells):
            tiles.extend(cells)
    return tiles


def framed_by_gap(gray: np.ndarray, cell: TileBox, away: int, level: int) -> bool:
    """The pixel ring `away` px outside the cell (the middle of the lattice's gap) is near the
    gap colour `level` (loosely: compression smears a narrow gap) on all its sides in the
    picture but one (where the speaker's border may run), as around every gallery tile; the
    dark area of a video player around a recorded meeting is not."""
    height, width = gray.shape
    x0, y0, x1, y1 = cell.x - away, cell.y - away, cell.x + cell.w - 1 + away, cell.y + cell.h - 1 + away
    sides = [
        gray[y0, max(0, x0) : x1 + 1] if y0 >= 0 else None,
        gray[y1, max(0, x0) : x1 + 1] if y1 < height else None,
        gray[max(0, y0) : y1 + 1, x0] if x0 >= 0 else None,
        gray[max(0, y0) : y1 + 1, x1] if x1 < width else None,
    ]
    gap_sides = [
        float((np.abs(side.astype(np.int16) - level) <= LOOSE_TOLERANCES[0]).mean()) > HALF
        for side in sides
        if side is not None and side.size
    ]
    return len(gap_sides) >= 2 and gap_sides.count(False) <= 1


def partial_cell(box: TileBox, w: int, h: int, gap: int, columns: set[int], rows: set[int]) -> TileBox | None:
    """The lattice cell around a piece of one tile that a dark video left (only its bright
    part differs from the gap): the piece has the cell's width or height, and the cell sits
    on the lattice's rows or columns."""
    if abs(box.w - w) <= max(3, SIZE_TOLERANCE * w) and 0.3 * h <= box.h < h:
        ref = min(rows)
        y = ref + (h + gap) * int(np.floor((box.y - ref) / (h + gap)))
        if y <= box.y and box.y + box.h <= y + h + 2:
            return TileBox(box.x + (box.w - w) // 2, y, w, h)
    if abs(box.h - h) <= max(3, SIZE_TOLERANCE * h) and 0.3 * w <= box.w < w:
        ref = min(columns)
        x = ref + (w + gap) * int(np.floor((box.x - ref) / (w + gap)))
        if x <= box.x and box.x + box.w <= x + w + 2:
            return TileBox(x, box.y + (box.h - h) // 2, w, h)
    return None


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


def on_pitch(offset: int, step: int, near: int) -> bool:
    """An offset that is a whole number of lattice steps, give or take `near` pixels."""
    return abs(offset - step * round(offset / step)) <= near


def merge_fragments(leaves: list[TileBox], w: int, h: int) -> list[TileBox]:
    """Join pieces of one tile that a dark stripe across its video cut apart: boxes of one
    column (same x and width) or one row (same y and height) that together fit one cell."""
    boxes = list(leaves)
    merged = True
    while merged:
        merged = False
        for i, a in enumerate(boxes):
            for j in range(i + 1, len(boxes)):
                b = boxes[j]
                union = TileBox(
                    min(a.x, b.x), min(a.y, b.y), max(a.x + a.w, b.x + b.w) - min(a.x, b.x),
                    max(a.y + a.h, b.y + b.h) - min(a.y, b.y),
                )  # fmt: skip
                stacked = abs(a.x - b.x) <= 3 and abs(a.w - b.w) <= 3 and union.h <= 1.06 * h
                side_by_side = abs(a.y - b.y) <= 3 and abs(a.h - b.h) <= 3 and union.w <= 1.06 * w
                if (stacked or side_by_side) and union.w * union.h >= 0.8 * w * h:
                    boxes[i] = union
                    del boxes[j]
                    merged = True
                    break
            if merged:
                break
    return boxes


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


# --- gapless galleries ----------------------------------------------------------------------


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


def repeated_pairs(boxes: np.ndarray, centers: np.ndarray) -> list[tuple[int, int, int, float]]:
    """(axis, a, b, distance) for alike elements a, b lying on one row (axis 0) or column
    (axis 1): same-sized ones (avatars, icons) measured centre to centre, and name tags (wide,
    one height, of any length) measured left edge to left edge, as they are anchored at a
    cell's bottom-left (compression ringing can merge the mic icon into the name)."""
    keep = [i for i, (_, _, w, h) in enumerate(boxes) if w >= 16 and h >= 16]  # icons, avatars; not letters
    pairs = []
    for a in keep:
        for b in keep:
            (xa, ya, wa, ha), (xb, yb, wb, hb) = boxes[a], boxes[b]
            if a >= b or abs(ha - hb) > 0.2 * max(ha, hb):
                continue
            if abs(wa - wb) <= 0.2 * max(wa, wb):
                dx, dy = np.abs(centers[a] - centers[b])
            elif min(wa, wb) >= TAG_SHAPE * max(ha, hb):
                dx, dy = abs(int(xa) - int(xb)), abs((ya + ha) - (yb + hb))
            else:
                continue
            if dy <= 3 and dx >= MIN_TILE_W:
                pairs.append((0, a, b, float(dx)))
            elif dx <= 3 and dy >= MIN_TILE_H:
                pairs.append((1, a, b, float(dy)))
    return pairs


def repeat_steps(pairs: list[tuple[int, int, int, float]]) -> tuple[int | None, int | None]:
    """The lattice pitch along x and y from elements that repeat in every cell (avatars, mic
    icons, tags): the smallest displacement shared by several pairs of alike elements."""
    steps = {axis: [d for ax, _, _, d in pairs if ax == axis] for axis in (0, 1)}
    return shared_step(steps[0]), shared_step(steps[1])


def shared_step(steps: list[float]) -> int | None:
    if len(steps) < 2:
        return None
    values = np.array(steps)
    support = np.array([(np.abs(values - v) <= 0.02 * v).sum() for v in values])
    if support.max() < 2:
        return None
    strong = values[support >= max(2, 0.5 * support.max())]
    smallest = strong.min()
    return int(round(np.median(values[np.abs(values - smallest) <= 0.02 * smallest])))


def phase(centers: np.ndarray, weights: np.ndarray, period: int) -> float:
    """The weighted circular mean of centres modulo the period."""
    angles = 2 * np.pi * (centers % period) / period
    mean = np.angle(np.sum(weights * np.exp(1j * angles)))
    return float(mean % (2 * np.pi) / (2 * np.pi) * period)


def repeated(pairs: list[tuple[int, int, int, float]], boxes: np.ndarray) -> list[int]:
    return sorted({i for _, a, b, _ in pairs for i in (a, b)}) or list(range(len(boxes)))


def centred_elements(region: np.ndarray, stroke: int) -> tuple[np.ndarray, np.ndarray, list[int]] | None:
    """Solid elements that repeat cell after cell (avatars, videos), with the name tags'
    thin letters opened away: apps centre these in their cells, so their centres give the
    lattice's phase, where a tag joined to its avatar would pull it to the bottom left."""
    solid = cv2.morphologyEx(region.astype(np.uint8), cv2.MORPH_OPEN, np.ones((stroke, stroke), np.uint8))
    count, _, stats, centroids = cv2.connectedComponentsWithStats(solid)
    if count < 3:
        return None
    boxes, centers = stats[1:, :4], centroids[1:]
    alike = [p for p in repeated_pairs(boxes, centers) if max(boxes[p[1], 2:4]) < TAG_SHAPE * min(boxes[p[1], 2:4])]
    return (boxes, centers, repeated(alike, boxes)) if alike else None


def holds_centre(box: TileBox, centers: np.ndarray) -> bool:
    """An element is centred inside the cell: a sliver of the neighbour's video is not a tile."""
    x, y = centers[:, 0], centers[:, 1]
    return bool(((x >= box.x) & (x < box.x + box.w) & (y >= box.y) & (y < box.y + box.h)).any())


def centred_row_shift(centers: np.ndarray, weights: np.ndarray, cx: float, px: int, y0: float, y1: float) -> float:
    """0 or half a pitch: apps centre a short last row, which then sits half a cell off the
    columns above when its count differs from theirs in parity. The row's own contents say which."""
    in_row = (centers[:, 1] >= y0) & (centers[:, 1] < y1)
    if not in_row.any():
        return 0.0
    offset = (phase(centers[in_row, 0], weights[in_row], px) - cx) % px
    return px / 2 if px / 4 < offset < 3 * px / 4 else 0.0


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


def gapless_lattice(gray: np.ndarray) -> list[TileBox]:
    """Tiles of a grid without gaps (Meet 2020: tile and stage one colour; abutting videos).

    The tiles' contents (avatars, videos, tags) and their borders repeat at the lattice's
    pitch: the pitch is the peak of the profiles' autocorrelation, and the phase is where the
    larger contents centre (Meet centres its avatars and videos in their cells).
    """
    levels = candidate_gaps(gray)
    if not levels:
        return []
    content = content_mask(gray, levels[0], GAP_TOLERANCE)
    stage_rows = longest_run(content.mean(axis=1) < 0.6)  # below the browser bars, above the toolbar
    if stage_rows is None or stage_rows[1] - stage_rows[0] < 2 * MIN_TILE_H:
        return []
    top, bottom = stage_rows
    region, area = content[top:bottom], gray[top:bottom]
    blobs = cv2.dilate(region.astype(np.uint8), np.ones((5, 5), np.uint8))
    count, _, stats, centroids = cv2.connectedComponentsWithStats(blobs)
    if count < 2:
        return []
    boxes, centers = stats[1:, :4], centroids[1:]
    pairs = repeated_pairs(boxes, centers)
    px, py = repeat_steps(pairs)
    if px is None or py is None:
        vertical, horizontal = long_edges(area, 1, MIN_TILE_H), long_edges(area, 0, MIN_TILE_W)
        px = px or pitch(region.mean(axis=0) + vertical.mean(axis=0), MIN_TILE_W)
        py = py or pitch(region.mean(axis=1) + horizontal.mean(axis=1), MIN_TILE_H)
    if px is None or py is None or not ASPECT_RANGE[0] <= px / py <= ASPECT_RANGE[1] + 0.6:
        return []
    solid = centred_elements(region, MIN_TILE_H // 8)
    element_boxes, element_centers, repeating = solid or (boxes, centers, repeated(pairs, boxes))
    anchors = element_centers[repeating]
    weights = (element_boxes[repeating, 2] * element_boxes[repeating, 3]).astype(np.float64)
    cx, cy = phase(anchors[:, 0], weights, px), phase(anchors[:, 1], weights, py)
    height, width = region.shape
    tiles = []
    for y in np.arange((cy - py / 2) % py - py, height, py):
        row_cx = cx + centred_row_shift(anchors, weights, cx, px, y, y + py)
        for x in np.arange((row_cx - px / 2) % px - px, width, px):
            box = TileBox(int(round(x)), int(round(y)), px, py)
            inside = overlap(box, TileBox(0, 0, width, height)) / (px * py)
            cell = region[max(0, box.y) : box.y + py, max(0, box.x) : box.x + px]
            if inside >= 0.9 and cell.size and (cell.mean() > FILLED or holds_centre(box, centers)):
                tiles.append(TileBox(max(0, box.x), max(0, box.y) + top, px, py))
    if len(tiles) > len(repeating):  # every cell holds one of the repeating elements, or the pitch is wrong
        return []
    return tiles if len(tiles) >= 2 else []


def line_lattice(gray: np.ndarray) -> list[TileBox]:
    """Tiles of a gapless grid from the lines that no content crosses (agent.cut_lines): a few
    candidate row chains over the whole width, the columns of each band of rows with one
    step for all bands, and the rows whose tiles cover the most of the picture."""
    found: list[list[TileBox]] = []
    grown: dict[int, list[TileBox]] = {}
    height = gray.shape[0]
    for level in candidate_gaps(gray)[:2]:
        if not drawn_flat(gray, level):
            continue
        content = content_mask(gray, level, GAP_TOLERANCE)
        crossings = Crossings.of(gray, content, MIN_TILE_W, MIN_TILE_H)
        row_shares = crossings.rows()
        for rows, extended in chain_candidates(
            row_shares, share(content, 1), MIN_TILE_H, height, False, ROW_CANDIDATES
        ):
            cut = 1 - SIZE_TOLERANCE
            tiles = columns_of(gray, rows.cut_by(height, cut), crossings, content)
            if len(tiles) >= 2 and tile_like(content, tiles):
                found.append(tiles)
                if extended.cells > rows.cells:  # rows beyond a faint line, tried once these win
                    grown[id(tiles)] = columns_of(gray, extended.cut_by(height, cut), crossings, content)
    best = finest(found, gray, refiners=list(grown.values()))
    more = grown.get(id(best), [])
    best = more if len(more) > len(best) and same_size(more[0], best[0]) else best
    # A gallery is what a meeting capture shows; evenly spaced toolbar icons are not one, nor
    # cells that look unalike (lines found between the specks of a noisy photo).
    return best if area(best) >= MIN_GAPLESS_COVER * gray.size and alikeness(gray, best) >= HALF else []


def tile_like(content: np.ndarray, tiles: list[TileBox]) -> bool:
    """Most cells of a gapless lattice look like meeting tiles: a video fills its cell, and an
    app-drawn camera-off tile centres its avatar or name across its width (the tag at the
    bottom left aside). Photos scattered over a plain wall are not tiles, wherever lines can
    be drawn between them."""
    good = sum(looks_like_tile(content[t.y : t.y + t.h, t.x : t.x + t.w]) for t in tiles)
    return good >= TILE_LIKE * len(tiles)


def looks_like_tile(cell: np.ndarray) -> bool:
    """A cell's content mask fills it (video) or is centred across it above the tag (avatar);
    a stray line of a neighbour's edge along its side does not count."""
    upper = cell[: int(0.75 * cell.shape[0])]
    xs = np.flatnonzero(upper.sum(axis=0) >= max(2, 0.02 * upper.shape[0]))
    filled = cell.size and cell.mean() >= FILLED
    centred = xs.size == 0 or abs((xs[0] + xs[-1]) / 2 - cell.shape[1] / 2) <= OFF_CENTRE * cell.shape[1]
    return bool(filled or centred)


def centred_phase(lines: list[int], band: np.ndarray) -> list[int]:
    """A band's column lines, moved to where they centre its cells' contents better. Meet
    centres a short last row, whose camera-off tiles have no edges to cut along: only their
    centred avatars place them. Each run of content above the tags proposes a phase. A band
    with a video keeps its lines: the video's edges placed them."""
    cells = [band[:, max(0, a + 1) : b + 1] for a, b in zip(lines, lines[1:])]
    if len(lines) < 2 or any(c.size and c.mean() >= FILLED for c in cells):
        return lines
    step = (lines[-1] - lines[0]) / (len(lines) - 1)
    width = band.shape[1]
    upper = band[: int(0.75 * band.shape[0])]
    blobs = runs(upper.sum(axis=0) >= max(2, 0.02 * upper.shape[0]), 2)

    def centred_share(xs: list[int]) -> float:
        cells = [band[:, max(0, a + 1) : b + 1] for a, b in zip(xs, xs[1:])]
        held = [c for c in cells if c.size and c.any()]
        return sum(looks_like_tile(c) for c in held) / len(held) if held else 0.0

    best, best_share = lines, centred_share(lines)
    for a, b in blobs[:8]:
        start = (a + b) / 2 - step / 2 - 1
        start -= step * np.floor((start + 1) / step)  # the first line at or left of the edge
        moved = [int(round(start + k * step)) for k in range(int((width - start) / step) + 1)]
        moved = [x for x in moved if -1 <= x <= width - 1]
        if len(moved) >= 2 and centred_share(moved) > best_share:
            best, best_share = moved, centred_share(moved)
    return best


def drawn_flat(gray: np.ndarray, level: int) -> bool:
    """The stage colour is an app's flat fill (nearly every pixel of it at one grey level), not
    a plain wall or a blurred room whose greys drift across the tolerance."""
    near = cv2.LUT(gray, (np.abs(np.arange(256) - level) <= GAP_TOLERANCE).astype(np.uint8))
    exact = cv2.LUT(gray, (np.abs(np.arange(256) - level) <= 1).astype(np.uint8))
    return int(exact.sum()) >= UI_FLAT * max(1, int(near.sum()))


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


def columns_of(gray: np.ndarray, ys: list[int], crossings: Crossings, content: np.ndarray) -> list[TileBox]:
    """The tiles of the bands between the row lines `ys`: one column step for all bands."""
    heights = [b - a for a, b in zip(ys, ys[1:])]
    min_w = max(MIN_TILE_W, int(LINE_ASPECT[0] * min(heights)))
    max_w = int(LINE_ASPECT[1] * max(heights))
    chains = shared_chains(
        [crossings.columns(a + 1, b + 1) for a, b in zip(ys, ys[1:])],
        [share(content[a + 1 : b + 1], 0) for a, b in zip(ys, ys[1:])],
        min_w,
        max_w,
        prefer_high=True,
    )
    tiles = []
    for (top, bottom), columns in zip(zip(ys, ys[1:]), chains):
        if columns is None:
            continue
        xs = centred_phase(columns.cut_by(gray.shape[1], 1 - SIZE_TOLERANCE), content[top + 1 : bottom + 1])
        for left, right in zip(xs, xs[1:]):
            box = TileBox(left + 1, top + 1, right - left, bottom - top)
            if drawn_on(gray, box):
                tiles.append(box)
    return largest_equal_group(tiles)


def comb_phase(profile: np.ndarray, step: int) -> int:
    """The offset in [0, step) where the profile's teeth k * step + offset add up most."""
    widened = np.maximum.reduce([np.roll(profile, k) for k in (-2, -1, 0, 1, 2)])
    sums = [widened[offset::step].sum() for offset in range(step)]
    return int(np.argmax(sums))


def boundary_support(lines: np.ndarray, position: int, start: int, stop: int, axis: int) -> float:
    """Share of a cell side's length that lies on a long edge (within 2 px of the side)."""
    if axis == 1:  # a vertical side at x = position, rows start..stop
        strip = lines[start:stop, max(0, position - 2) : position + 3]
        return float(strip.any(axis=1).mean()) if strip.size else 0.0
    strip = lines[max(0, position - 2) : position + 3, start:stop]
    return float(strip.any(axis=0).mean()) if strip.size else 0.0


def abutting_lattice(gray: np.ndarray) -> list[TileBox]:
    """Videos side by side with no gap (Meet 2020 with many cameras on): their borders are
    long straight edges repeating at the pitch; a cell is kept where edges bound it."""
    height, width = gray.shape
    vertical, horizontal = long_edges(gray, 1, MIN_TILE_H), long_edges(gray, 0, MIN_TILE_W)
    px, py = pitch(vertical.mean(axis=0), MIN_TILE_W), pitch(horizontal.mean(axis=1), MIN_TILE_H)
    if px is None or py is None or not ASPECT_RANGE[0] <= px / py <= ASPECT_RANGE[1] + 0.6:
        return []
    y_phase = comb_phase(horizontal.mean(axis=1), py)
    tiles = []
    for y in range(y_phase, height - py + 1, py):
        band = vertical[y : y + py]
        x_phase = comb_phase(band.mean(axis=0), px)  # a centred last row has a phase of its own
        for x in range(x_phase, width - px + 1, px):
            cell = TileBox(x, y, px, py)
            if sum(side >= 0.5 for side in frame_support(vertical, horizontal, cell)) >= 3 and drawn_on(gray, cell):
                tiles.append(cell)
    return tiles if len(tiles) >= 2 and packed(tiles) else []  # abutting cells touch


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
