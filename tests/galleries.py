"""Generated galleries with known truth, from real wild_faces photos (test helper)."""

from __future__ import annotations

import csv
import random
from pathlib import Path

import cv2

from bench.gallery import Person, render_gallery

NAMES = [
    "Ana Silva",
    "Ben Okoro",
    "Chen Wei",
    "Dana Cohen",
    "Eli Park",
    "Fatima Zahra",
    "Gus Lund",
    "Hana Sato",
    "Ivan Petrov",
    "Jo Kim",
    "Kai Berg",
    "Lea Roux",
    "Mo Ali",
    "Nina Ivanova",
    "Omar Haddad",
    "Pia Schulz",
    "Quinn Lee",
    "Rosa Diaz",
    "Sam Taylor",
    "Tara Singh",
    "Uma Rao",
    "Vic Hale",
    "Wen Zhou",
    "Xavi Puig",
    "Yara Nasser",
]


def people(labels_csv: Path, n: int, camera_off: set[int] = frozenset(), offset: int = 0) -> list[Person]:
    with open(labels_csv) as f:
        rows = list(csv.DictReader(f))
    step = max(1, len(rows) // 60)
    return [
        Person(
            NAMES[i] if i < len(NAMES) else f"Guest {i + 1}",
            None
            if i in camera_off
            else cv2.imread(str(labels_csv.parent / rows[((i + offset) * step) % len(rows)]["path"])),
        )
        for i in range(n)
    ]


def write_frames(folder: Path, crowd: list[Person], layouts: list[dict], shuffle_at: set[int] = frozenset()):
    """One PNG per layout (width/height/speaker); returns the truth tiles per frame."""
    folder.mkdir(parents=True, exist_ok=True)
    truth = []
    for k, layout in enumerate(layouts):
        order = list(crowd)
        if k in shuffle_at:
            random.Random(k).shuffle(order)
        image, tiles = render_gallery(order, **layout)
        cv2.imwrite(str(folder / f"frame{k:03d}.png"), image)
        truth.append(tiles)
    return truth
