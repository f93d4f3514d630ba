"""The class list: the names a teacher knows are in the class, and which tile tag is whose.

A tag's OCR reading is often a little wrong (8-pixel Hangul, "Qlyun" for "Qiyun"), cut short by
Zoom ("Elizabeth Hernández C..."), or dressed up by the student ("(초급)강 미숙", "조광현 (방청)").
Matched to the class list, the participant gets the list's spelling. The whole gallery is
matched at once (an optimal assignment: one tile, one student), and a reading that fits nobody
clearly stays as read and is marked unmatched: a wrong name on a student's timeline is worse
than an unknown one.

Pure logic: `read_roster` is the only function that touches a file.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from rapidfuzz import fuzz
from rapidfuzz.distance import Levenshtein

from core.student_names import MIN_TRUNCATED, TRUNCATION, normalize_name

MAX_BYTES = 1_000_000  # a school's class list is a few kilobytes
MAX_NAME = 200
# A reading takes a listed name when it fits it well and better than any rival, or fits it
# loosely but far better than any rival. Measured on generated classes (bench.roster_matching,
# 300 classes a row): the loose rule reads 0-4 points more students right (the more OCR errs,
# the more) at the cost of 1-2 points more guests given a listed name (Latin: 3.7 % -> 5.6 %
# when a guest's name looks like an absent student's); students given another student's name
# stay under 0.2 %. On the real screenshots it took 3 of 4 badly read Latin tags.
ACCEPT, MARGIN = 0.8, 0.08
LOOSE, WIDE_MARGIN = 0.7, 0.3
DRESSED = 0.95  # a listed name found inside a longer tag ("(초급)강미숙") counts a little less than equal
STUDENT_NUMBER = re.compile(r"\d{5,}")
ID_COLUMNS = ("id", "student_id", "student number", "number", "学号", "학번")
# OCR confusions, on casefolded text: the glyphs on the left read as the one on the right
CONFUSIONS = (("rn", "m"), ("vv", "w"), ("cl", "d"), ("1", "l"), ("i", "l"), ("0", "o"), ("5", "s"))


class RosterError(ValueError):
    """The class list cannot be used; the message is one line."""


@dataclass(frozen=True)
class Student:
    name: str
    student_id: str | None = None

    @property
    def identity(self) -> str:
        """What tells this student from every other on the list: the name, and the number if any."""
        normalized = normalize_name(self.name)
        return f"{normalized}#{self.student_id}" if self.student_id else normalized

    @property
    def numbers(self) -> set[str]:
        found = set(STUDENT_NUMBER.findall(self.name))
        return found | {self.student_id} if self.student_id else found


@dataclass(frozen=True)
class Roster:
    students: tuple[Student, ...]

    def __len__(self) -> int:
        return len(self.students)

    @property
    def digest(self) -> str:
        """The same list, whatever its order or spelling of case and spaces: a teacher's
        corrections are carried to their next session with it (db.corrections)."""
        lines = sorted(f"{normalize_name(s.name)}\t{s.student_id or ''}" for s in self.students)
        return hashlib.sha256("\n".join(lines).encode()).hexdigest()[:32]


def read_roster(path: str | Path) -> Roster:
    """A class list file: UTF-8 text, one name per line, or a CSV with a `name` column (and
    an optional `id`). Raises RosterError with a one-line reason."""
    path = Path(path)
    try:
        if path.stat().st_size > MAX_BYTES:
            raise RosterError(f"class list {path}: larger than {MAX_BYTES // 1000} kB, not a class list")
        data = path.read_bytes()
    except OSError as exc:
        raise RosterError(f"class list {path} cannot be read: {exc.strerror or exc}") from None
    return parse_roster(data, str(path))


def parse_roster(data: bytes, source: str = "class list") -> Roster:
    """The students in a class list's bytes, in order, blank lines and repeats dropped."""
    if b"\x00" in data:
        raise RosterError(f"{source}: binary data, not a text list of names")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RosterError(
            f"{source}: not UTF-8 text (byte {exc.start + 1}); save the list as UTF-8 and try again"
        ) from None
    if any(unicodedata.category(c) == "Cc" and c not in "\t\r\n" for c in text):
        raise RosterError(f"{source}: holds control characters, not a text list of names")
    rows = _csv_rows(text)
    students = rows if rows is not None else [Student(line.strip()) for line in text.splitlines()]
    kept: list[Student] = []
    seen: set[tuple[str, str | None]] = set()
    for student in students:
        key = (normalize_name(student.name), student.student_id)
        if not key[0] or key in seen:
            continue
        if len(student.name) > MAX_NAME:
            raise RosterError(f"{source}: a name longer than {MAX_NAME} characters ({student.name[:30]}...)")
        seen.add(key)
        kept.append(student)
    if not kept:
        raise RosterError(f"{source}: no names in it")
    return Roster(tuple(kept))


def _csv_rows(text: str) -> list[Student] | None:
    """Students from a CSV whose header has a `name` column; None when the text is not one."""
    first = text.split("\n", 1)[0]
    if "," not in first and ";" not in first and "\t" not in first:
        return None
    dialect = csv.Sniffer().sniff(first, delimiters=",;\t") if first else csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    header = [cell.strip().casefold() for cell in next(reader, [])]
    if "name" not in header:
        return None
    name_at = header.index("name")
    id_at = next((header.index(c) for c in ID_COLUMNS if c in header), None)
    students = []
    for row in reader:
        if len(row) > name_at:
            student_id = row[id_at].strip() if id_at is not None and len(row) > id_at else ""
            students.append(Student(row[name_at].strip(), student_id or None))
    return students


def comparable(text: str) -> str:
    """A name as OCR errors leave it alike: letters only (no student number), casefolded, the
    usual OCR confusions folded, Hangul syllables split into their letters (jamo), so that a
    syllable misread by one stroke differs by one letter, not by a whole character."""
    text = normalize_name(STUDENT_NUMBER.sub(" ", text))
    for glyphs, letter in CONFUSIONS:
        text = text.replace(glyphs, letter)
    return unicodedata.normalize("NFD", text)


def similarity(reading: str, student: Student) -> float:
    """0..1: how well a tag reading fits a listed student. A student number on both decides:
    equal is 1, more than one digit apart is 0. Otherwise the letters: the whole name, the
    start of it where Zoom cut the tag short, or the name inside a tag dressed with extras."""
    numbers = set(STUDENT_NUMBER.findall(reading))
    if numbers and student.numbers:
        if numbers & student.numbers:
            return 1.0
        if min(Levenshtein.distance(a, b) for a in numbers for b in student.numbers) > 1:
            return 0.0
    read, listed = comparable(reading), comparable(student.name)
    if not read or not listed:
        return 0.0
    score = fuzz.ratio(read, listed) / 100
    cut = bool(TRUNCATION.search(reading))
    if len(read) >= MIN_TRUNCATED and len(read) < len(listed):
        start = fuzz.ratio(read, listed[: len(read)]) / 100
        score = max(score, start if cut else start * DRESSED)
    if len(listed) >= MIN_TRUNCATED and len(read) > len(listed):
        score = max(score, fuzz.partial_ratio(listed, read) / 100 * DRESSED)
    return score


def similarities(readings: list[str | None], roster: Roster, known: dict[str, np.ndarray] | None = None) -> np.ndarray:
    """(readings x students) similarity matrix; a missing reading fits nobody. `known`: rows
    already computed, by reading (a steady gallery shows the same tags capture after capture)."""
    known = {} if known is None else known
    scores = np.zeros((len(readings), len(roster)))
    for i, reading in enumerate(readings):
        if reading:
            if reading not in known:
                known[reading] = np.array([similarity(reading, student) for student in roster.students])
            scores[i] = known[reading]
    return scores


def match_roster(
    readings: list[str | None], roster: Roster, known: dict[str, np.ndarray] | None = None
) -> list[int | None]:
    """For each tag reading of one capture, the index of its student in the roster, or None.

    One tile, one student: the assignment that maximises the total similarity. A pair is kept
    only if it fits and clearly beats the rivals still in play (the next-best student no other
    tile took, and the next-best tile no student took): see ACCEPT and LOOSE.
    """
    from scipy.optimize import linear_sum_assignment

    out: list[int | None] = [None] * len(readings)
    if not readings:
        return out
    scores = similarities(readings, roster, known)
    rows, cols = linear_sum_assignment(scores, maximize=True)
    pairs = [(r, c) for r, c in zip(rows, cols) if scores[r, c] >= min(ACCEPT, LOOSE)]
    taken_rows, taken_cols = {r for r, _ in pairs}, {c for _, c in pairs}
    for r, c in pairs:
        score = scores[r, c]
        other_students = [scores[r, k] for k in range(len(roster)) if k != c and k not in taken_cols]
        other_tiles = [scores[k, c] for k in range(len(readings)) if k != r and k not in taken_rows]
        rival = max(other_students + other_tiles, default=0.0)
        exact = score >= 1.0 - 1e-9 and rival < score
        if exact or (score >= ACCEPT and score - rival >= MARGIN) or (score >= LOOSE and score - rival >= WIDE_MARGIN):
            out[r] = int(c)
    return out
