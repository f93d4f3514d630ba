"""Synthetic meeting galleries with known truth, drawn with the colours real captures show.

Measured on real Zoom captures (see the real_galleries README): gallery background RGB 26,
camera-off tiles 34 with the name centred in white, 16:9 tiles separated by gaps, the last
row shorter and centred, a name tag bottom-left on a translucent dark box after a red
muted-microphone icon, 4:3 cameras pillarboxed with near-black bars, a green speaker border.
Meet 2020 draws no gaps (tile and stage both 17) and a round avatar for a camera-off tile;
Teams a lighter stage with wider gaps. Meet since 2021 (as its interface shows it, not
measured by us) draws rounded tiles 8 px apart on a stage of 33, camera-off tiles 63 with a
round avatar, the name in white with no box and the muted mic at the top right. Names are
drawn with Noto fonts (Latin with accents, Hangul, Hebrew right to left, ...) where Debian's
fonts-noto-core / fonts-noto-cjk are installed; these galleries are tests, not the measure
(that is bench.real_galleries).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

from agent.names import script_of

BACKGROUND = 26
CAMERA_OFF = 34
SPEAKER_BGR = (64, 200, 64)
MIC_RED_BGR = (56, 56, 224)
TAG_SHARE = 0.8  # a name tag stops short of the tile's right side (about 80 % of it on real Zoom captures)


@dataclass(frozen=True)
class Style:
    """What a meeting app draws: stage and camera-off colours, gaps, tag and avatar shapes."""

    background: int
    camera_off: int
    gap: int
    aspect: float = 16 / 9
    round_avatar: bool = False  # Meet: a circle (initials or photo) centred on a camera-off tile
    chrome: int = 38
    corner: int = 0  # radius of rounded tile corners (Meet since 2021)
    tag_size: float = 1 / 13  # the tag's letters, of the tile's height (a phone or tablet app draws them smaller) ...
    tag_floor: int = 11  # ... and at least this many pixels


STYLES = {
    "zoom": Style(background=BACKGROUND, camera_off=CAMERA_OFF, gap=6),
    "zoom-light": Style(background=238, camera_off=226, gap=6, chrome=250),
    "teams": Style(background=41, camera_off=59, gap=10, chrome=31),
    "meet": Style(background=17, camera_off=17, gap=0, aspect=16 / 9, round_avatar=True, chrome=32),
    "meet-2021": Style(background=33, camera_off=63, gap=8, aspect=16 / 9, round_avatar=True, chrome=33, corner=10),
}


@dataclass(frozen=True)
class Person:
    name: str
    photo: np.ndarray | None  # None: camera off
    muted: bool = True
    pillarbox: bool = False  # a 4:3 camera inside a 16:9 tile
    profile_photo: np.ndarray | None = field(default=None, compare=False)  # camera off, still photo shown


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
    gap: int | None = None,
    top: int = 40,
    bottom: int = 80,
    speaker: int | None = None,
    background: int | None = None,
    style: str = "zoom",
    tag_scale: float = 1.0,
) -> tuple[np.ndarray, list[Tile]]:
    """A gallery in one app's style; `background` (e.g. 245 for a light theme) overrides the style's,
    `tag_scale` scales its tags' letters."""
    look = STYLES[style]
    if background is not None:
        look = Style(background, look.camera_off if background < 128 else background - 12, look.gap, chrome=look.chrome)
    gap = look.gap if gap is None else gap
    look = replace(look, tag_size=look.tag_size * tag_scale, tag_floor=round(look.tag_floor * tag_scale))
    canvas = np.full((height, width, 3), look.background, np.uint8)
    _draw_chrome(canvas, top, bottom, look.chrome)
    area_h = height - top - bottom
    cols, rows, tile_w = grid_shape(len(people), width, area_h, gap, look.aspect)
    tile_h = int(tile_w / look.aspect)
    y0 = top + (area_h - rows * tile_h - (rows - 1) * gap) // 2
    tiles = []
    for r in range(rows):
        in_row = people[r * cols : (r + 1) * cols]
        x0 = (width - len(in_row) * tile_w - (len(in_row) - 1) * gap) // 2
        for c, person in enumerate(in_row):
            x, y = x0 + c * (tile_w + gap), y0 + r * (tile_h + gap)
            shown = _draw_tile(canvas[y : y + tile_h, x : x + tile_w], person, look)
            _round_corners(canvas[y : y + tile_h, x : x + tile_w], look.corner, look.background)
            if speaker is not None and r * cols + c == speaker:
                cv2.rectangle(canvas, (x, y), (x + tile_w - 1, y + tile_h - 1), SPEAKER_BGR, 3)
            tiles.append(Tile((x, y, tile_w, tile_h), shown, person.photo is not None))
    return canvas, tiles


def _draw_chrome(canvas: np.ndarray, top: int, bottom: int, level: int) -> None:
    h, w = canvas.shape[:2]
    ink = (30, 30, 30) if level > 128 else (220, 220, 220)
    canvas[:top] = level
    cv2.putText(canvas, "Zoom Meeting", (w // 2 - 80, top - 14), cv2.FONT_HERSHEY_SIMPLEX, 0.6, ink, 1)
    canvas[h - bottom :] = level
    for i, label in enumerate(("Mute", "Stop Video", "Participants", "Chat", "Share Screen", "Record")):
        cv2.putText(canvas, label, (60 + i * 170, h - bottom // 2 + 5), cv2.FONT_HERSHEY_SIMPLEX, 0.5, ink, 1)
    cv2.rectangle(canvas, (w - 120, h - bottom + 20), (w - 30, h - 20), (40, 40, 200), -1)


def _round_corners(tile: np.ndarray, radius: int, stage: int) -> None:
    """The stage colour outside a quarter circle at each corner."""
    if radius <= 0:
        return
    th, tw = tile.shape[:2]
    yy, xx = np.mgrid[:radius, :radius]
    outside = (radius - 0.5 - xx) ** 2 + (radius - 0.5 - yy) ** 2 > radius**2
    for rows in (slice(0, radius), slice(th - radius, th)):
        for cols in (slice(0, radius), slice(tw - radius, tw)):
            mask = outside[:: 1 if rows.start == 0 else -1, :: 1 if cols.start == 0 else -1]
            tile[rows, cols][mask] = stage


def _draw_tile(tile: np.ndarray, person: Person, look: Style) -> str:
    """Draws the participant's tile; returns their name as shown (cut short to fit the tag)."""
    th, tw = tile.shape[:2]
    if person.photo is None:
        tile[:] = look.camera_off
        if look.round_avatar:
            _draw_avatar(tile, person)
            return _draw_name(tile, person, look, box=False)
        elif person.profile_photo is not None:
            side = int(th * 0.62)
            photo = cv2.resize(_bgr(person.profile_photo), (side, side), interpolation=cv2.INTER_AREA)
            py, px = (th - side) // 2 - th // 20, (tw - side) // 2
            tile[py : py + side, px : px + side] = photo
            return _draw_tag(tile, person.name, person.muted, box=False, look=look)
        else:
            size = max(14, th // 9)
            draw_text(tile, person.name, None, size, (255, 255, 255), centre=True, bold=True)
            if person.muted:
                _draw_mic(tile, 6, th - 6 - max(12, th // 11), max(12, th // 11))
        return person.name
    tile[:] = 8
    photo = _bgr(person.photo)
    scale = th / photo.shape[0]
    resized = cv2.resize(photo, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    if person.pillarbox:
        resized = cv2.resize(resized, (int(th * 4 / 3), th), interpolation=cv2.INTER_AREA)
        pw = min(resized.shape[1], tw)
        px = (tw - pw) // 2
        tile[:, px : px + pw] = resized[:th, :pw]
    else:  # a 16:9 camera: the photo fills the tile (centre crop, edges replicated)
        pw = min(resized.shape[1], tw)
        px = (tw - pw) // 2
        tile[:, px : px + pw] = resized[:th, :pw]
        if pw < tw:
            tile[:, :px] = tile[:, px : px + 1]
            tile[:, px + pw :] = tile[:, px + pw - 1 : px + pw]
    return _draw_name(tile, person, look, box=True)


def _draw_name(tile: np.ndarray, person: Person, look: Style, box: bool) -> str:
    """The name bottom-left and the muted sign: before the name (Zoom, Teams, Meet 2020), or
    at the top right with the name straight on the video (Meet 2021, the rounded style)."""
    rounded = look.corner > 0
    shown = _draw_tag(tile, person.name, person.muted and not rounded, box=box and not rounded, look=look)
    if person.muted and rounded:
        _draw_corner_mic(tile)
    return shown


def _draw_corner_mic(tile: np.ndarray) -> None:
    """Meet 2021's muted sign: a white slashed mic on a dark disc at the top right."""
    th, tw = tile.shape[:2]
    r = max(8, th // 14)
    cx, cy = tw - 2 * r, 2 * r
    cv2.circle(tile, (cx, cy), r, (40, 40, 40), -1, cv2.LINE_AA)
    cv2.ellipse(tile, (cx, cy - r // 4), (r // 4, r // 2), 0, 0, 360, (255, 255, 255), max(1, r // 6))
    cv2.line(tile, (cx - r // 2, cy + r // 2), (cx + r // 2, cy - r // 2), (255, 255, 255), max(1, r // 6))


def _draw_avatar(tile: np.ndarray, person: Person) -> None:
    th, tw = tile.shape[:2]
    radius = int(th * 0.34)
    cx, cy = tw // 2, th // 2
    if person.profile_photo is not None:
        photo = cv2.resize(_bgr(person.profile_photo), (2 * radius, 2 * radius), interpolation=cv2.INTER_AREA)
        mask = np.zeros((2 * radius, 2 * radius), np.uint8)
        cv2.circle(mask, (radius, radius), radius, 255, -1)
        region = tile[cy - radius : cy + radius, cx - radius : cx + radius]
        region[mask > 0] = photo[mask > 0]
    else:
        hue = sum(map(ord, person.name)) % 180
        colour = cv2.cvtColor(np.uint8([[[hue, 150, 170]]]), cv2.COLOR_HSV2BGR)[0, 0].tolist()
        cv2.circle(tile, (cx, cy), radius, colour, -1, cv2.LINE_AA)
        draw_text(tile, initials(person.name), None, int(radius * 0.9), (255, 255, 255), centre=True)


def shown_name(name: str, size: int, room: int) -> str:
    """The name as Zoom shows it in `room` px: whole where it fits, else cut after the last
    letter that leaves room for "..." (after a space: "Elizabeth Hernández ...")."""
    if text_width(name, size) <= room:
        return name
    for end in range(len(name) - 1, 0, -1):
        if text_width(name[:end] + "...", size) <= room:
            return name[:end] + "..."
    return "..."


def _draw_tag(tile: np.ndarray, name: str, muted: bool, box: bool, look: Style) -> str:
    """Bottom-left: [red mic icon] name, on a translucent dark box over video; the tag spans
    at most TAG_SHARE of the tile, the name cut short to fit; letters as large as the app's
    `look` draws them. Returns the name as shown."""
    th, tw = tile.shape[:2]
    size = max(look.tag_floor, int(th * look.tag_size))
    pad = max(3, size // 4)
    icon = int(size * 1.1) if muted else 0
    name = shown_name(name, size, int(TAG_SHARE * tw) - 2 * pad - icon - (pad if muted else 0))
    text_w = text_width(name, size)
    x0, y1 = 4, th - 4
    x1, y0 = min(tw - 4, x0 + pad + icon + (pad if muted else 0) + text_w + pad), y1 - int(size * 1.5)
    if box:
        region = tile[y0:y1, x0:x1]
        region[:] = (region.astype(np.float32) * 0.45).astype(np.uint8)
    if muted:
        _draw_mic(tile, x0 + pad, y0 + (y1 - y0 - icon) // 2, icon)
    origin = (x0 + pad + icon + (pad if muted else 0), y0 + (y1 - y0 - size) // 2 - size // 6)
    draw_text(tile, name, origin, size, (255, 255, 255))
    return name


def _draw_mic(tile: np.ndarray, x: int, y: int, size: int) -> None:
    """Zoom's muted microphone: a red mic outline with a slash."""
    cx = x + size // 2
    cv2.ellipse(tile, (cx, y + size // 3), (size // 5, size // 3), 0, 0, 360, MIC_RED_BGR, max(1, size // 8))
    cv2.ellipse(tile, (cx, y + size // 2), (size // 3, size // 3), 0, 0, 180, MIC_RED_BGR, max(1, size // 8))
    cv2.line(tile, (x, y + size), (x + size, y), MIC_RED_BGR, max(1, size // 7))


def initials(name: str) -> str:
    return "".join(word[0] for word in name.split()[:2]).upper()


def _bgr(image: np.ndarray) -> np.ndarray:
    return image if image.ndim == 3 else cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)


# --- text in any script ---------------------------------------------------------------------

NOTO = Path("/usr/share/fonts")
FONT_FILES = {
    "HANGUL": "opentype/noto/NotoSansCJK-{w}.ttc",
    "CJK": "opentype/noto/NotoSansCJK-{w}.ttc",
    "HIRAGANA": "opentype/noto/NotoSansCJK-{w}.ttc",
    "HEBREW": "truetype/noto/NotoSansHebrew-{w}.ttf",
    "ARABIC": "truetype/noto/NotoSansArabic-{w}.ttf",
    "DEVANAGARI": "truetype/noto/NotoSansDevanagari-{w}.ttf",
}
LATIN_FILE = "truetype/noto/NotoSans-{w}.ttf"  # Latin, Greek, Cyrillic


@lru_cache(maxsize=64)
def font(script: str, size: int, bold: bool = False):
    """A Noto font for the script, or None where the Debian font package is not installed."""
    from PIL import ImageFont

    pattern = FONT_FILES.get(script, LATIN_FILE)
    for weight in ("Bold", "Regular") if bold else ("Regular",):
        path = NOTO / pattern.format(w=weight)
        if path.is_file():
            return ImageFont.truetype(str(path), size)
    return None


def fonts_available(text: str) -> bool:
    return font(script_of(text), 12) is not None


def text_width(text: str, size: int) -> int:
    face = font(script_of(text), size)
    if face is None:
        return cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, size / 30, 1)[0][0]
    return int(face.getlength(text))


def draw_text(tile, text, origin, size, colour, centre=False, bold=False) -> None:
    """Text drawn with a Noto font (right to left where the script is), else OpenCV's font."""
    face = font(script_of(text), size, bold)
    th, tw = tile.shape[:2]
    if face is None:
        scale = size / 30
        (w, h), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, 2 if bold else 1)
        x, y = ((tw - w) // 2, (th + h) // 2) if centre else (origin[0], origin[1] + h)
        cv2.putText(tile, text, (x, y), cv2.FONT_HERSHEY_SIMPLEX, scale, colour, 2 if bold else 1, cv2.LINE_AA)
        return
    from PIL import Image, ImageDraw

    left, top, right, bottom = face.getbbox(text)
    if centre:
        origin = ((tw - (right - left)) // 2 - left, (th - (bottom - top)) // 2 - top)
    image = Image.fromarray(cv2.cvtColor(tile, cv2.COLOR_BGR2RGB))
    ImageDraw.Draw(image).text(origin, text, font=face, fill=tuple(int(c) for c in colour[::-1]))
    tile[:] = cv2.cvtColor(np.asarray(image), cv2.COLOR_RGB2BGR)
