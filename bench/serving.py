"""Benchmark: serving the emotion CNN through TensorFlow or onnxruntime, side by side.

    python -m bench.serving [--model FILE] [--repeats 200]

Each backend runs in a fresh Python process (as the agent starts): time from start to the
first 25-crop answer, peak resident memory, median 25-crop latency; and the largest
difference between the two backends' probabilities on the same crops.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, resource, statistics, sys, time
start = time.perf_counter()
import numpy as np
backend, model, repeats, out = sys.argv[1], sys.argv[2] or None, int(sys.argv[3]), sys.argv[4]
crops = np.random.default_rng(0).integers(0, 256, (25, 48, 48)).astype(np.uint8)
if backend == "tensorflow":
    from core.quiet import import_keras_quietly
    import_keras_quietly()
    from core.emotions import EmotionClassifier
    classify = EmotionClassifier(model, backend="tensorflow")
else:
    from core.emotions import EmotionClassifier
    classify = EmotionClassifier(model, backend="onnxruntime")
first = classify.probabilities(crops, raw=True)
ready = time.perf_counter() - start
times = []
for _ in range(repeats):
    t = time.perf_counter()
    classify.probabilities(crops, raw=True)
    times.append(time.perf_counter() - t)
np.save(out, first)
print(json.dumps({"ready_s": ready, "median_ms": statistics.median(times) * 1000,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def run(backend: str, model: str, repeats: int, out: Path) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, backend, model, str(repeats), str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    import tempfile

    import numpy as np

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="")
    parser.add_argument("--repeats", type=int, default=200)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="classmood-serving-"))
    results = {b: run(b, args.model, args.repeats, folder / f"{b}.npy") for b in ("tensorflow", "onnxruntime")}
    difference = float(np.abs(np.load(folder / "tensorflow.npy") - np.load(folder / "onnxruntime.npy")).max())
    table = Table(title="Emotion CNN serving, fresh process each, 25 crops, 2 CPU cores")
    for column in ("backend", "start to first answer s", "peak memory MB", "25 crops ms (median)"):
        table.add_column(column, justify="right")
    for backend, r in results.items():
        table.add_row(backend, f"{r['ready_s']:.2f}", f"{r['peak_mb']:.0f}", f"{r['median_ms']:.1f}")
    console = Console(width=120)
    console.print(table)
    console.print(f"largest probability difference between the backends: {difference:.1e} (target <= 1e-5)")


if __name__ == "__main__":
    main()
