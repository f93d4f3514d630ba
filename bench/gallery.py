"""Synthetic meeting galleries with known truth, drawn like Zoom's gallery view.

Dark background, 16:9 tiles separated by gaps, the last row shorter and centred, a name tag at
the bottom-left of each video tile, camera-off tiles with the name centred, an optional
active-speaker border, and the meeting's title bar and toolbar above and below the grid.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

BACKGROUND = 26
CAMERA_OFF = 48
SPEAKER_BGR = (64, 200, 64)


@dataclass(frozen=True)
class Person:
    name: str
    photo: np.ndarray | None  # None: camera off


@dataclass(frozen=True)
class Tile:
    box: tuple[int, int, int, int]  # x, y, w, h on the canvas
    name: str
    camera_on: bool


def grid_shape(n: int, width: int, height: int, gap: int, aspect: float = 16 / 9) -> tuple[int, int, int]:
    """(columns, rows, tile width) that make n tiles of the given aspect as large as possible."""
    best = (n, 1, 0)
    for cols in range(1, n + 1):
        rows = int(np.ceil(n / cols))
        tile_w = int(min((width - gap * (cols + 1)) / cols, (height - gap * (rows + 1)) / rows * aspect))
        if tile_w > best[2]:
            best = (cols, rows, tile_w)
    return best


def render_gallery(
    people: list[Person],
    width: int = 1920,
    height: int = 1080,
    gap: int = 6,
    top: int = 40,
    bottom: int = 80,
    speaker: int | None = None,
    background: int = BACKGROUND,
) -> tuple[np.ndarray, list[Tile]]:
    """background: 26 is Zoom's dark gallery; ~245 imitates Teams' light theme."""
    canvas = np.full((height, width, 3), background, np.uint8)
    _draw_chrome(canvas, top, bottom)
    area_h = height - top - bottom
    cols, rows, tile_w = grid_shape(len(people), width, area_h, gap)
    tile_h = int(tile_w * 9 / 16)
    y0 = top + (area_h - rows * tile_h - (rows - 1) * gap) // 2
    tiles = []
    for r in range(rows):
        in_row = people[r * cols : (r + 1) * cols]
        x0 = (width - len(in_row) * tile_w - (len(in_row) - 1) * gap) // 2
        for c, person in enumerate(in_row):
            x, y = x0 + c * (tile_w + gap), y0 + r * (tile_h + gap)
            _draw_tile(canvas[y : y + tile_h, x : x + tile_w], person)
            if speaker is not None and r * cols + c == speaker:
                cv2.rectangle(canvas, (x, y), (x + tile_w - 1, y + tile_h - 1), SPEAKER_BGR, 3)
            tiles.append(Tile((x, y, tile_w, tile_h), person.name, person.photo is not None))
    return canvas, tiles


def _draw_chrome(canvas: np.ndarray, top: int, bottom: int) -> None:
    h, w = canvas.shape[:2]
    canvas[:top] = 38
    cv2.putText(canvas, "Zoom Meeting", (w // 2 - 80, top - 14), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (220, 220, 220), 1)
    canvas[h - bottom :] = 38
    for i, label in enumerate(("Mute", "Stop Video", "Participants", "Chat", "Share Screen", "Record")):
        cv2.putText(
            canvas, label, (60 + i * 170, h - bottom // 2 + 5), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (230, 230, 230), 1
        )
    cv2.rectangle(canvas, (w - 120, h - bottom + 20), (w - 30, h - 20), (40, 40, 200), -1)


def _draw_tile(tile: np.ndarray, person: Person) -> None:
    th, tw = tile.shape[:2]
    if person.photo is None:
        tile[:] = CAMERA_OFF
        scale = max(0.5, th / 180)
        (w, h), _ = cv2.getTextSize(person.name, cv2.FONT_HERSHEY_SIMPLEX, scale, 2)
        cv2.putText(
            tile, person.name, ((tw - w) // 2, (th + h) // 2), cv2.FONT_HERSHEY_SIMPLEX, scale, (235, 235, 235), 2
        )
        return
    tile[:] = 60
    photo = person.photo if person.photo.ndim == 3 else cv2.cvtColor(person.photo, cv2.COLOR_GRAY2BGR)
    scale = th / photo.shape[0]
    resized = cv2.resize(photo, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    pw = min(resized.shape[1], tw)
    px = (tw - pw) // 2
    tile[:, px : px + pw] = resized[:th, :pw]
    scale = max(0.4, th / 260)
    (w, h), base = cv2.getTextSize(person.name, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
    y1 = th - 6
    cv2.rectangle(tile, (4, y1 - h - base - 6), (4 + w + 8, y1), (20, 20, 20), -1)
    cv2.putText(tile, person.name, (8, y1 - base - 2), cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), 1)
