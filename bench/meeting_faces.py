"""Benchmark: what the agent says about real meeting faces, scored as the real_galleries README says.

    python -m bench.meeting_faces [--folder DIR] [--model FILE ...] [--meeting-expert FILE]

Each screenshot in DIR (default $CLASSMOOD_SHARED/data/real_galleries) goes through the agent's
pipeline as one capture (what `classmood agent --images` does); the observation of each
labelled face's tile (`meeting_faces.csv`: N calm, H smiling, S surprise, X not scored) gives
its top emotion and its uncertain mark. Counted: calm faces read angry, disgust, fear or sad
(a false alarm a teacher would see), smiles read happy, readings marked uncertain, and apart,
faces not read at all. Each model is scored as the product reads a lecture and, beside it, as
the network reads FER2013 (no lecture balance). These 48 faces are a check, not a target: the
held-back real faces are harder.
"""

from __future__ import annotations

import argparse
import csv
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from bench.environment import shared_folder  # noqa: E402
from core.emotions import Emotion  # noqa: E402
from core.labels import NEGATIVE  # noqa: E402

CALM, SMILING = "N", "H"  # meeting_faces.csv's labels; S (surprise) is scored, X is not
SCORED = (CALM, SMILING, "S")


def read_faces(
    folder: Path, model: Path | None, balance: str, meeting_expert: Path | None = None
) -> list[tuple[str, str | None, bool | None]]:
    """(label, top emotion or None when not read, uncertain) per scored face of meeting_faces.csv."""
    from agent.identity import IdentityTracker
    from agent.names import NameReader
    from agent.pipeline import CapturePipeline
    from bench.real_galleries import load_truth, match_tiles
    from core.analyze import read_image
    from core.emotions import EmotionClassifier
    from core.faces import default_detector

    truths = {t["file"]: t for t in load_truth(folder)}
    with open(folder / "meeting_faces.csv", encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if r["label"] in SCORED]
    classifier = EmotionClassifier(model, balance=balance, meeting_expert=meeting_expert)
    faces = []
    for file in sorted({r["file"] for r in rows}):
        pipeline = CapturePipeline(default_detector(), classifier, NameReader(), IdentityTracker())
        matched, _ = match_tiles(pipeline.process(read_image(folder / file), None).tiles, truths[file]["tiles"])
        for row in (r for r in rows if r["file"] == file):
            tile = matched.get(int(row["tile"]))
            if tile is None or tile.probabilities is None:
                faces.append((row["label"], None, None))
            else:
                faces.append((row["label"], Emotion(tile.probabilities).top, bool(tile.uncertain)))
    return faces


def score(faces: list[tuple[str, str | None, bool | None]]) -> dict[str, tuple[int, int]]:
    """(count, of) for each figure the README scores."""
    read = [f for f in faces if f[1] is not None]
    calm = [top for label, top, _ in read if label == CALM]
    smiles = [top for label, top, _ in read if label == SMILING]
    return {
        "calm read negative": (sum(top in NEGATIVE for top in calm), len(calm)),
        "smiles read happy": (sum(top == "happy" for top in smiles), len(smiles)),
        "readings uncertain": (sum(bool(u) for _, _, u in read), len(read)),
        "faces not read": (len(faces) - len(read), len(faces)),
    }


def main() -> None:
    shared = shared_folder()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folder", type=Path, default=shared / "data/real_galleries")
    parser.add_argument("--model", type=Path, action="append", default=[], help="Also score this model file.")
    parser.add_argument("--meeting-expert", type=Path, default=None, help="Also score each model paired with it.")
    args = parser.parse_args()
    os.environ.setdefault("CLASSMOOD_YUNET", str(shared / "models/face_detection_yunet_2026may.onnx"))

    columns = []
    files = [("shipped", None)] + [(model.stem, model) for model in args.model]
    runs = [(name, model, None) for name, model in files]
    if args.meeting_expert:
        runs += [(f"{name} + {args.meeting_expert.stem}", model, args.meeting_expert) for name, model in files]
    for name, model, expert in runs:
        for balance in ("lecture", "fer2013"):
            columns.append((f"{name} ({balance})", score(read_faces(args.folder, model, balance, expert))))
    table = Table(title=f"Real meeting faces ({args.folder.name}/meeting_faces.csv) through the agent")
    table.add_column("figure (target on held-back faces)")
    for name, _ in columns:
        table.add_column(name, justify="right")
    targets = {"calm read negative": "<= 10 %", "smiles read happy": ">= 90 %", "readings uncertain": "<= 25 %"}
    for figure in columns[0][1]:
        label = f"{figure} ({targets[figure]})" if figure in targets else figure
        table.add_row(label, *[f"{a}/{b} ({a / b:.0%})" if b else "-" for a, b in (s[figure] for _, s in columns)])
    Console(width=160).print(table)


if __name__ == "__main__":
    main()
