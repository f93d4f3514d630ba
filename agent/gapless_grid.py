"""Gapless galleries (Meet 2020: tile and stage one colour; videos abutting with no gap).

The tiles' contents repeat at the lattice pitch, so the pitch is the peak of the
autocorrelation of the content profile and the phase is where the larger contents centre
(gapless_lattice); or the lattice is drawn along the lines no content crosses
(line_lattice, agent.cut_lines); or along the long straight edges where videos meet
(abutting_lattice).
"""

from __future__ import annotations

import cv2
import numpy as np

from agent.cut_lines import Crossings, chain_candidates, shared_chains
from agent.gap_grid import packed
from agent.grid import (
    ASPECT_RANGE,
    FILLED,
    GAP_TOLERANCE,
    HALF,
    MIN_TILE_H,
    MIN_TILE_W,
    SIZE_TOLERANCE,
    TileBox,
    alikeness,
    area,
    candidate_gaps,
    content_mask,
    drawn_on,
    finest,
    frame_support,
    largest_equal_group,
    long_edges,
    longest_run,
    overlap,
    pitch,
    runs,
    same_size,
    share,
)

ROW_CANDIDATES = 8  # row chains tried (by most cells, and by most span)
MIN_GAPLESS_COVER = 0.2  # share of the picture a gapless lattice must cover
OFF_CENTRE = 0.12  # of a cell's width: how far a camera-off tile's avatar may sit from its centre
TILE_LIKE = 0.75  # share of a lattice's cells that must look like tiles
UI_FLAT = 0.6  # share of the stage-coloured pixels within a grey level of it: an app's flat fill
TAG_SHAPE = 2.0  # width / height from which a content blob is taken for a name tag
LINE_ASPECT = (0.75, 3.2)  # gapless grids divide the stage: Meet 2020 showed 2x2 tiles of 2.9


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
    side = max(2, cell.shape[1] // 100)  # the neighbour's edge, where lines are a pixel or two off
    upper = cell[: int(0.75 * cell.shape[0]), side:-side]
    xs = np.flatnonzero(upper.sum(axis=0) >= max(2, 0.02 * upper.shape[0]))
    filled = cell.size and cell.mean() >= FILLED
    centred = xs.size == 0 or abs((xs[0] + xs[-1]) / 2 - upper.shape[1] / 2) <= OFF_CENTRE * cell.shape[1]
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
        moved_share = centred_share(moved) if len(moved) >= 2 else 0.0
        if moved_share > best_share:
            best, best_share = moved, moved_share
    return best


def drawn_flat(gray: np.ndarray, level: int) -> bool:
    """The stage colour is an app's flat fill (nearly every pixel of it at one grey level), not
    a plain wall or a blurred room whose greys drift across the tolerance."""
    near = cv2.LUT(gray, (np.abs(np.arange(256) - level) <= GAP_TOLERANCE).astype(np.uint8))
    exact = cv2.LUT(gray, (np.abs(np.arange(256) - level) <= 1).astype(np.uint8))
    return int(exact.sum()) >= UI_FLAT * max(1, int(near.sum()))


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
