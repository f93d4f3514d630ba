"""Benchmark: does a reading hold through a video codec? FER2013 faces re-coded as JPEG.

    python -m bench.codec_noise [--data FER2013_CSV] [--split PublicTest] [--model FILE]

A still student on a call reaches us through a video codec: from frame to frame the pixels
change a little and the face does not. Each face of the split is coded as JPEG at quality 70,
80 and 90 and read three times as the product reads a lecture; per face, whether the top
emotion differs between the three readings, and the largest spread (max - min) of any
emotion's probability. `bench.stability` asks the same of 52 real meeting faces; this asks it
of 3,589 faces, where one face whose two top emotions are nearly tied cannot sway the figure.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import cv2  # noqa: E402
import numpy as np  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from bench.environment import shared_folder  # noqa: E402

QUALITIES = (70, 80, 90)


def recoded(faces: np.ndarray, quality: int) -> np.ndarray:
    return np.stack([cv2.imdecode(cv2.imencode(".jpg", f, [cv2.IMWRITE_JPEG_QUALITY, quality])[1], 0) for f in faces])


def codec_noise(classifier, faces: np.ndarray) -> dict[str, float]:
    """Share of faces whose top emotion changes across the qualities; median and 95th
    percentile of each face's largest probability spread."""
    readings = np.stack([classifier.probabilities(recoded(faces, q)) for q in QUALITIES])
    tops = readings.argmax(axis=2)
    spread = (readings.max(axis=0) - readings.min(axis=0)).max(axis=1)
    return {
        "top changes": float((tops != tops[0]).any(axis=0).mean()),
        "spread median": float(np.median(spread)),
        "spread p95": float(np.percentile(spread, 95)),
    }


def main() -> None:
    from core.emotions import EmotionClassifier
    from core.model import SHIPPED_MODEL
    from training import fer2013
    from training.config import default_cache_dir

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=shared_folder() / "data/fer2013/fer2013.csv.gz")
    parser.add_argument("--split", choices=["PublicTest", "PrivateTest"], default="PublicTest")
    parser.add_argument("--model", type=Path, default=None, help="Also score this model file.")
    args = parser.parse_args()

    faces, _ = fer2013.load(args.data, default_cache_dir()).split(args.split)
    table = Table(
        title=f"FER2013 {args.split} ({len(faces):,} faces) coded as JPEG q70, q80 and q90, read as a lecture"
    )
    for column in ("model", "served by", "faces whose top emotion changes", "spread median", "spread p95"):
        table.add_column(column, justify="right")
    for path in [SHIPPED_MODEL] + ([args.model] if args.model else []):
        classifier = EmotionClassifier(path)
        figures = codec_noise(classifier, faces)
        table.add_row(
            path.name if path != SHIPPED_MODEL else "shipped",
            classifier.reading,
            f"{figures['top changes']:.1%}",
            f"{figures['spread median']:.3f}",
            f"{figures['spread p95']:.3f}",
        )
    Console(width=120).print(table)


if __name__ == "__main__":
    main()
