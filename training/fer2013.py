"""Read the FER2013 CSV (plain or gzipped) into numpy arrays, with a clear error on bad rows."""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.labels import EMOTIONS

USAGES = ("Training", "PublicTest", "PrivateTest")
SIDE = 48


class DataError(ValueError):
    """The data file is missing or malformed; the message says where."""


@dataclass(frozen=True)
class Fer2013:
    images: np.ndarray  # (n, 48, 48) uint8
    labels: np.ndarray  # (n,) int64, index into EMOTIONS
    usage: np.ndarray  # (n,) str, one of USAGES

    def split(self, usage: str) -> tuple[np.ndarray, np.ndarray]:
        if usage not in USAGES:
            raise DataError(f"unknown split {usage!r}; choose one of {', '.join(USAGES)}")
        mask = self.usage == usage
        return self.images[mask], self.labels[mask]


def _open_text(path: Path) -> io.TextIOBase:
    if not path.exists():
        raise DataError(f"{path}: no such file")
    with open(path, "rb") as f:
        magic = f.read(2)
    if magic == b"\x1f\x8b":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", newline="")
    return open(path, encoding="utf-8", newline="")


def parse_csv(path: str | os.PathLike, limit_per_usage: int | None = None) -> Fer2013:
    """Parse `emotion,pixels,Usage` rows; stop with the line number at the first bad row."""
    path = Path(path)
    images, labels, usages = [], [], []
    taken = {u: 0 for u in USAGES}
    try:
        with _open_text(path) as f:
            reader = csv.reader(f)
            header = next(reader, None)
            if header is None or [h.strip() for h in header[:3]] != ["emotion", "pixels", "Usage"]:
                raise DataError(f"{path}: not a FER2013 CSV (expected header emotion,pixels,Usage)")
            for line, row in enumerate(reader, start=2):
                if len(row) != 3:
                    raise DataError(f"{path}:{line}: expected 3 fields, got {len(row)}")
                label_text, pixels, usage = row
                if usage not in USAGES:
                    raise DataError(f"{path}:{line}: unknown Usage {usage!r}")
                if limit_per_usage is not None and taken[usage] >= limit_per_usage:
                    continue
                try:
                    label = int(label_text)
                    pix = np.array(pixels.split(), dtype=np.int64)
                except ValueError:
                    raise DataError(f"{path}:{line}: non-numeric label or pixel") from None
                if not 0 <= label < len(EMOTIONS):
                    raise DataError(f"{path}:{line}: label {label} outside 0..6")
                if pix.size != SIDE * SIDE or pix.min() < 0 or pix.max() > 255:
                    raise DataError(f"{path}:{line}: expected {SIDE * SIDE} pixels in 0..255")
                images.append(pix.astype(np.uint8).reshape(SIDE, SIDE))
                labels.append(label)
                usages.append(usage)
                taken[usage] += 1
    except (OSError, EOFError, gzip.BadGzipFile, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: cannot read ({exc})") from None
    if not images:
        raise DataError(f"{path}: no data rows")
    return Fer2013(np.stack(images), np.array(labels, dtype=np.int64), np.array(usages))


def load(path: str | os.PathLike, cache_dir: str | os.PathLike | None = None) -> Fer2013:
    """Parse once, then reuse a .npz cache keyed by the file's size and mtime (parsing takes ~30 s)."""
    path = Path(path)
    if cache_dir is None:
        return parse_csv(path)
    if not path.exists():
        raise DataError(f"{path}: no such file")
    stat = path.stat()
    key = hashlib.sha1(f"{path.resolve()}:{stat.st_size}:{stat.st_mtime_ns}".encode()).hexdigest()[:16]
    cache = Path(cache_dir) / f"fer2013-{key}.npz"
    if cache.exists():
        with np.load(cache) as z:
            return Fer2013(z["images"], z["labels"], z["usage"])
    data = parse_csv(path)
    cache.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache.with_suffix(".tmp.npz")
    np.savez(tmp, images=data.images, labels=data.labels, usage=data.usage)
    tmp.replace(cache)
    return data
