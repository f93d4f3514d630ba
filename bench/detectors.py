"""Benchmark: which face detector, measured on real photos and on 1080p gallery screenshots.

    python -m bench.detectors [--photos 200]

For each detector: the share of wild_faces photos with a face found, median ms per photo,
and on synthetic 1920x1080 galleries of 25 and 49 tiles (faces of ~90 and ~60 px tall),
the share of tiles whose face is found and the median ms per whole screenshot.
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from bench.environment import shared_folder  # noqa: E402
from bench.gallery import Person, render_gallery  # noqa: E402
from core.analyze import read_image  # noqa: E402
from core.faces import MtcnnDetector, YuNetDetector  # noqa: E402


def inside(face_box, tile_box) -> bool:
    fx, fy, fw, fh = face_box
    cx, cy = fx + fw / 2, fy + fh / 2
    x, y, w, h = tile_box
    return x <= cx < x + w and y <= cy < y + h


def main() -> None:
    shared = shared_folder()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=200)
    args = parser.parse_args()
    os.environ.setdefault("CLASSMOOD_YUNET", str(shared / "models/face_detection_yunet_2026may.onnx"))
    labels = shared / "data/wild_faces/labels_min48px.csv"
    with open(labels) as f:
        paths = [labels.parent / row["path"] for row in csv.DictReader(f)]
    paths = paths[:: max(1, len(paths) // args.photos)][: args.photos]
    photos = [read_image(p) for p in paths]
    galleries = {n: render_gallery([Person(f"P{i}", p) for i, p in enumerate(photos[:n])]) for n in (25, 49)}

    table = Table(title=f"Face detectors on {len(photos)} wild_faces photos and 1920x1080 galleries")
    for column in ("detector", "photos found", "ms/photo", "25-tile found", "49-tile found", "ms/1080p"):
        table.add_column(column, justify="right")
    for detector in (YuNetDetector(), MtcnnDetector()):
        found, times = 0, []
        for photo in photos:
            start = time.perf_counter()
            found += bool(detector.detect(photo))
            times.append(time.perf_counter() - start)
        row = [detector.name, f"{found / len(photos):.1%}", f"{statistics.median(times) * 1000:.1f}"]
        screen_ms = []
        for canvas, tiles in galleries.values():
            start = time.perf_counter()
            faces = detector.detect(canvas)
            screen_ms.append((time.perf_counter() - start) * 1000)
            hit = sum(any(inside(f.box, t.box) for f in faces) for t in tiles)
            row.append(f"{hit}/{len(tiles)}")
        row.append(" / ".join(f"{ms:.0f}" for ms in screen_ms))
        table.add_row(*row)
    Console(width=120).print(table)


if __name__ == "__main__":
    main()
