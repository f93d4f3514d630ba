"""Benchmark: the agent's pipeline on real meeting screenshots, scored against hand-made truth.

    python -m bench.real_galleries [--folder DIR] [--robustness] [--roster] [--jitter]

DIR (default $CLASSMOOD_SHARED/data/real_galleries) holds screenshots with `<file>.json`
truth, scored as that folder's README says: a tile is found when an observation's origin is
within max(6 px, 6 % of the tile width) of the truth origin; an observation matching no truth
tile is a phantom; a live face is found when the state is `face` and the face box centre lies
in the truth face box grown by 25 % a side; a name is right when it equals the truth after
stripping spaces. Identity: the josehermosillaa captures fed as one session must give each
student exactly one participant; so must the Korean class captured five ways in one session
(recompressed, its tiles reordered as Zoom does, the window enlarged).

--roster gives the agent a class list per screenshot: its students (each under the longest
form of their tag seen in the folder, Zoom's "..." dropped) and, as absent students, every
other screenshot's. A name is then right when it is the list's entry for that tile's student.
With --robustness the changed screenshots are read with their lists too.

--jitter reads each tile's name tag on 27 crops of the tile, its box moved and resized by a
pixel each way (what a tile finder's next capture may give): a name must not hang on one
crop, since the agent settles a tag's name by a vote across captures.

--robustness also finds the tiles of each screenshot changed the ways real captures differ
(recompressed as JPEG, scaled, shown as a window on a desktop of another colour beside a
taskbar, cropped to the grid or a few pixels into its edge tiles, photographed off a monitor
held askew, replayed in a video player), with the truth moved along: a guard against rules
that fit only these pictures.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import re
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from bench.environment import shared_folder  # noqa: E402

IDENTITY_SESSION = ("josehermosillaa_caras.jpg", "josehermosillaa_grupo.jpg", "josehermosillaa_zoom1.jpg")
KOREAN_CLASS = "gommy15_zoom4.PNG"


def load_truth(folder: Path) -> list[dict]:
    """Every `<image>.json` truth file whose image sits beside it, sorted by file name."""
    truths = []
    for path in sorted(folder.glob("*.json")):
        truth = json.loads(path.read_text())
        if (folder / truth["file"]).is_file():
            truths.append(truth)
    return truths


def is_latin(name: str) -> bool:
    """Latin script (accents included): every letter below U+0250."""
    return all(ord(c) < 0x250 for c in name if c.isalpha())


def is_hangul(name: str) -> bool:
    return any(0xAC00 <= ord(c) <= 0xD7A3 for c in name)


def same_origin(observed: tuple, truth: tuple) -> bool:
    tolerance = max(6.0, 0.06 * truth[2])
    return abs(observed[0] - truth[0]) <= tolerance and abs(observed[1] - truth[1]) <= tolerance


def face_hit(face_box: tuple | None, truth_box: list | None) -> bool:
    if face_box is None or truth_box is None:
        return False
    cx, cy = face_box[0] + face_box[2] / 2, face_box[1] + face_box[3] / 2
    x, y, w, h = truth_box
    return x - 0.25 * w <= cx <= x + 1.25 * w and y - 0.25 * h <= cy <= y + 1.25 * h


@dataclass
class Score:
    """Counts as (right, of) pairs; phantoms a plain count."""

    tiles: list[int] = field(default_factory=lambda: [0, 0])
    phantoms: int = 0
    camera_off: list[int] = field(default_factory=lambda: [0, 0])
    faces: list[int] = field(default_factory=lambda: [0, 0])
    names_latin: list[int] = field(default_factory=lambda: [0, 0])
    names_hangul: list[int] = field(default_factory=lambda: [0, 0])
    names_other: list[int] = field(default_factory=lambda: [0, 0])

    @property
    def names(self) -> list[int]:
        parts = (self.names_latin, self.names_hangul, self.names_other)
        return [sum(p[0] for p in parts), sum(p[1] for p in parts)]

    def add(self, other: Score) -> None:
        for name, value in vars(other).items():
            if isinstance(value, list):
                mine = getattr(self, name)
                mine[0] += value[0]
                mine[1] += value[1]
            else:
                setattr(self, name, getattr(self, name) + value)


def match_tiles(observed: list, truth_tiles: list[dict]) -> tuple[dict[int, object], int]:
    """truth index -> observed tile (nearest origin within tolerance), and the phantom count."""
    matched: dict[int, object] = {}
    used: set[int] = set()
    for i, tile in enumerate(truth_tiles):
        candidates = [
            (abs(o.box[0] - tile["box"][0]) + abs(o.box[1] - tile["box"][1]), j)
            for j, o in enumerate(observed)
            if j not in used and same_origin(o.box, tile["box"])
        ]
        if candidates:
            _, j = min(candidates)
            used.add(j)
            matched[i] = observed[j]
    return matched, len(observed) - len(used)


def score_capture(result, truth: dict, listed: dict[str, str] | None = None) -> Score:
    """Score one CaptureResult against one truth file; `listed`: truth name -> the class
    list's name for that student, when the agent had a list."""
    score = Score()
    matched, score.phantoms = match_tiles(result.tiles, truth["tiles"])
    for i, tile in enumerate(truth["tiles"]):
        got = matched.get(i)
        score.tiles[0] += got is not None
        score.tiles[1] += 1
        if tile["camera_off"]:
            score.camera_off[0] += got is not None and got.state == "camera_off"
            score.camera_off[1] += 1
        elif tile["face"]:
            score.faces[0] += got is not None and got.state == "face" and face_hit(got.face_box, tile["face_box"])
            score.faces[1] += 1
        names = (
            score.names_latin if is_latin(tile["name"]) else score.names_hangul if is_hangul(tile["name"])
            else score.names_other
        )  # fmt: skip
        expected = tile["name"].strip() if listed is None else listed[tile["name"].strip()]
        names[0] += got is not None and got.named and got.label.strip() == expected
        names[1] += 1
    return score


def name_stem(name: str) -> str:
    """A tag without Zoom's truncation mark: "Ana Sil..." -> "Ana Sil"."""
    return re.sub(r"\s*(\.\.\.|…)\s*$", "", name.strip())


def student_of(name: str, all_names: list[str]) -> str:
    """The student a tag belongs to: the longest tag seen that starts with this one's stem."""
    stem = name_stem(name)
    return max((name_stem(n) for n in all_names if name_stem(n).startswith(stem)), key=len, default=stem)


def identity_score(results: list, truths: list[dict]) -> tuple[int, int, int]:
    """(students with exactly one participant that is theirs alone, students, participants)."""
    names = sorted({t["name"].strip() for truth in truths for t in truth["tiles"]})
    keys_of: dict[str, set[str]] = {}
    students_of: dict[str, set[str]] = {}
    participants: set[str] = set()
    for result, truth in zip(results, truths):
        participants.update(t.key for t in result.tiles)
        matched, _ = match_tiles(result.tiles, truth["tiles"])
        for i, tile in enumerate(truth["tiles"]):
            student = student_of(tile["name"], names)
            keys_of.setdefault(student, set())
            if i in matched:
                keys_of[student].add(matched[i].key)
                students_of.setdefault(matched[i].key, set()).add(student)
    one_to_one = sum(len(keys) == 1 and len(students_of[next(iter(keys))]) == 1 for keys in keys_of.values())
    return one_to_one, len(keys_of), len(participants)


def class_lists(truths: list[dict]) -> dict[str, tuple[object, dict[str, str]]]:
    """file -> (its class list, truth name -> list name): the screenshot's students first, then
    every other screenshot's as absent students."""
    from core.roster import Roster, Student

    every = [t["name"].strip() for truth in truths for t in truth["tiles"]]
    listed = {name: name_stem(student_of(name, every)) for name in every}
    lists = {}
    for truth in truths:
        own = [listed[t["name"].strip()] for t in truth["tiles"]]
        others = [name for name in dict.fromkeys(listed.values()) if name not in own]
        lists[truth["file"]] = (Roster(tuple(Student(n) for n in dict.fromkeys(own + others))), listed)
    return lists


def transformed(tiles: list[dict], turn) -> list[dict]:
    """The truth tiles carried along an affine change of the picture (2x3 matrix): each box
    keeps its centre's image and is scaled by the change's scale."""
    import numpy as np

    scale = float(np.sqrt(abs(np.linalg.det(turn[:, :2]))))

    def moved(box):
        if box is None:
            return None
        x, y, w, h = box
        cx, cy = turn @ (x + w / 2, y + h / 2, 1.0)
        return [cx - scale * w / 2, cy - scale * h / 2, scale * w, scale * h]

    return [{**t, "box": moved(t["box"]), "face_box": moved(t.get("face_box"))} for t in tiles]


def affine(scale: float = 1.0, dx: float = 0.0, dy: float = 0.0):
    """The 2x3 matrix of a scaling by `scale` then a shift by (dx, dy)."""
    import numpy as np

    return np.array([[scale, 0, dx], [0, scale, dy]], np.float64)


WINDOW_AT = (200, 60)


def on_wallpaper(image, picture=None):
    """The capture as a window (title bar, traffic lights) on a desktop whose wallpaper is a
    soft picture (`picture` blurred, else soft colour blobs), not one colour, with a menu bar
    and a dock of evenly spaced icons."""
    import cv2
    import numpy as np

    h, w = image.shape[:2]
    height, width = h + 250, w + 400
    rng = np.random.default_rng(1)
    if picture is None:
        field = cv2.resize(
            rng.integers(0, 256, (6, 9, 3), dtype=np.uint8), (width, height), interpolation=cv2.INTER_CUBIC
        )
        desktop = cv2.GaussianBlur(field, (0, 0), 25)
    else:
        desktop = cv2.GaussianBlur(cv2.resize(picture, (width, height)), (0, 0), 8)
    desktop[:24] = 235  # the menu bar
    for i in range(12):
        x = width // 2 - 6 * 70 + i * 70
        colour = tuple(int(c) for c in rng.integers(40, 255, 3))
        cv2.rectangle(desktop, (x, height - 70), (x + 56, height - 14), colour, -1)
    ox, oy = WINDOW_AT
    desktop[oy - 28 : oy, ox : ox + w] = 60  # the window's title bar
    for j, colour in enumerate([(87, 95, 255), (46, 189, 254), (63, 200, 39)]):
        cv2.circle(desktop, (ox + 14 + 20 * j, oy - 14), 6, colour, -1)
    desktop[oy : oy + h, ox : ox + w] = image
    return desktop


def variants(image, truth: dict):
    """(name, changed image, truth tiles moved along) for the robustness table."""
    import cv2
    import numpy as np

    tiles = truth["tiles"]
    ok, jpeg = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 35])
    yield "JPEG q35", cv2.imdecode(jpeg, cv2.IMREAD_COLOR), tiles
    for factor in (0.6, 1.5):
        method = cv2.INTER_AREA if factor < 1 else cv2.INTER_LINEAR
        scaled = cv2.resize(image, None, fx=factor, fy=factor, interpolation=method)
        yield f"scaled x{factor}", scaled, transformed(tiles, affine(factor))
    h, w = image.shape[:2]
    for level in (0, 59, 99, 200):
        desktop = np.full((h + 200, w + 300, 3), level, np.uint8)
        desktop[:, :60] = (120, 80, 40)  # a taskbar
        desktop[80 : 80 + h, 150 : 150 + w] = image
        yield f"on a desktop ({level})", desktop, transformed(tiles, affine(1.0, 150, 80))
    wallpaper = on_wallpaper(image)
    yield "window on a wallpaper", wallpaper, transformed(tiles, affine(1.0, WINDOW_AT[0], WINDOW_AT[1]))
    boxes = [t["box"] for t in tiles]
    x0, y0 = max(0, min(b[0] for b in boxes) - 3), max(0, min(b[1] for b in boxes) - 3)
    x1, y1 = max(b[0] + b[2] for b in boxes) + 3, max(b[1] + b[3] for b in boxes) + 3
    yield "cropped to the grid", image[y0:y1, x0:x1], transformed(tiles, affine(1.0, -x0, -y0))
    x0, y0, x1, y1 = x0 + 7, y0 + 7, x1 - 7, y1 - 7  # 4 px into the edge tiles
    moved = transformed(tiles, affine(1.0, -x0, -y0))
    cut = [{**t, "box": [max(0, t["box"][0]), max(0, t["box"][1]), *t["box"][2:]]} for t in moved]
    yield "cropped into the edge tiles", image[y0:y1, x0:x1], cut
    rng = np.random.default_rng(0)
    for angle in (2.0, 5.0):  # a photo of the monitor: turned, smaller, soft, dimmer, noisy
        turn = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 0.8)
        photo = cv2.GaussianBlur(cv2.warpAffine(image, turn, (w, h), borderValue=(40, 40, 40)), (0, 0), 1.0)
        photo = np.clip(photo * 0.85 + 20 + rng.normal(0, 4, photo.shape), 0, 255).astype(np.uint8)
        yield f"photo of the screen ({angle:.0f}°)", photo, transformed(tiles, turn)
    player = np.zeros((int(1.25 * h) + 60, int(1.25 * w), 3), np.uint8)  # a recording in a video player
    player[-60:] = 30
    player[-35:-30, 20:-20] = 200  # its progress bar
    small = cv2.resize(image, None, fx=0.9, fy=0.9, interpolation=cv2.INTER_AREA)
    px, py = (player.shape[1] - small.shape[1]) // 2, (player.shape[0] - 60 - small.shape[0]) // 2
    player[py : py + small.shape[0], px : px + small.shape[1]] = small
    yield "in a video player", player, transformed(tiles, affine(0.9, px, py))


def reordered(image, truth: dict, seed: int):
    """The screenshot with its tiles' pictures put in another order, as Zoom reorders a gallery
    (someone joins, leaves or speaks), and the truth moved along."""
    import cv2
    import numpy as np

    tiles, out, moved = truth["tiles"], image.copy(), []
    for place, source in zip(tiles, (tiles[i] for i in np.random.default_rng(seed).permutation(len(tiles)))):
        x, y, w, h = (round(v) for v in place["box"])
        sx, sy, sw, sh = (round(v) for v in source["box"])
        out[y : y + h, x : x + w] = cv2.resize(image[sy : sy + sh, sx : sx + sw], (w, h))
        face = source.get("face_box")
        if face is not None:
            fx, fy, fw, fh = face
            face = [x + (fx - sx) * w / sw, y + (fy - sy) * h / sh, fw * w / sw, fh * h / sh]
        moved.append({**source, "box": [x, y, w, h], "face_box": face})
    return out, {**truth, "tiles": moved}


def session_of_changes(image, truth: dict) -> list[tuple[str, object, dict]]:
    """One class captured five ways in a session: as captured, recompressed, reordered, the
    window enlarged, and recompressed and reordered at once."""
    changed = {}
    for name, picture, tiles in variants(image, truth):  # the first three; the rest are not drawn
        changed[name] = (picture, tiles)
        if "scaled x1.5" in changed:
            break
    jpeg, tiles = changed["JPEG q35"]
    captures = [("as captured", image, truth), ("JPEG q35", jpeg, {**truth, "tiles": tiles})]
    captures.append(("reordered", *reordered(image, truth, 1)))
    bigger, tiles = changed["scaled x1.5"]
    captures.append(("scaled x1.5", bigger, {**truth, "tiles": tiles}))
    captures.append(("JPEG q35, reordered", *reordered(jpeg, truth, 2)))
    return captures


def settled_capture(pipeline, image, most: int = 200):
    """The capture after the same picture was captured until every tag's name was settled by
    the vote of its crops (NameReader.settle): what a static gallery shows after a few minutes."""
    for _ in range(most):
        pipeline.process(image, None)
        if not pipeline.names.settling:
            break
    return pipeline.process(image, None)


def robustness_table(folder: Path, truths: list[dict], model: Path | None = None, lists: dict | None = None) -> Table:
    """The whole pipeline (first capture) on each screenshot changed as real captures are;
    `lists` (from `class_lists`): each screenshot read with its class list."""
    from core.analyze import read_image

    lists = lists or {}
    totals: dict[str, Score] = {}
    settled: dict[str, Score] = {}
    for truth in truths:
        image = read_image(folder / truth["file"])
        roster, listed = lists.get(truth["file"], (None, None))
        for name, changed, tiles in [("as captured", image, truth["tiles"]), *variants(image, truth)]:
            changed, tiles = levelled(changed, tiles)
            pipeline = make_pipeline(model, roster)
            result = pipeline.process(changed, None)
            totals.setdefault(name, Score()).add(score_capture(result, {**truth, "tiles": tiles}, listed))
            result = settled_capture(pipeline, changed)
            settled.setdefault(name, Score()).add(score_capture(result, {**truth, "tiles": tiles}, listed))
    with_list = ", each with its class list" if lists else ""
    title = f"The screenshots changed as real captures are (first capture each, and once names settled{with_list})"
    table = Table(title=title)
    columns = ("tiles", "phantoms", "camera-off", "live faces", "names Latin", "Hangul", "settled: Latin", "Hangul")
    for column in ("change", *columns):
        table.add_column(column, justify="right")
    for name, score in totals.items():
        table.add_row(
            name, percent(score.tiles), str(score.phantoms), percent(score.camera_off), percent(score.faces),
            percent(score.names_latin), percent(score.names_hangul),
            percent(settled[name].names_latin), percent(settled[name].names_hangul),
        )  # fmt: skip
    return table


def levelled(image, tiles: list[dict]):
    """The picture turned level as the agent does (a photo held askew), the truth with it, so
    that boxes compare in one frame."""
    import cv2

    from agent.tiles import deskewed, skew_angle

    angle = skew_angle(image)
    if not angle:
        return image, tiles
    h, w = image.shape[:2]
    return deskewed(image, angle), transformed(tiles, cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0))


def make_pipeline(model: Path | None = None, roster=None, meeting_expert: Path | None = None):
    from agent.identity import IdentityTracker
    from agent.names import NameReader
    from agent.pipeline import CapturePipeline
    from core.emotions import default_classifier
    from core.faces import default_detector
    from core.head_pose import HeadPoseReader

    tracker = IdentityTracker(roster=roster)
    classifier = default_classifier(model, meeting_expert)
    return CapturePipeline(default_detector(), classifier, NameReader(), tracker, HeadPoseReader())


def score_cells(score: Score) -> list[str]:
    return [
        percent(score.tiles), str(score.phantoms), percent(score.camera_off), percent(score.faces),
        percent(score.names), percent(score.names_latin), percent(score.names_hangul), percent(score.names_other),
    ]  # fmt: skip


def percent(pair: list[int]) -> str:
    return f"{pair[0] / pair[1]:.1%} ({pair[0]}/{pair[1]})" if pair[1] else "-"


JITTER = tuple(itertools.product((-1, 0, 1), repeat=3))  # (dx, dy, dw): a tile box moved and resized


def crops_read_right(reader, image, tile: dict) -> int:
    """Of the truth tile's JITTER crops, how many `reader` (a NameReader) reads its name from."""
    x, y, w, h = tile["box"]
    right = 0
    for dx, dy, dw in JITTER:
        crop = image[max(0, y + dy) : y + dy + h + dw, max(0, x + dx) : x + dx + w + dw]
        read = reader.read(crop, not tile["camera_off"])
        right += read is not None and read.strip() == tile["name"].strip()
    return right


def jitter_table(folder: Path, truths: list[dict]) -> Table:
    """Names read exactly on each tile's 27 one-pixel crops (box moved and resized by -1, 0, 1),
    per script, and the tiles whose every crop reads right."""
    from agent.names import NameReader
    from core.analyze import read_image

    reader = NameReader(workers=1)
    reads: dict[str, list[int]] = {script: [0, 0, 0, 0] for script in ("Latin", "Hangul", "other")}
    for truth in truths:
        image = read_image(folder / truth["file"])
        for tile in truth["tiles"]:
            right = crops_read_right(reader, image, tile)
            script = "Latin" if is_latin(tile["name"]) else "Hangul" if is_hangul(tile["name"]) else "other"
            every = len(JITTER)
            reads[script] = [a + b for a, b in zip(reads[script], (right, every, right == every, 1))]
    table = Table(title="Names on 27 crops of each tile, a pixel apart (--jitter)")
    for column in ("script", "crops read exactly", "tiles read exactly on every crop"):
        table.add_column(column, justify="right")
    for script, (right, crops, steady, tiles) in reads.items():
        if tiles:
            table.add_row(script, percent([right, crops]), percent([steady, tiles]))
    return table


def main() -> None:
    from agent.names import CROPS
    from core.analyze import read_image

    shared = shared_folder()
    os.environ.setdefault("CLASSMOOD_YUNET", str(shared / "models/face_detection_yunet_2026may.onnx"))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folder", type=Path, default=shared / "data/real_galleries")
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument(
        "--robustness", action="store_true", help="Also run the screenshots changed (scaled, JPEG, photographed, ...)."
    )
    parser.add_argument("--roster", action="store_true", help="Give the agent each screenshot's class list.")
    parser.add_argument("--jitter", action="store_true", help="Also read each tag on crops a pixel apart.")
    args = parser.parse_args()
    truths = load_truth(args.folder)
    if not truths:
        raise SystemExit(f"no screenshots with truth in {args.folder}")
    lists = class_lists(truths) if args.roster else {}

    def roster_of(file: str):
        return lists[file][0] if file in lists else None

    def listed_of(file: str):
        return lists[file][1] if file in lists else None

    with_list = ", each with its class list" if args.roster else ""
    table = Table(title=f"Agent pipeline on {len(truths)} real meeting screenshots ({args.folder.name}){with_list}")
    columns = ("tiles", "phantoms", "camera-off", "live faces", "names", "Latin", "Hangul", "other")
    for column in ("screenshot", *columns):
        table.add_column(column, justify="right")
    total, steady, settled, first_ms, steady_ms, settled_ms = Score(), Score(), Score(), [], [], []
    for truth in truths:
        pipeline = make_pipeline(args.model, roster_of(truth["file"]))
        image = read_image(args.folder / truth["file"])
        start = time.perf_counter()
        result = pipeline.process(image, None)
        first_ms.append((time.perf_counter() - start) * 1000)
        start = time.perf_counter()
        again = pipeline.process(image, None)
        steady_ms.append((time.perf_counter() - start) * 1000)
        steady.add(score_capture(again, truth, listed_of(truth["file"])))
        settled.add(score_capture(settled_capture(pipeline, image), truth, listed_of(truth["file"])))
        start = time.perf_counter()
        pipeline.process(image, None)
        settled_ms.append((time.perf_counter() - start) * 1000)
        score = score_capture(result, truth, listed_of(truth["file"]))
        total.add(score)
        table.add_row(truth["file"], *score_cells(score))
    table.add_row("all", *score_cells(total), style="bold")
    console = Console(width=160)
    console.print(table)
    console.print(
        f"names once settled (the screenshot captured until each tag's {len(CROPS)} crops voted):"
        f" {percent(settled.names)}, Latin {percent(settled.names_latin)}, Hangul {percent(settled.names_hangul)}"
    )

    session = [t for name in IDENTITY_SESSION for t in truths if t["file"] == name]
    if len(session) == len(IDENTITY_SESSION):
        pipeline = make_pipeline(args.model, roster_of(session[0]["file"]))
        results = [pipeline.process(read_image(args.folder / t["file"]), None) for t in session]
        right, students, participants = identity_score(results, session)
        console.print(
            f"identity ({len(session)} josehermosillaa captures, one session): {right} of {students} students"
            f" with one participant of their own; {participants} participants"
        )
    korean = [t for t in truths if t["file"] == KOREAN_CLASS]
    if korean:
        captures = session_of_changes(read_image(args.folder / KOREAN_CLASS), korean[0])
        pipeline = make_pipeline(args.model, roster_of(KOREAN_CLASS))
        results = [pipeline.process(picture, None) for _, picture, _ in captures]
        right, students, participants = identity_score(results, [truth for _, _, truth in captures])
        console.print(
            f"identity (the Korean class captured {len(captures)} ways, one session: "
            f"{', '.join(name for name, _, _ in captures)}): {right} of {students} students"
            f" with one participant of their own; {participants} participants"
        )
    console.print(
        f"ms per capture: first {statistics.median(first_ms):.0f} (median; max {max(first_ms):.0f}),"
        f" steady while names settle {statistics.median(steady_ms):.0f} (median; max {max(steady_ms):.0f}),"
        f" once settled {statistics.median(settled_ms):.0f} (median; max {max(settled_ms):.0f});"
        f" live faces on the steady capture (each face looked for near the first's) {percent(steady.faces)}"
    )
    if args.jitter:
        console.print(jitter_table(args.folder, truths))
    if args.robustness:
        console.print(robustness_table(args.folder, truths, args.model, lists))


if __name__ == "__main__":
    main()
