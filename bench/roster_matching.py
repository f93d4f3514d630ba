"""Benchmark: matching tag readings to a class list, on generated classes with OCR-like errors.

    python -m bench.roster_matching [--classes 300] [--seed 0]

The real screenshots are too few to set core.roster's thresholds on (the rule would fit them),
so the thresholds are chosen here: generated classes of 25 present students (Latin or Hangul
names drawn from shared first names and surnames, so namesakes and shared surnames occur),
5 listed students who are absent and 3 guests who are not on the list. Each present tag is
read with errors as OCR makes them: letters swapped for look-alikes or random ones, dropped,
spaces added, Zoom's "..." truncation, a level or role tag around the name, and some tags not
read at all. Columns: per error level, tags given the right student, the wrong one (the figure
that must stay near zero), or left unmatched; guests given a listed name.
"""

from __future__ import annotations

import argparse
import unicodedata

import numpy as np
from rich.console import Console
from rich.table import Table

from core.roster import Roster, Student, match_roster

FIRST = tuple(
    [
        "Ana",
        "Anna",
        "Andrea",
        "Carlos",
        "Claudia",
        "Diego",
        "Elena",
        "Emma",
        "Eva",
        "Felipe",
        "Hannah",
        "Ivan",
        "Jana",
        "Jose",
        "Juan",
        "Julia",
        "Laura",
        "Lea",
        "Lucas",
        "Luis",
        "Maria",
        "Marie",
        "Mario",
        "Martin",
        "Mateo",
        "Mia",
        "Nina",
        "Noah",
        "Oliver",
        "Pablo",
        "Paula",
        "Pedro",
        "Sara",
        "Sofia",
        "Tom",
        "Victor",
    ]
)
LAST = tuple(
    [
        "Silva",
        "Santos",
        "Garcia",
        "Gomez",
        "Lopez",
        "Martin",
        "Muller",
        "Schmidt",
        "Rossi",
        "Russo",
        "Novak",
        "Kowalski",
        "Nielsen",
        "Hansen",
        "Smith",
        "Jones",
        "Brown",
        "Wilson",
        "Taylor",
        "Moreno",
        "Romero",
        "Castro",
        "Ortiz",
        "Reyes",
        "Cruz",
        "Fischer",
        "Weber",
        "Meyer",
        "Wagner",
        "Becker",
    ]
)
HANGUL_LAST = "김이박최정강조윤장임한오서신권황안송류홍"
HANGUL_GIVEN = "민서지현수영준호은하경미숙희진우성재연아유정태란"
LOOK_ALIKE = {
    "i": "l1|",
    "l": "i1I",
    "m": "rn",
    "n": "ri",
    "o": "0ce",
    "e": "co",
    "a": "o",
    "c": "e",
    "u": "v",
    "h": "b",
}
DECORATIONS = ("(초급)", "(방청)", " 교수", " (TA)", " - iPhone")


def latin_name(rng) -> str:
    return f"{rng.choice(FIRST)} {rng.choice(LAST)}"


def hangul_name(rng) -> str:
    return rng.choice(list(HANGUL_LAST)) + "".join(rng.choice(list(HANGUL_GIVEN), 2))


def misread_syllable(syllable: str, rng) -> str:
    """A Hangul syllable with one of its letters (jamo) replaced: one stroke or so off."""
    jamo = list(unicodedata.normalize("NFD", syllable))
    k = int(rng.integers(len(jamo)))
    base = {0: 0x1100, 1: 0x1161}.get(k, 0x11A8)
    span = {0: 19, 1: 21}.get(k, 27)
    jamo[k] = chr(base + int(rng.integers(span)))
    return unicodedata.normalize("NFC", "".join(jamo))


def misread(name: str, rate: float, rng) -> str:
    out = []
    for c in name:
        roll = rng.random()
        if roll < rate * 0.6:
            if "\uac00" <= c <= "\ud7a3":
                out.append(misread_syllable(c, rng))
            elif c.lower() in LOOK_ALIKE and rng.random() < 0.7:
                out.append(rng.choice(list(LOOK_ALIKE[c.lower()])))
            elif c.isalpha():
                out.append(chr(ord("a") + int(rng.integers(26))))
            else:
                out.append(c)
        elif roll < rate * 0.8:
            continue  # dropped
        elif roll < rate:
            out.append(c + " ")
        else:
            out.append(c)
    return "".join(out)


def tag_of(name: str, rate: float, rng) -> str | None:
    """What OCR makes of a student's tag."""
    if rng.random() < 0.05:
        return None  # unreadable
    shown = name
    if rng.random() < 0.2:
        decoration = str(rng.choice(DECORATIONS))
        shown = decoration + name if decoration.startswith("(초") else name + decoration
    if rng.random() < 0.2 and len(shown) > 8:
        shown = shown[: int(rng.integers(6, len(shown)))] + "..."
    return misread(shown, rate, rng)


def one_class(rng, hangul: bool, rate: float):
    make = hangul_name if hangul else latin_name
    pool: list[str] = []
    while len(pool) < 33:
        name = make(rng)
        if name not in pool:
            pool.append(name)
    present, absent, guests = pool[:25], pool[25:30], pool[30:]
    listed = present + absent
    order = rng.permutation(len(listed))
    roster = Roster(tuple(Student(listed[i]) for i in order))
    tags = [(tag_of(n, rate, rng), n) for n in present] + [(tag_of(n, rate, rng), None) for n in guests]
    return roster, tags


def score(classes: int, seed: int, hangul: bool, rate: float) -> dict[str, int]:
    rng = np.random.default_rng(seed)
    counts = dict.fromkeys(("right", "wrong", "unmatched", "students", "guest given a name", "guests"), 0)
    for _ in range(classes):
        roster, tags = one_class(rng, hangul, rate)
        matched = match_roster([t for t, _ in tags], roster)
        for (_, truth), index in zip(tags, matched):
            name = None if index is None else roster.students[index].name
            if truth is None:
                counts["guests"] += 1
                counts["guest given a name"] += name is not None
            else:
                counts["students"] += 1
                counts["right" if name == truth else "unmatched" if name is None else "wrong"] += 1
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--classes", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    table = Table(
        title=f"Class-list matching on {args.classes} generated classes per row (25 present, 5 absent, 3 guests)"
    )
    for column in ("names", "error rate", "right", "wrong", "unmatched", "guests given a listed name"):
        table.add_column(column, justify="right")
    for hangul in (False, True):
        for rate in (0.0, 0.1, 0.2, 0.3):
            c = score(args.classes, args.seed, hangul, rate)
            n = c["students"]
            table.add_row(
                "Hangul" if hangul else "Latin",
                f"{rate:.0%}",
                f"{c['right'] / n:.1%}",
                f"{c['wrong'] / n:.2%}",
                f"{c['unmatched'] / n:.1%}",
                f"{c['guest given a name'] / c['guests']:.1%}",
            )
    console = Console(width=140)
    console.print(table)
    console.print(steady_gallery_cost(args.seed))


def steady_gallery_cost(seed: int, repeats: int = 200) -> str:
    """What a list costs each capture of a steady 25-tile gallery: IdentityTracker.assign's
    median time without and with a list of 30, measured side by side."""
    import statistics
    import time

    from agent.identity import IdentityTracker

    rng = np.random.default_rng(seed)
    roster, tags = one_class(rng, False, 0.1)
    looks = [rng.integers(0, 255, (135, 240), dtype=np.uint8) for _ in range(25)]
    tiles = [((250 * (i % 5), 140 * (i // 5), 240, 135), looks[i], tags[i][0]) for i in range(25)]
    trackers = {"without a list": IdentityTracker(), "with a list of 30": IdentityTracker(roster=roster)}
    times: dict[str, list[float]] = {name: [] for name in trackers}
    for tracker in trackers.values():
        tracker.assign((1920, 1080), tiles)
    for _ in range(repeats):
        for name, tracker in trackers.items():
            start = time.perf_counter()
            tracker.assign((1920, 1080), tiles)
            times[name].append((time.perf_counter() - start) * 1000)
    medians = {name: statistics.median(values) for name, values in times.items()}
    parts = ", ".join(f"{name} {ms:.2f} ms" for name, ms in medians.items())
    return f"steady 25-tile gallery, who-is-who per capture (median of {repeats}, interleaved): {parts}"


if __name__ == "__main__":
    main()
