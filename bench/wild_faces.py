"""Benchmark: the whole face path (detect, crop, classify) on real photos that are not FER2013.

    python -m bench.wild_faces [--model FILE] [--meeting-expert FILE] [--limit N] [--balance lecture|fer2013]

wild_faces labels are noisy student labels and fear is nearly absent: read the figures as
how the model transfers to other photos, not as a benchmark of record. `--balance lecture`
reads them as the agent reads a lecture (most faces calm: core.calibration.lecture_prior),
`fer2013` (the default) as the network learned them; the last row is the share of neutral
photos read angry, disgust, fear or sad (a false alarm for a teacher).
"""

from __future__ import annotations

import argparse
import csv
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from bench.environment import shared_folder  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    from core.analyze import face_crops, find_faces, read_image
    from core.emotions import EmotionClassifier
    from core.faces import YuNetDetector
    from core.labels import EMOTIONS, NEGATIVE
    from training.evaluate import confusion_matrix, summarize

    shared = shared_folder()
    os.environ.setdefault("CLASSMOOD_YUNET", str(shared / "models/face_detection_yunet_2026may.onnx"))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--meeting-expert", type=Path, default=None, help="Pair the model with this meeting expert.")
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--balance", choices=["lecture", "fer2013"], default="fer2013")
    args = parser.parse_args()
    labels = shared / "data/wild_faces/labels.csv"
    with open(labels) as f:
        rows = list(csv.DictReader(f))[: args.limit]
    detector = YuNetDetector()
    classifier = EmotionClassifier(args.model, balance=args.balance, meeting_expert=args.meeting_expert)
    truth, predicted, missed = [], [], 0
    for row in rows:
        image = read_image(labels.parent / row["path"])
        faces = find_faces(image, detector, min_size=12)
        if not faces:
            missed += 1
            continue
        crop = face_crops(image, faces[:1], classifier.input_size, detector.crop_margin)
        truth.append(EMOTIONS.index(row["emotion"]))
        predicted.append(int(classifier.probabilities(crop)[0].argmax()))
    result = summarize(confusion_matrix(np.array(truth), np.array(predicted)))
    paired = f", with {args.meeting_expert.name}" if args.meeting_expert else ""
    found = f"{len(rows)} photos, face found in {len(truth)} ({missed} missed)"
    title = f"wild_faces ({args.balance} balance{paired}): {found}"
    table = Table(title=title)
    for column in ("emotion", "photos", "recall"):
        table.add_column(column, justify="right")
    for name in EMOTIONS:
        recall = result["per_class"][name]
        table.add_row(name, str(result["support"][name]), "-" if recall is None else f"{recall:.1%}")
    table.add_row("all", str(result["n"]), f"{result['accuracy']:.1%}")
    neutral = np.array(truth) == EMOTIONS.index("neutral")
    negative = np.isin(predicted, [EMOTIONS.index(e) for e in NEGATIVE])
    table.add_row("neutral read negative", str(int(neutral.sum())), f"{negative[neutral].mean():.1%}")
    Console(width=120).print(table)


if __name__ == "__main__":
    main()
