"""Benchmark: tile, name and face accuracy of the agent's pipeline on generated galleries.

    python -m bench.gallery_accuracy [--galleries 20] [--style meet] [--camera-off 0.6] [--seed 0]

Galleries of 2 to 75 real wild_faces photos with rendered name tags (Latin with accents,
Hangul, Hebrew, Cyrillic), some cameras off (a few with a profile photo), pillarboxed cameras,
an active-speaker border, in Zoom's, Zoom light's, Teams', Meet 2020's and Meet 2021's styles at several window
sizes. Truth is known for every tile. A test of the cases the renderer draws; the measure is
bench.real_galleries.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import cv2  # noqa: E402
import numpy as np  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from bench.environment import shared_folder  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SIZES = [(1920, 1080), (1600, 900), (1280, 720), (1280, 1000)]
STYLES = ["zoom", "zoom-light", "teams", "meet", "meet-2021"]
OTHER_SCRIPTS = ["20200759 양예지", "김선경(20200756)", "עדיטל בן משה", "שרה לוי", "Дмитрий Орлов", "Zoë Müller"]


def main() -> None:
    from agent.identity import IdentityTracker
    from agent.names import NameReader, normalize_name
    from agent.pipeline import CapturePipeline
    from bench.gallery import Person, render_gallery
    from core.emotions import default_classifier
    from core.faces import default_detector
    from tests.galleries import NAMES

    shared = shared_folder()
    os.environ.setdefault("CLASSMOOD_YUNET", str(shared / "models/face_detection_yunet_2026may.onnx"))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--galleries", type=int, default=20)
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--style", choices=STYLES, default=None, help="Only this app's galleries.")
    parser.add_argument("--camera-off", type=float, default=0.125, help="Share of cameras off (classes: often most).")
    parser.add_argument("--seed", type=int, default=0, help="Another seed draws other galleries (fresh cases).")
    args = parser.parse_args()
    labels = shared / "data/wild_faces/labels_min48px.csv"
    with open(labels) as f:
        rows = list(csv.DictReader(f))
    rng = random.Random(args.seed)
    first, last = ("Lina", "Tom", "Aiko", "Raj"), ("Moreau", "Nowak", "Ito", "Khan", "Berg", "Vidal")
    names = NAMES + [f"{a} {b}" for a in first for b in last] + OTHER_SCRIPTS
    names += [f"{name} {k}" for k in (2, 3) for name in NAMES]  # enough for 75 tiles
    reader, detector, classifier = NameReader(), default_detector(), default_classifier(args.model)
    totals = {"tiles": [0, 0], "phantoms": [0, 0], "names": [0, 0], "faces": [0, 0], "camera_off": [0, 0]}
    by_style: dict[str, list[int]] = {}  # style -> [tiles found, tiles, phantoms]
    for g in range(args.galleries):
        n = rng.choice([2, 4, 6, 9, 13, 16, 20, 25, 30, 49, 56, 75])
        chosen = rng.sample(names, n)
        off = set(rng.sample(range(n), int(args.camera_off * n)))
        photos = [cv2.imread(str(labels.parent / rng.choice(rows)["path"])) for _ in range(n)]
        people = [
            Person(chosen[i], None, profile_photo=photos[i] if rng.random() < 0.3 else None)
            if i in off
            else Person(chosen[i], photos[i], muted=rng.random() < 0.6, pillarbox=rng.random() < 0.15)
            for i in range(n)
        ]
        width, height = SIZES[g % len(SIZES)]
        style = args.style or (STYLES[(g // len(SIZES)) % len(STYLES)] if g >= len(SIZES) else "zoom")
        image, truth = render_gallery(people, width=width, height=height, speaker=rng.randrange(n), style=style)
        result = CapturePipeline(detector, classifier, reader, IdentityTracker()).process(image, None)
        tolerance = max(6, 0.06 * truth[0].box[2])
        matched = [
            next((r for r in result.tiles if np.allclose(r.box[:2], t.box[:2], atol=tolerance)), None) for t in truth
        ]
        phantoms = len(result.tiles) - sum(m is not None for m in matched)
        totals["phantoms"][0] += phantoms
        row = by_style.setdefault(style, [0, 0, 0])
        row[0], row[1], row[2] = row[0] + sum(m is not None for m in matched), row[1] + len(truth), row[2] + phantoms
        for tile, match in zip(truth, matched):
            totals["tiles"][0] += match is not None
            totals["tiles"][1] += 1
            if match is None:
                continue
            totals["names"][0] += normalize_name(match.label) == normalize_name(tile.name)
            totals["names"][1] += 1
            if tile.camera_on:
                totals["faces"][0] += match.state == "face"
                totals["faces"][1] += 1
            else:
                totals["camera_off"][0] += match.state == "camera_off"
                totals["camera_off"][1] += 1
    styles = f"{len(STYLES)} app styles"
    table = Table(title=f"Agent pipeline on {args.galleries} generated galleries (2-75 tiles, 4 sizes, {styles})")
    for column in ("what", "correct", "of", "accuracy"):
        table.add_column(column, justify="right")
    for what, (ok, of) in totals.items():
        table.add_row(what, str(ok), str(of) if of else "", f"{ok / of:.1%}" if of else "")
    for style, (found, of, phantoms) in by_style.items():
        table.add_row(f"tiles, {style}", str(found), str(of), f"{found / of:.1%}; {phantoms} phantoms")
    Console(width=120).print(table)


if __name__ == "__main__":
    main()
