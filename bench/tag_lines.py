"""Benchmark: Hangul tag lines read exactly, our line reader against Tesseract's Hangul model.

    python -m bench.tag_lines [--lines 400] [--model FILE]

Lines drawn as training draws them (training/tag_lines.py), in the trained fonts and in
NanumBarunGothic, a font training never draws in, each read by the shipped line reader and by
Tesseract's Hangul script model as the agent calls it (its syllable joining and bracket
spacing included). A test on drawn tags, not the measure: the real Korean class in
`python -m bench.real_galleries` is that.
"""

from __future__ import annotations

import argparse
import random
import time
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table


def as_the_agent_cuts(line: np.ndarray) -> np.ndarray:
    """The agent scales a tag's strip up (at least twice, to about 90 px) before it cuts the
    line: both readers get the line at that size."""
    import cv2

    scale = max(2.0, 60 / line.shape[0])
    return cv2.resize(line, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)


def main() -> None:
    from agent.names import ScriptReader
    from core.tag_lines import TagLineReader, hangul_syllables
    from training.tag_lines import FONT_FILES, HELD_OUT_FAMILY, draw_line, fonts, sample_text

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=400, help="Lines drawn per font group.")
    parser.add_argument("--model", type=Path, default=None, help="A tag line model (default: the shipped one).")
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()

    ours = TagLineReader(args.model)
    tesseract = ScriptReader(("Hangul",))
    groups = {
        "trained fonts": fonts([f for f in FONT_FILES if f != HELD_OUT_FAMILY]),
        f"{HELD_OUT_FAMILY} (never trained on)": fonts([HELD_OUT_FAMILY]),
    }
    table = Table(title=f"Drawn Hangul tag lines read exactly ({args.lines} a row)")
    for column in ("fonts", "ours", "Tesseract Hangul", "ours ms/line", "Tesseract ms/line"):
        table.add_column(column, justify="right")
    for name, font_list in groups.items():
        rng, np_rng = random.Random(args.seed), np.random.default_rng(args.seed)
        texts, lines = [], []
        while len(texts) < args.lines:
            text = sample_text(rng, hangul_syllables())
            if any("\uac00" <= c <= "\ud7a3" for c in text):  # Hangul tags only
                texts.append(text.strip())
                lines.append(as_the_agent_cuts(draw_line(text, rng.choice(font_list), np_rng)))
        start = time.perf_counter()
        read = [ours.read([line])[0].text for line in lines]
        ours_ms = 1000 * (time.perf_counter() - start) / len(lines)
        start = time.perf_counter()
        theirs = [tesseract.read(line, "Hangul")[0] for line in lines]
        their_ms = 1000 * (time.perf_counter() - start) / len(lines)
        table.add_row(
            name,
            f"{np.mean([r == t for r, t in zip(read, texts)]):.1%}",
            f"{np.mean([r == t for r, t in zip(theirs, texts)]):.1%}",
            f"{ours_ms:.1f}",
            f"{their_ms:.1f}",
        )
    Console(width=140).print(table)


if __name__ == "__main__":
    main()
