"""The chain search behind gapless grids, on hand-made line profiles (agent.cut_lines)."""

from __future__ import annotations

import numpy as np

from agent.cut_lines import POSITION_SLACK, Chain, feasible, shared_chains


def profile(length: int, free: list[tuple[int, int]]) -> np.ndarray:
    """A crossed-share profile: 1.0 (crossed) everywhere but the given free stretches."""
    crossed = np.ones(length)
    for a, b in free:
        crossed[a : b + 1] = 0.0
    return crossed


def test_three_videos_side_by_side_are_three_cells():
    # Videos of 200 px from x=50: edges at 49/50, 249/250, 449/450, 649/650; stage either side.
    crossed = profile(700, [(0, 49), (249, 250), (449, 450), (649, 699)])
    content = np.zeros(700)
    content[50:650] = 1.0
    (chain,) = shared_chains([crossed], [content], 64, 400, prefer_high=True)
    assert chain == Chain(chain.start, 200.0, 3)
    assert chain.lines() == [49, 249, 449, 649]


def test_half_the_step_is_not_taken_where_it_would_cut_an_avatar():
    # Camera-off tiles of 300 px: an avatar in the middle third blocks the lines; tags sit
    # at the left of each tile (x 5..60), so the border lies in the free stretch before them.
    crossed = np.zeros(900)
    content = np.zeros(900)
    for x0 in (0, 300, 600):
        crossed[x0 + 100 : x0 + 200] = 1.0
        content[x0 + 100 : x0 + 200] = 1.0
        crossed[x0 + 5 : x0 + 60] = 0.15  # a tag crosses a sixth of the band: blocks the line
        content[x0 + 5 : x0 + 60] = 0.15
    (chain,) = shared_chains([crossed[:-1]], [content], 64, 600, prefer_high=True)
    assert chain.step == 300.0 and chain.cells == 3
    assert 0 <= chain.lines()[1] - 300 < 5  # just left of the second tile's tag


def test_bands_share_one_step_and_a_centred_last_row_keeps_its_own_start():
    full = profile(1000, [(0, 99), (299, 300), (499, 500), (699, 700), (899, 999)])
    last = profile(1000, [(0, 199), (399, 400), (599, 600), (799, 999)])
    content_full, content_last = np.zeros(1000), np.zeros(1000)
    content_full[100:900], content_last[200:800] = 1.0, 1.0
    chains = shared_chains([full, last], [content_full, content_last], 64, 500, prefer_high=True)
    assert [c.step for c in chains] == [200.0, 200.0]
    assert np.allclose(chains[0].lines(), [99, 299, 499, 699, 899], atol=1)
    assert np.allclose(chains[1].lines(), [199, 399, 599, 799], atol=1)  # its own start


def test_no_chain_without_free_lines():
    assert shared_chains([np.ones(500)], [np.ones(500)], 64, 400, prefer_high=True) == [None]


def test_a_row_of_alike_videos_takes_the_columns_of_the_rows_above():
    # Two full rows of four 200-px videos from x=100; in the second, videos 1-2 and 2-3 meet
    # with no visible edge (alike colours), so only its outer lines are free.
    full = profile(1000, [(0, 99), (299, 300), (499, 500), (699, 700), (899, 999)])
    alike = profile(1000, [(0, 99), (299, 300), (899, 999)])
    last = profile(1000, [(0, 199), (399, 400), (599, 600), (799, 999)])
    content = [np.zeros(1000) for _ in range(3)]
    content[0][100:900], content[1][100:900], content[2][200:800] = 1.0, 1.0, 1.0
    chains = shared_chains([full, alike, full, last], [content[0], content[1], content[0], content[2]], 64, 500, True)
    assert [c.cells for c in chains] == [4, 4, 4, 3]
    assert np.allclose(chains[1].lines(), chains[0].lines(), atol=1)
    assert np.allclose(chains[3].lines(), [199, 399, 599, 799], atol=2)  # the last row: its own start


def test_a_chain_goes_through_the_wide_free_space_not_a_sliver_beside_it():
    # Free stretches of a real band of 426-px tiles (camera-off tiles leave them wide); a
    # one-pixel sliver at 905 inside the third tile lies one step from free space too.
    free = [(0, 241), (402, 535), (905, 907), (959, 1095), (1252, 1519), (1680, 1920)]
    cells, low, high = feasible(free, 0, 426.0, 1920)
    assert cells == 4
    assert low + 2 * 426 + POSITION_SLACK >= 959 and high + 2 * 426 <= 1095 + POSITION_SLACK


def test_ramps_are_told_from_flat_gaps():
    from agent.gap_grid import on_ramp

    soft = np.repeat(np.array([[26, 26, 26, 60, 99, 140, 200, 200, 200]], np.uint8), 3, axis=0)
    assert on_ramp(soft, 8)[1].tolist() == [0, 0, 0, 1, 1, 1, 0, 0, 0]
    sharp = np.repeat(np.array([[26, 26, 26, 200, 200, 26, 26]], np.uint8), 3, axis=0)
    assert not on_ramp(sharp, 8).any()  # a gap's edge pixels are flat on their own side


def test_a_camera_off_cell_with_a_slice_of_its_neighbours_video_still_looks_like_a_tile():
    """A column line a pixel or two off takes a sliver of the next video into a camera-off
    cell; its avatar is still centred (a lattice of such cells was refused, and a column lost)."""
    from agent.gapless_grid import looks_like_tile

    cell = np.zeros((240, 428), np.uint8)
    cell[60:140, 174:254] = 1  # the avatar, centred
    cell[200:215, 10:120] = 1  # the name tag, bottom left
    assert looks_like_tile(cell)
    cell[:, 426:] = 1  # two columns of the neighbour's video
    assert looks_like_tile(cell)
    cell[60:140, 174:254], cell[60:140, 20:100] = 0, 1  # an avatar off centre is no tile
    assert not looks_like_tile(cell)
