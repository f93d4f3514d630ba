"""Gap galleries (Zoom, Teams, Meet since 2021): tiles separated by flat gaps of one colour.

Each flat colour of the picture is tried as the gap; the picture is cut recursively at rows and
columns of that colour (an XY-cut), and the colour whose cut gives the most tiles of one size
wins. A camera-off tile differs from Zoom's gap by only 8 grey levels (34 on 26), so the gap
tolerance is half of that; codec noise is absorbed by counting shares of pixels, not single
pixels (gaps can be 1 px wide: no blur).
"""

from __future__ import annotations

import cv2
import numpy as np

from agent.cut_lines import UNCROSSED
from agent.grid import (
    GAP_TOLERANCE,
    HALF,
    MIN_TILE_H,
    MIN_TILE_W,
    SIZE_TOLERANCE,
    TileBox,
    border_crossings,
    candidate_gaps,
    content_mask,
    drawn_on,
    largest_equal_group,
    overlap,
    runs,
    score,
    shaped,
    share,
)

# Looser tolerances are tried only when the strict one finds no lattice: a blurred or upscaled
# capture whose gaps never reach the gap colour.
LOOSE_TOLERANCES = (16, 40)
CONTENT_SHARE = 0.15  # a row or column with more non-gap pixels is not gap (JPEG, a bleeding speaker border)
DIP = 0.5  # ... nor one with at least this share of the content on either side of it
MAX_GAP = 0.2  # of a tile's side: the widest gap between gallery tiles
PACKED = 0.75  # share of a lattice's tiles that must have a neighbour that near


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
