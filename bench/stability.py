"""Benchmark: does a frozen picture read steady? Real screenshots captured N times.

    python -m bench.stability [--folder DIR] [--captures 12] [--model FILE] [--meeting-expert FILE]

Each real screenshot of DIR (default $CLASSMOOD_SHARED/data/real_galleries) goes through one
agent pipeline N times, as `classmood agent` would capture a meeting whose picture does not
move. Two ways: the identical frame every time, and the frame re-coded each time as JPEG at a
random quality of 70-90 (a still student seen through a video codec: the pixels change a
little, the face does not). Per face (a participant read in every capture) it counts changes
of the top emotion between captures and the largest spread (max - min over the captures) of
any emotion's probability, and the number of distinct face boxes. Targets: no top-emotion
change, spread <= 0.03.
"""

from __future__ import annotations

import argparse
import os
from collections import defaultdict
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.progress import track  # noqa: E402
from rich.table import Table  # noqa: E402

from bench.environment import shared_folder  # noqa: E402

TARGET_SPREAD = 0.03


def recoded(frame: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    import cv2

    ok, data = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(70, 91))])
    return cv2.imdecode(data, cv2.IMREAD_COLOR)


def readings(pipeline, frames) -> dict[str, list]:
    """participant key -> [(probabilities, face box)] over the captures (faces read only)."""
    seen: dict[str, list] = defaultdict(list)
    for frame in frames:
        for tile in pipeline.process(frame, None).tiles:
            if tile.probabilities is not None:
                seen[tile.key].append((np.array(tile.probabilities), tile.face_box))
    return seen


def steadiness(seen: dict[str, list], captures: int) -> dict:
    """Per-face figures of one screenshot, over the participants read in every capture."""
    changes, spreads, boxes = [], [], []
    for reads in seen.values():
        if len(reads) < captures:
            continue
        probs = np.stack([p for p, _ in reads])
        tops = probs.argmax(axis=1)
        changes.append(int((tops[1:] != tops[:-1]).sum()))
        spreads.append(float((probs.max(axis=0) - probs.min(axis=0)).max()))
        boxes.append(len({b for _, b in reads}))
    return {"faces": len(changes), "changes": changes, "spreads": spreads, "boxes": boxes}


def main() -> None:
    from bench.real_galleries import load_truth, make_pipeline
    from core.analyze import read_image

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folder", type=Path, default=shared_folder() / "data/real_galleries")
    parser.add_argument("--captures", type=int, default=12)
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--meeting-expert", type=Path, default=None, help="Pair the model with this meeting expert.")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    os.environ.setdefault("CLASSMOOD_YUNET", str(shared_folder() / "models/face_detection_yunet_2026may.onnx"))

    table = Table(
        title=f"A frozen picture captured {args.captures} times: per face (target: 0 changes, spread <= 0.03)"
    )
    for column in (
        "screenshot",
        "frames",
        "faces",
        "faces with a change",
        "top changes",
        "spread max",
        "spread median",
        "boxes max",
    ):
        table.add_column(column, justify="right" if column != "screenshot" else "left")
    totals: dict[str, dict] = {"identical": defaultdict(list), "JPEG q70-90": defaultdict(list)}
    for truth in track(load_truth(args.folder), description="screenshots"):
        image = read_image(args.folder / truth["file"])
        rng = np.random.default_rng(args.seed)
        for kind in totals:
            frames = [image if kind == "identical" else recoded(image, rng) for _ in range(args.captures)]
            pipeline = make_pipeline(args.model, meeting_expert=args.meeting_expert)
            result = steadiness(readings(pipeline, frames), args.captures)
            if not result["faces"]:
                continue
            for key in ("changes", "spreads", "boxes"):
                totals[kind][key].extend(result[key])
            table.add_row(truth["file"], kind, *cells(result["changes"], result["spreads"], result["boxes"]))
    for kind, total in totals.items():
        if total["changes"]:
            table.add_row("[b]all[/b]", kind, *cells(total["changes"], total["spreads"], total["boxes"]))
    Console(width=160).print(table)


def cells(changes: list[int], spreads: list[float], boxes: list[int]) -> list[str]:
    return [
        str(len(changes)),
        str(sum(c > 0 for c in changes)),
        str(sum(changes)),
        f"{max(spreads):.3f}",
        f"{float(np.median(spreads)):.3f}",
        str(max(boxes)),
    ]


if __name__ == "__main__":
    main()
