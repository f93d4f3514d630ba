"""Benchmark: the issue's meeting-face figures on 2,000 FER2013 faces labelled by a crowd.

    python -m bench.crowd_faces [--model FILE ...] [--meeting-expert FILE] [--split PublicTest|PrivateTest]

`meeting_faces.csv` scores 48 real meeting faces as calm or smiling; that is too few to choose
anything by. FER+ (Barsoum et al., 2016) had ten people label every FER2013 face: a face most
of them call neutral is a calm face, one most call happy a smile. FER2013's own labels call
many calm faces sad, afraid or angry, so they cannot say how often calm is read upset. Each
face is read as the product reads a lecture (calibrated, lecture balance, a guess marked),
clean and as a meeting shows it (training.degrade.meeting_view, seeded). Columns: calm faces
read angry/disgust/fear/sad, smiles read happy, readings marked uncertain (all crowd-labelled
faces), and agreement with the crowd's majority: of all readings, of those marked uncertain,
of the rest. These are still FER2013 photos, not meeting
tiles: a check beside the real faces, not a stand-in for them. PublicTest (the default) is
the split to choose by; PrivateTest is only reported.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from bench.environment import shared_folder  # noqa: E402

AGREEMENT = ("crowd agreement", "of guesses", "of the rest")


def crowd_figures(probabilities: np.ndarray, guesses: np.ndarray, crowd: np.ndarray) -> dict[str, float]:
    """The issue's three meeting-face figures, scored as bench.meeting_faces scores the real
    faces (the crowd's neutral faces as calm, its happy ones as smiles), and agreement with the
    crowd (of all readings, of those marked uncertain, of the rest), as fractions: a guess mark
    is worth showing when the readings it marks are right far less often than the others."""
    from bench.meeting_faces import CALM, SMILING, score
    from core.labels import EMOTIONS

    labelled = crowd >= 0
    top = probabilities.argmax(axis=1)
    code = {EMOTIONS.index("neutral"): CALM, EMOTIONS.index("happy"): SMILING}
    faces = [
        (code.get(int(c), EMOTIONS[c]), EMOTIONS[t], bool(g))
        for c, t, g in zip(crowd[labelled], top[labelled], guesses[labelled])
    ]
    figures = {n: c / of if of else float("nan") for n, (c, of) in score(faces).items() if n != "faces not read"}
    right = top == crowd
    agreement = (right[labelled], right[labelled & guesses], right[labelled & ~guesses])
    return figures | {name: float(r.mean()) if r.size else float("nan") for name, r in zip(AGREEMENT, agreement)}


def main() -> None:
    from core.emotions import EmotionClassifier
    from core.labels import EMOTIONS
    from training import fer2013, ferplus
    from training.config import default_cache_dir
    from training.degrade import meeting_view

    shared = shared_folder()
    folder = shared / "data/fer2013"
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=folder / "fer2013.csv.gz")
    parser.add_argument("--votes", type=Path, default=folder / ferplus.FILE_NAME)
    parser.add_argument("--model", type=Path, action="append", default=[], help="Also score this model file.")
    parser.add_argument("--meeting-expert", type=Path, default=None, help="Pair each --model with this expert.")
    parser.add_argument("--split", choices=["PublicTest", "PrivateTest"], default="PublicTest")
    args = parser.parse_args()

    images, _ = fer2013.load(args.data, default_cache_dir()).split(args.split)
    crowd = ferplus.majority(ferplus.load_votes(args.votes, args.split))
    models = [("shipped", EmotionClassifier())]
    models += [(path.stem, EmotionClassifier(path, meeting_expert=args.meeting_expert)) for path in args.model]
    views = {"clean": images, "as a meeting shows it": meeting_view(images)}

    calm, smiles = (int((crowd == EMOTIONS.index(e)).sum()) for e in ("neutral", "happy"))
    table = Table(title=f"FER2013 {args.split} by the crowd's majority ({calm} calm, {smiles} smiles)")
    for column in ("model", "faces", "calm read negative", "smiles read happy", "readings uncertain", *AGREEMENT):
        table.add_column(column, justify="left" if column in ("model", "faces") else "right")
    for name, classifier in models:
        for view, faces in views.items():
            read = [classifier.readings(faces[i : i + 500]) for i in range(0, len(faces), 500)]
            probabilities, guesses = (np.concatenate(parts) for parts in zip(*read))
            figures = crowd_figures(probabilities, guesses, crowd)
            table.add_row(name, view, *(f"{value:.1%}" for value in figures.values()))
    Console(width=160).print(table)


if __name__ == "__main__":
    main()
