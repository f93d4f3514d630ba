"""FER+ crowd votes (Barsoum et al., ICMI 2016) as soft training targets for FER2013's Training rows.

Ten annotators relabelled every FER2013 image. Their votes say which faces are ambiguous
(a "fear" that half the crowd reads as "surprise"), which a one-hot label cannot. Blended with
the original label, with the original always keeping the majority of the weight, they act as
an informed label smoothing: the model is still taught FER2013's labels, which it is scored on.
Only Training rows are read; the test splits keep their original labels.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

import numpy as np

from core.labels import EMOTIONS
from training.fer2013 import USAGES, DataError

#: FER+ column -> our label. FER+'s "contempt", "unknown" and "NF" (not a face) have no
#: FER2013 counterpart and are left out of the distribution.
COLUMNS = {
    "anger": "angry",
    "disgust": "disgust",
    "fear": "fear",
    "happiness": "happy",
    "sadness": "sad",
    "surprise": "surprise",
    "neutral": "neutral",
}


def load_votes(path: str | os.PathLike, usage: str = "Training", limit: int | None = None) -> np.ndarray:
    """(n, 7) vote counts in EMOTIONS order for the rows of one usage, in file order
    (fer2013new.csv lists the same rows as fer2013.csv, in the same order)."""
    path = Path(path)
    if usage not in USAGES:
        raise DataError(f"unknown split {usage!r}")
    if not path.exists():
        raise DataError(f"{path}: no such file")
    rows = []
    with open(path, encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        missing = {"Usage", *COLUMNS} - set(reader.fieldnames or ())
        if missing:
            raise DataError(f"{path}: not a FER+ vote file (missing columns {', '.join(sorted(missing))})")
        for line, row in enumerate(reader, start=2):
            if row["Usage"] != usage:
                continue
            try:
                votes = {COLUMNS[c]: float(row[c]) for c in COLUMNS}
            except (TypeError, ValueError):
                raise DataError(f"{path}:{line}: non-numeric vote") from None
            rows.append([votes[e] for e in EMOTIONS])
            if limit is not None and len(rows) >= limit:
                break
    if not rows:
        raise DataError(f"{path}: no {usage} rows")
    return np.array(rows, dtype=np.float32)


def blend(labels: np.ndarray, votes: np.ndarray, weight: float) -> np.ndarray:
    """(1 - weight) * one-hot(label) + weight * vote share; rows without votes stay one-hot.

    `weight` below 0.5 keeps every target's argmax on the original label.
    """
    if len(labels) != len(votes):
        raise DataError(f"{len(labels)} labels but {len(votes)} FER+ vote rows: the files do not match")
    onehot = np.eye(len(EMOTIONS), dtype=np.float32)[labels]
    share = np.where(votes.sum(axis=1, keepdims=True) > 0, vote_shares(votes), onehot)
    return ((1 - weight) * onehot + weight * share).astype(np.float32)


#: a face has a crowd label when at least half its annotators agree on one emotion
CLEAR_MAJORITY = 0.5
FILE_NAME = "fer2013new.csv"


def vote_shares(votes: np.ndarray) -> np.ndarray:
    """Each face's votes as shares of its total (all zero for a face nobody voted on)."""
    return votes / np.maximum(votes.sum(axis=1, keepdims=True), 1)


def majority(votes: np.ndarray) -> np.ndarray:
    """Each face's majority emotion (index into EMOTIONS), or -1 where none has half the votes."""
    share = vote_shares(votes)
    return np.where(share.max(axis=1) >= CLEAR_MAJORITY, share.argmax(axis=1), -1)


def beside(data_path: str | os.PathLike) -> Path | None:
    """The FER+ vote file next to the FER2013 CSV, where it is (as recipes name it: fer2013new.csv)."""
    path = Path(data_path).parent / FILE_NAME
    return path if path.is_file() else None
