"""Gapless grids (Google Meet, abutting videos): the lattice from the lines nothing crosses.

Where tiles share the stage's colour, no gap tells where one tile ends. But a tile's border is
still a line that no content crosses: between two camera-off tiles only stage colour lies on
it, and where a video meets a video or the stage there is a long straight edge. Inside a tile
such a line cannot be drawn: it would cut through the avatar, the name tag or the video.

So each row (for the horizontal lines) and then each band of rows (for the vertical ones) is
given an "uncrossed" share per pixel line, the uncrossed lines form intervals, and the lattice
is the longest evenly spaced chain through those intervals (tiles of one size). Where the
intervals are wide (camera-off tiles: much of the stage is free), the chain's position is
ambiguous by the free space; the name tag sits at a tile's bottom-left corner in every app
we know, so the line is put just left of and just below the tags.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

import cv2
import numpy as np

UNCROSSED = 0.85  # share of a line's length that must be stage colour or on a long edge
EDGE_LINE = 0.5  # share of a line's length on an edge for it to count as two pictures meeting
EDGE_STEP = 3  # grey-level step that can be an edge between two abutting pictures ...
STRONG_STEP = 8  # ... where it stands out from the steps beside it, or is this large
POSITION_SLACK = 1.5  # px: a chain position may round this far off its interval
WEAKLY_CROSSED = 0.6  # a line inside a known lattice may be crossed this much (alike videos)
# A pixel line with this share of content pixels holds something; not the 2-4 px of the tiles
# above that a band's row lines, placed a few pixels high, take in (a 72 px band: up to 5.5 %).
MIN_CONTENT = 0.06
MIN_FILLED = 0.2  # share of a cell's pixel lines that hold something, for a cell with content
PLAIN = 0.1  # a cell profile varying less than this (std of 0/1 values) is all content or none
MAX_WALKS = 4  # positions followed at once where a chain can land in several free intervals
MAX_STEPS = 24  # steps tried per search, the best supported
NEAR_INTERVALS = 4  # steps are measured between an interval and its next few only


@dataclass(frozen=True)
class Chain:
    """Evenly spaced lines: start + k * step for k in 0..cells."""

    start: float
    step: float
    cells: int

    def lines(self) -> list[int]:
        return [int(round(self.start + k * self.step)) for k in range(self.cells + 1)]

    def cut_by(self, limit: int, least: float) -> list[int]:
        """lines(), and the picture's edge (-1, limit - 1) where it cuts a cell but leaves at
        least `least` of its step: a screenshot cropped a few pixels into the edge tiles."""
        lines = self.lines()
        if least * self.step <= lines[0] + 1 < self.step:
            lines = [-1, *lines]
        if least * self.step <= limit - 1 - lines[-1] < self.step:
            lines = [*lines, limit - 1]
        return lines


@dataclass
class Crossings:
    """Per pixel boundary of one picture, between columns (x) and between rows (y): crossed
    (content on both sides, no edge along it) and on a long edge (two pictures meet)."""

    crossed_x: np.ndarray
    crossed_y: np.ndarray
    edges_x: np.ndarray
    edges_y: np.ndarray

    @classmethod
    def of(cls, gray: np.ndarray, content: np.ndarray, min_w: int, min_h: int) -> Crossings:
        """content: non-zero where a pixel is not the stage colour (tiles.content_mask)."""
        content = content.astype(bool)
        edges_x, edges_y = long_steps(gray, 1, min_h), long_steps(gray, 0, min_w)
        return cls(
            crossed_x=content[:, :-1] & content[:, 1:] & ~edges_x,
            crossed_y=content[:-1, :] & content[1:, :] & ~edges_y,
            edges_x=edges_x,
            edges_y=edges_y,
        )

    def columns(self, top: int, bottom: int) -> np.ndarray:
        """Blocked share of each column boundary within rows top..bottom-1."""
        rows = slice(top, bottom)
        return blocked(self.crossed_x[rows], self.edges_x[rows], 0)

    def rows(self) -> np.ndarray:
        """Blocked share of each row boundary over the whole width."""
        return blocked(self.crossed_y, self.edges_y, 1)


def blocked(crossed: np.ndarray, edges: np.ndarray, axis: int) -> np.ndarray:
    """Per boundary position, the share of its length crossed by content; a line that runs
    mostly along an edge (two videos meet) is forgiven half of it: alike colours across the
    boundary break the edge in places. Between camera-off tiles there is no edge, and a name
    tag alone (a sixth of a tile's height) must block the line."""
    if crossed.shape[axis] == 0:
        return np.ones(crossed.shape[1 - axis])
    crossed_share, edge_share = crossed.mean(axis=axis), edges.mean(axis=axis)
    return np.where(edge_share >= EDGE_LINE, crossed_share * 0.5, crossed_share)


def long_steps(gray: np.ndarray, axis: int, length: int) -> np.ndarray:
    """Boundaries between pixel lines (along `axis`) where two pictures meet: a step in grey
    that is larger than the steps beside it (inside one picture, neighbouring steps are alike)
    running straight for at least `length` pixels (breaks as long bridged), widened by a pixel
    each side."""
    g = gray.astype(np.int16)
    step = np.abs(np.diff(g, axis=axis))
    if axis == 1:
        before = np.pad(step[:, :-1], ((0, 0), (1, 0)))
        after = np.pad(step[:, 1:], ((0, 0), (0, 1)))
    else:
        before = np.pad(step[:-1], ((1, 0), (0, 0)))
        after = np.pad(step[1:], ((0, 1), (0, 0)))
    sharp = (step >= STRONG_STEP) | ((step >= EDGE_STEP) & (step > np.maximum(before, after)))
    kernel = np.ones((length, 1) if axis == 1 else (1, length), np.uint8)
    lines = cv2.morphologyEx(sharp.astype(np.uint8), cv2.MORPH_OPEN, kernel)
    lines = cv2.morphologyEx(lines, cv2.MORPH_CLOSE, kernel)  # bridge stretches where colours match
    widen = np.ones((1, 3) if axis == 1 else (3, 1), np.uint8)
    return cv2.dilate(lines, widen).astype(bool)


def free_intervals(crossed_share: np.ndarray) -> list[tuple[int, int]]:
    """Closed [a, b] intervals of boundary positions crossed by less than 1 - UNCROSSED.
    Position p is the boundary just after pixel p, i.e. a tile starting at p + 1."""
    free = crossed_share <= 1 - UNCROSSED
    padded = np.concatenate([[False], free, [False]])
    edges = np.flatnonzero(np.diff(padded.astype(np.int8)))
    return [(int(a), int(b) - 1) for a, b in zip(edges[::2], edges[1::2])]


def feasible(
    intervals: list[tuple[int, int]], start_interval: int, step: float, limit: int
) -> tuple[int, float, float]:
    """Walk a chain from one interval with a given step: (cells, lowest, highest start) of the
    longest walk whose every position lands in some interval. Where a position can land in
    more than one interval, each is followed (a few at most): a sliver inside a tile must not
    take the place of the free space between two tiles. Of the longest walks, the one whose
    positions land in the widest free space."""
    a0, b0 = intervals[start_interval]
    walks = [(float(a0), float(b0), float(b0 - a0))]  # (low, high, free width landed in)
    ends = [b for _, b in intervals]
    cells = 0
    while True:
        k = cells + 1
        grown = []
        for low, high, width in walks:
            lo_k, hi_k = low + k * step - POSITION_SLACK, high + k * step + POSITION_SLACK
            if lo_k > limit:
                continue
            j = bisect.bisect_left(ends, lo_k)  # the first interval ending at or after lo_k
            while j < len(intervals) and intervals[j][0] <= hi_k:
                a, b = intervals[j]
                new_low = max(low, a - k * step - POSITION_SLACK)
                new_high = min(high, b - k * step + POSITION_SLACK)
                if new_low <= new_high:
                    grown.append((new_low, new_high, width + b - a))
                j += 1
        if not grown:
            break
        walks = sorted(grown, key=lambda w: -w[2])[:MAX_WALKS]
        cells = k
    low, high, _ = walks[0]
    return cells, low, high


def step_candidates(intervals: list[tuple[int, int]], min_step: int, max_step: int) -> dict[float, int]:
    """Steps that carry an interval's start onto another's (and its end onto another's end),
    with how many pairs vote for each: the free space repeats at the lattice pitch, so its
    edges do."""
    votes: dict[float, int] = {}
    for i, (a0, b0) in enumerate(intervals):
        for j in range(i + 1, min(len(intervals), i + 1 + NEAR_INTERVALS)):
            a1, b1 = intervals[j]
            for distance in (a1 - a0, b1 - b0):
                for parts in range(1, j - i + 1):
                    s = distance / parts
                    if min_step <= s <= max_step:
                        key = round(2 * s) / 2
                        votes[key] = votes.get(key, 0) + 1
    return votes


def top_steps(votes: dict[float, int]) -> list[tuple[float, int]]:
    """The MAX_STEPS steps with the most votes, as (step, votes) (a vote for a step counts for
    its neighbours within a pixel too: rounding splits them)."""
    support = {s: sum(votes.get(s + d, 0) for d in (-1.0, -0.5, 0.0, 0.5, 1.0)) + votes[s] for s in votes}
    return sorted((s, support[s]) for s in sorted(support, key=lambda s: -support[s])[:MAX_STEPS])


def chain_candidates(
    crossed_share: np.ndarray, content_share: np.ndarray, min_step: int, max_step: int, prefer_high: bool, keep: int
) -> list[tuple[Chain, Chain]]:
    """The best chain of each step, the `keep` with the most cells with content and the `keep`
    spanning the most: the rows of a gallery are chosen by the tiles they lead to. Each comes
    with its extension over weakly free lines, to be tried once the rows are chosen."""
    band = Band.of(crossed_share, content_share)
    steps = top_steps(step_candidates(band.intervals, min_step, max_step))
    chains = [band.chain(step, prefer_high)[0] for step, _ in steps]
    chains = [c for c in chains if c is not None]
    most = sorted(chains, key=lambda c: -c.cells)[:keep]
    widest = sorted(chains, key=lambda c: -c.cells * c.step)[:keep]
    unique = {(c.start, c.step, c.cells): c for c in most + widest}
    return [(shifted(c), shifted(band.extended(c))) for c in unique.values()]


def shifted(chain: Chain) -> Chain:
    return Chain(chain.start - 1, chain.step, chain.cells)


def shared_chains(
    crossed: list[np.ndarray], content: list[np.ndarray], min_step: int, max_step: int, prefer_high: bool
) -> list[Chain | None]:
    """One chain per band (a band of rows of one gallery), all with one step: the step whose
    chains bound the most cells with content over all bands. The rows above the last take the
    common columns; the last keeps its own start, on those columns or half a step off them
    (a last row is left-aligned or centred)."""
    bands = [Band.of(c, f) for c, f in zip(crossed, content)]
    votes: dict[float, int] = {}
    for band in bands:
        for step, count in step_candidates(band.intervals, min_step, max_step).items():
            votes[step] = votes.get(step, 0) + count
    best: list[Chain | None] = [None] * len(bands)
    best_key = None
    for step, support in top_steps(votes):
        chains = [band.chain(step, prefer_high) for band in bands]
        found = [(c, band) for (c, _), band in zip(chains, bands) if c is not None]
        if not found or (best_key is not None and sum(c.cells for c, _ in found) < best_key[0]):
            continue  # cannot win: alikeness only lowers the count
        alike = sum(c.cells * band.alikeness(c) * band.inside(c) ** 2 for c, band in found)
        key = (round(alike, 1), support, -sum(slack for c, slack in chains if c is not None))
        if best_key is None or key > best_key:
            best_key, best = key, [c for c, _ in chains]
    chains = [None if c is None else band.extended(c) for c, band in zip(best, bands)]
    present = [i for i, c in enumerate(chains) if c is not None]
    if not present:
        return chains
    last = present[-1]
    widest = common_phase([chains[i] for i in present[:-1]] or [chains[last]])
    # Only a last row is centred on its own, or short: the others share the common columns.
    full_rows = []
    for i, (chain, band) in enumerate(zip(chains, bands)):
        if chain is not None and i != last:
            chain = band.spread(chain if aligned(chain, widest) else band.trimmed(widest) or chain, widest)
        elif chain is not None and len(present) > 1:
            chain = band.spread(in_step_with(chain, widest), widest)
        full_rows.append(None if chain is None else shifted(chain))
    return full_rows


def common_phase(chains: list[Chain]) -> Chain | None:
    """The widest of the chains sharing the phase that holds the most cells over all of them."""
    best, best_cells = None, -1
    for chain in chains:
        cells = sum(c.cells for c in chains if aligned(c, chain))
        if cells > best_cells or (cells == best_cells and chain.cells > best.cells):
            best, best_cells = chain, cells
    if best is None:
        return None
    return max((c for c in chains if aligned(c, best)), key=lambda c: c.cells)


def in_step_with(chain: Chain, reference: Chain) -> Chain:
    """A last row moved onto the columns above or half a step off them: apps left-align it or
    centre it, and a centred row of another parity than the rows above sits half a cell off.
    Its own lines can be off by more (a pillarboxed video's edge taken for its tile's)."""
    if chain.step != reference.step:
        return chain
    offset = (chain.start - reference.start) % chain.step
    target = min((0.0, chain.step / 2, chain.step), key=lambda t: abs(offset - t))
    return Chain(chain.start - offset + target, chain.step, chain.cells)


def aligned(chain: Chain, reference: Chain) -> bool:
    """The two chains share their lines where they overlap (one step, one phase)."""
    offset = (chain.start - reference.start) % chain.step
    return chain.step == reference.step and min(offset, chain.step - offset) <= POSITION_SLACK


def correlations(rows: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Pearson correlation of each row with the reference (0 for a constant row)."""
    centred = rows - rows.mean(axis=1, keepdims=True)
    ref = reference - reference.mean()
    norms = np.linalg.norm(centred, axis=1) * np.linalg.norm(ref)
    return np.divide(centred @ ref, norms, out=np.zeros(len(rows)), where=norms > 1e-9)


@dataclass
class Band:
    """Free intervals and filled pixel lines of one band, in positions shifted by one: index 0
    is the picture's left (top) border, which bounds a tile as well as any line does."""

    intervals: list[tuple[int, int]]
    filled: np.ndarray
    limit: int
    crossed: np.ndarray
    content: np.ndarray

    @classmethod
    def of(cls, crossed_share: np.ndarray, content_share: np.ndarray) -> Band:
        crossed = np.concatenate([[0.0], crossed_share, [0.0]])
        filled = np.concatenate([[0.0], np.cumsum(content_share > MIN_CONTENT)])
        return cls(
            free_intervals(crossed), filled, crossed_share.size + 1, crossed, np.concatenate([[0.0], content_share])
        )

    def extended(self, chain: Chain) -> Chain:
        """The chain grown cell by cell on both sides while the next cell lies in the picture,
        holds content, and its far line is at least weakly free (two videos of alike colours
        meet with a faint edge): the band's step and phase are already known."""
        start, cells = chain.start, chain.cells
        while True:
            grown = False
            left = start - chain.step
            if left >= -POSITION_SLACK and self.holds(left, start) and self.weakly_free(left):
                start, cells, grown = left, cells + 1, True
            right = start + (cells + 1) * chain.step
            if (
                right <= self.limit + POSITION_SLACK
                and self.holds(right - chain.step, right)
                and self.weakly_free(right)
            ):
                cells, grown = cells + 1, True
            if not grown:
                return Chain(start, chain.step, cells)

    def spread(self, chain: Chain, reference: Chain) -> Chain:
        """The chain grown, cell by cell while the next cell holds content, over the span of
        another band's chain whose lines it shares: full rows of a grid share their columns,
        and where two alike videos meet the line is crossed though the grid goes on."""
        if not aligned(chain, reference):
            return chain
        start, cells = chain.start, chain.cells
        while start - chain.step >= reference.start - POSITION_SLACK and self.holds(start - chain.step, start):
            start, cells = start - chain.step, cells + 1
        end = reference.start + reference.cells * reference.step
        while start + (cells + 1) * chain.step <= end + POSITION_SLACK and self.holds(
            start + cells * chain.step, start + (cells + 1) * chain.step
        ):
            cells += 1
        return Chain(start, chain.step, cells)

    def alikeness(self, chain: Chain) -> float:
        """How alike the chain's cells are (correlation of each cell's content profile with
        their mean, 0..1): a true lattice repeats its cells; half its step alternates a cell's
        left and right halves."""
        length = int(chain.step)
        profile = self.content > MIN_CONTENT
        cells = [profile[p : p + length] for p in chain.lines()[:-1] if p >= 0 and p + length <= profile.size]
        if len(cells) < 2:
            return 1.0
        stack = np.stack(cells).astype(np.float64)
        if stack.std(axis=1).max() < PLAIN:
            return 1.0  # every cell all content (videos) or all empty: nothing to tell them apart
        return float(max(0.0, correlations(stack, stack.mean(axis=0)).mean()))

    def inside(self, chain: Chain) -> float:
        """Share of the band's pixel lines with content that the chain's cells hold: a gallery
        leaves no name tag or avatar outside its tiles."""
        lines = chain.lines()
        first, last = (
            int(min(max(lines[0], 0), self.filled.size - 1)),
            int(min(max(lines[-1], 0), self.filled.size - 1)),
        )
        total = self.filled[-1]
        return float((self.filled[last] - self.filled[first]) / total) if total else 1.0

    def trimmed(self, chain: Chain) -> Chain | None:
        """The chain less its empty end cells; None if a cell inside it is empty too (the cell
        between lines a and b holds pixel lines a..b-1, positions shifted as the band's)."""
        lines = chain.lines()
        full = [self.holds(a, b) for a, b in zip(lines, lines[1:])]
        if not any(full):
            return None
        first, last = full.index(True), len(full) - 1 - full[::-1].index(True)
        if not all(full[first : last + 1]):
            return None
        return Chain(chain.start + first * chain.step, chain.step, last - first + 1)

    def holds(self, a: float, b: float) -> bool:
        """The cell between positions a and b holds content in enough of its pixel lines."""
        a, b = int(round(max(a, 0))), int(round(min(b, self.filled.size - 1)))
        return b > a and self.filled[b] - self.filled[a] >= MIN_FILLED * (b - a)

    def weakly_free(self, position: float) -> bool:
        p = int(round(min(max(position, 0), self.crossed.size - 1)))
        near = self.crossed[max(0, p - 2) : p + 3]
        return bool(near.size) and float(near.min()) <= WEAKLY_CROSSED

    def chain(self, step: float, prefer_high: bool) -> tuple[Chain | None, float]:
        """(the chain of this step with the most cells with content, its slack), or (None, 0)."""
        best, best_key = None, None
        for i in range(len(self.intervals) - 1):
            cells, low, high = feasible(self.intervals, i, step, self.limit)
            if cells < 1:
                continue
            chain = self.trimmed(Chain(high if prefer_high else low, step, cells))
            if chain is None:
                continue
            key = (chain.cells, -(high - low))
            if best_key is None or key > best_key:
                best_key, best = key, chain
        return (best, -best_key[1]) if best is not None else (None, 0.0)
