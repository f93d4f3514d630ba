"""`classmood eda`: what is in a FER2013 CSV before we train on it.

Writes class_counts.png, samples.png, duplicates.png and summary.md (+ summary.json) to OUT.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from pathlib import Path

import numpy as np

from core.labels import EMOTIONS
from training.fer2013 import USAGES, Fer2013


def class_counts(data: Fer2013) -> dict[str, dict[str, int]]:
    return {
        usage: {name: int(((data.usage == usage) & (data.labels == i)).sum()) for i, name in enumerate(EMOTIONS)}
        for usage in USAGES
    }


def blank_rows(data: Fer2013) -> list[int]:
    """Rows whose image is a single flat colour (FER2013 has all-black ones)."""
    flat = data.images.reshape(len(data.images), -1)
    return [int(i) for i in np.flatnonzero(flat.min(axis=1) == flat.max(axis=1))]


def duplicate_groups(data: Fer2013) -> list[list[int]]:
    """Groups of rows (0-based data rows) holding byte-identical images."""
    groups: dict[str, list[int]] = defaultdict(list)
    for i, img in enumerate(data.images):
        groups[hashlib.blake2b(img.tobytes(), digest_size=12).hexdigest()].append(i)
    return [rows for rows in groups.values() if len(rows) > 1]


def duplicate_stats(data: Fer2013, groups: list[list[int]]) -> dict:
    conflicting = [g for g in groups if len(set(data.labels[g].tolist())) > 1]
    cross = defaultdict(int)
    for g in groups:
        usages = data.usage[g]
        first = {u: min(i for i, uu in zip(g, usages) if uu == u) for u in set(usages)}
        for i, u in zip(g, usages):
            earlier = [v for v, row in first.items() if v != u and row < i]
            if earlier:
                cross[f"{u} repeats {sorted(earlier)[0]}"] += 1
    return {
        "groups": len(groups),
        "rows_in_groups": sum(len(g) for g in groups),
        "extra_copies": sum(len(g) - 1 for g in groups),
        "groups_with_conflicting_labels": len(conflicting),
        "rows_with_conflicting_labels": sum(len(g) for g in conflicting),
        "cross_split": dict(cross),
    }


def run_eda(data: Fer2013, out: Path, samples_per_class: int = 8, seed: int = 0) -> dict:
    from training.plots import plot_class_counts, plot_duplicates, plot_samples

    out.mkdir(parents=True, exist_ok=True)
    counts = class_counts(data)
    blanks = blank_rows(data)
    groups = duplicate_groups(data)
    dupes = duplicate_stats(data, groups)
    plot_class_counts(counts, out / "class_counts.png")
    plot_samples(data, out / "samples.png", samples_per_class, np.random.default_rng(seed))
    plot_duplicates(data, groups, out / "duplicates.png")
    summary = {
        "rows": int(len(data.images)),
        "per_usage": {u: int((data.usage == u).sum()) for u in USAGES},
        "class_counts": counts,
        "blank_rows": blanks,
        "duplicates": dupes,
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    (out / "summary.md").write_text(render_markdown(summary))
    return summary


def render_markdown(summary: dict) -> str:
    lines = ["# FER2013: exploratory summary", "", f"{summary['rows']:,} rows.", ""]
    lines += ["| usage | rows | " + " | ".join(EMOTIONS) + " |", "|---" * (len(EMOTIONS) + 2) + "|"]
    for usage, counts in summary["class_counts"].items():
        row = " | ".join(f"{counts[e]:,}" for e in EMOTIONS)
        lines.append(f"| {usage} | {summary['per_usage'][usage]:,} | {row} |")
    d = summary["duplicates"]
    lines += [
        "",
        "![class counts](class_counts.png)",
        "",
        "## Data problems",
        f"- Blank (single-colour) images: {len(summary['blank_rows'])} at data rows {summary['blank_rows'][:20]}"
        " (the trainer drops them from Training).",
        f"- Identical images: {d['groups']:,} groups covering {d['rows_in_groups']:,} rows"
        f" ({d['extra_copies']:,} extra copies); {d['groups_with_conflicting_labels']} groups"
        f" ({d['rows_with_conflicting_labels']} rows) carry conflicting labels.",
    ]
    for what, n in sorted(d["cross_split"].items()):
        lines.append(f"- {n} rows: {what} exactly (evaluation reports accuracy with and without them).")
    lines += ["", "![samples per class](samples.png)", "", "![duplicates](duplicates.png)", ""]
    return "\n".join(lines)
