"""Benchmark: names read exactly, per script, from generated name tags.

    python -m bench.tag_scripts [--galleries 4] [--jpeg 75] [--scale 0.6] [--blur 1.0] [--misses]

Galleries of 25 tiles in Zoom's, Teams' and Meet's styles at 1366-2560 px, with names in
Latin (accents, Ł, İ), Hangul (with student numbers and brackets, as real Korean classes
write them), Hebrew, Cyrillic, Devanagari, Arabic and Chinese, drawn with Noto fonts
(Debian fonts-noto-core, fonts-noto-cjk). Each tile's tag is read by the agent's NameReader
and compared with the drawn name exactly. --jpeg Q recompresses each gallery first. A test of
the reader on tags we drew, not the measure; --scale and --blur make them as small and soft as
real ones (a 25-tile page on a small screen, a photographed monitor). Long names are cut short
to fit the tag as Zoom does ("Elizabeth Hernández ...") and must be read so, "..." included.
"""

from __future__ import annotations

import argparse
import csv
import os
import random

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import cv2  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from bench.environment import shared_folder  # noqa: E402

NAMES = {
    "LATIN": ["Zoë Müller", "José Hermosilla", "İlker Öztürk", "Anita Raquel", "Victor Henriquez", "Åsa Lindqvist",
              "François Dubois", "Łukasz Kowalski", "Nguyễn Văn An", "Chloé Martin",
              "Elizabeth Hernández Castro", "Francisco Boisier S. (Inacap)", "María José Valenzuela Rojas"],
    "HANGUL": ["20200759 양예지", "김선경(20200756)", "(초급)강 미숙", "박지훈", "이서연 20211234", "최민준",
               "정하은(2019)", "한도윤", "윤서아", "장우진"],
    "HEBREW": ["עדיטל בן משה", "שרה לוי", "יוסי כהן", "מיכל אברהם", "דניאל פרץ", "נועה ביטון", "אורי מזרחי", "תמר דהן"],
    "CYRILLIC": ["Дмитрий Орлов", "Анна Смирнова", "Ольга Петрова"],
    "DEVANAGARI": ["राहुल शर्मा", "प्रिया पटेल"],
    "ARABIC": ["محمد علي", "فاطمة حسن"],
    "CJK": ["王小明", "李华"],
}  # fmt: skip
PER_GALLERY = {"LATIN": 7, "HANGUL": 6, "HEBREW": 6, "CYRILLIC": 2, "DEVANAGARI": 2, "ARABIC": 1, "CJK": 1}
LAYOUTS = [("zoom", 1920, 1080), ("teams", 1600, 900), ("zoom", 1366, 768), ("meet", 2560, 1440)]


def main() -> None:
    from agent.names import NameReader, script_of
    from bench.gallery import Person, fonts_available, render_gallery

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--galleries", type=int, default=4)
    parser.add_argument("--jpeg", type=int, default=0, help="Recompress each gallery at this JPEG quality first.")
    parser.add_argument("--scale", type=float, default=1.0, help="Resize each gallery by this factor first.")
    parser.add_argument("--blur", type=float, default=0.0, help="Gaussian blur of this sigma (px) first.")
    parser.add_argument("--tag-size", type=float, default=1.0, help="Scale the tags' letters by this.")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--misses", action="store_true", help="Print each name read wrongly.")
    args = parser.parse_args()
    if not fonts_available("박지훈"):
        raise SystemExit("needs Debian's fonts-noto-core and fonts-noto-cjk to draw the tags")
    labels = shared_folder() / "data/wild_faces/labels_min48px.csv"
    with open(labels) as f:
        rows = list(csv.DictReader(f))
    rng = random.Random(args.seed)
    reader = NameReader()
    scores: dict[str, list[int]] = {script: [0, 0] for script in NAMES}
    for g in range(args.galleries):
        names = [name for script, k in PER_GALLERY.items() for name in rng.sample(NAMES[script], k)]
        rng.shuffle(names)
        photos = [cv2.imread(str(labels.parent / rng.choice(rows)["path"])) for _ in names]
        people = [Person(n, p if rng.random() < 0.7 else None, muted=rng.random() < 0.6) for n, p in zip(names, photos)]
        style, width, height = LAYOUTS[g % len(LAYOUTS)]
        image, truth = render_gallery(people, width=width, height=height, style=style, tag_scale=args.tag_size)
        image, truth = degraded(image, truth, args.scale, args.blur)
        if args.jpeg:
            _, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, args.jpeg])
            image = cv2.imdecode(data, cv2.IMREAD_COLOR)
        for tile in truth:
            x, y, w, h = tile.box
            read = reader.read(image[y : y + h, x : x + w], tile.camera_on)
            score = scores[script_of(tile.name)]
            score[0] += read is not None and read.strip() == tile.name
            score[1] += 1
            if args.misses and (read or "").strip() != tile.name:
                print(f"{tile.name!r} read {read!r}")
    quality = (
        (f", x{args.scale}" if args.scale != 1 else "")
        + (f", tags x{args.tag_size}" if args.tag_size != 1 else "")
        + (f", blur {args.blur}" if args.blur else "")
    )
    quality += f", JPEG q{args.jpeg}" if args.jpeg else ""
    table = Table(title=f"Names read exactly from generated tags ({args.galleries} galleries of 25{quality})")
    for column in ("script", "exact", "of", "share"):
        table.add_column(column, justify="right")
    for script, (right, of) in scores.items():
        table.add_row(script.title(), str(right), str(of), f"{right / of:.0%}" if of else "-")
    Console(width=100).print(table)


def degraded(image, truth: list, scale: float, blur: float) -> tuple:
    """The gallery resized by `scale` (the tiles' boxes with it) and blurred by `blur` sigma."""
    from dataclasses import replace

    if scale != 1:
        image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        truth = [replace(t, box=tuple(int(round(v * scale)) for v in t.box)) for t in truth]
    if blur:
        image = cv2.GaussianBlur(image, (0, 0), blur)
    return image, truth


if __name__ == "__main__":
    main()
