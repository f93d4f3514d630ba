"""Who is in which tile: by name where one can be read, else by position and appearance.

Pure logic: the agent keeps an IdentityTracker for the session and feeds it each capture's
tiles; it answers with a stable participant key per tile.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from typing import NamedTuple

import cv2
import numpy as np
from rapidfuzz import fuzz

from core.roster import STUDENT_NUMBER, Roster, Student, comparable, match_roster
from core.student_names import MIN_TRUNCATED, TRUNCATION, normalize_name, plain_key

MAX_CENTER_SHIFT = 0.12  # of the frame's diagonal, for an unnamed tile to keep its track
MIN_APPEARANCE = 0.5  # correlation of thumbnails, for a moved unnamed tile
# For a tile whose tag misreads to be the named participant last seen in its place: the same
# tile recompressed (JPEG q50) correlates at 0.99 or more; 0.8 % of two people's tiles on the real
# screenshots reach 0.9 (mostly camera-off tiles)
STAYED_APPEARANCE = 0.9
# For an unread tag's tile that moved (Zoom reorders its gallery) to be a named participant not
# seen in this capture: the same tile recompressed or rescaled correlates at 0.99 or more, two
# people's tiles on the real screenshots at most 0.955 (two camera-off tiles)
MOVED_APPEARANCE = 0.98
NAME_SIMILARITY = 0.85  # likeness (same_tag_likeness) from which two readings are one name


@dataclass
class Track:
    key: str
    label: str
    center: tuple[float, float]  # normalized to the frame (0..1)
    thumbnail: np.ndarray
    listed: bool = False  # a class-list student's participant


class Identity(NamedTuple):
    key: str
    label: str
    named: bool
    listed: bool | None = None  # with a class list: the tag matched a listed student (False: shown as read)


@dataclass
class IdentityTracker:
    """Stable keys across captures; `salt` set means names are stored only as salted hashes.
    With a class list (`roster`), a tag matched to a listed student takes the list's name."""

    salt: str | None = None
    roster: Roster | None = None
    tracks: dict[str, Track] = field(default_factory=dict)
    next_unnamed: int = 1
    spellings: list[str] = field(default_factory=list)
    truncated: set[str] = field(default_factory=set)  # spellings first seen cut short with "..."
    readings: dict[str, Counter] = field(default_factory=dict)  # participant -> how often each reading
    listed_rows: dict[str, np.ndarray] = field(default_factory=dict)  # reading -> its fit to each listed student
    corrections: dict[str, tuple[str, str]] = field(default_factory=dict)  # key -> (key, name): a teacher's say
    aliases: dict[str, str] = field(default_factory=dict)  # a misread's key -> its participant's key

    def name_key(self, name: str) -> tuple[str, str]:
        key, label = self.keyed(self.known_spelling(normalize_name(name), bool(TRUNCATION.search(name))), name)
        return self.aliases.get(key, key), label

    def student_key(self, student: Student) -> tuple[str, str]:
        """A listed student's key: their list entry, never merged with a look-alike spelling."""
        return self.keyed(student.identity, student.name)

    def keyed(self, normalized: str, name: str) -> tuple[str, str]:
        if self.salt is None:
            return plain_key(normalized), name
        digest = hashlib.sha256(f"{self.salt}:{normalized}".encode()).hexdigest()[:16]
        return f"hash:{digest}", f"student-{digest[:6]}"

    def known_spelling(self, normalized: str, truncated: bool = False) -> str:
        """The spelling this name was first seen with: the same letters, the same name cut
        shorter or longer by Zoom's truncation ("Elizabeth Hernández C..." and "Elizabeth
        Hernández ..."), or an OCR misread close to it ("anasi1va")."""
        if normalized in self.spellings:
            return normalized
        for known in self.spellings:
            cut_known = known in self.truncated
            if truncated and len(normalized) >= MIN_TRUNCATED and known.startswith(normalized):
                return known
            if cut_known and len(known) >= MIN_TRUNCATED and normalized.startswith(known):
                return known
        close = max(self.spellings, key=lambda known: same_tag_likeness(normalized, known), default=None)
        if close is not None and same_tag_likeness(normalized, close) >= NAME_SIMILARITY:
            return close
        self.spellings.append(normalized)
        if truncated:
            self.truncated.add(normalized)
        return normalized

    def assign(
        self, frame_size: tuple[int, int], tiles: list[tuple[tuple[int, int, int, int], np.ndarray, str | None]]
    ) -> list[Identity]:
        """tiles: (box, tile image, name or None) -> an Identity per tile, in the same order."""
        width, height = frame_size
        out: list[Identity | None] = [None] * len(tiles)
        names = [name for _, _, name in tiles]
        if len(self.listed_rows) > 4096:  # a long lecture's stray misreads
            self.listed_rows.clear()
        listed = match_roster(names, self.roster, self.listed_rows) if self.roster is not None else [None] * len(tiles)
        by_name: dict[str, list[tuple[int, tuple[float, float], np.ndarray, str]]] = {}
        by_student: dict[str, tuple[int, tuple[float, float], np.ndarray, str]] = {}
        unmatched, pending = [], []
        for i, (box, image, name) in enumerate(tiles):
            center = ((box[0] + box[2] / 2) / width, (box[1] + box[3] / 2) / height)
            if listed[i] is not None:
                key, label = self.student_key(self.roster.students[listed[i]])
                by_student[key] = (i, center, thumbnail(image), label)
            elif self.roster is not None:
                unmatched.append((i, center, thumbnail(image), name))
            elif name:
                key, label = self.name_key(name)
                by_name.setdefault(key, []).append((i, center, thumbnail(image), label))
            else:
                pending.append((i, center, thumbnail(image)))
        for key, (i, center, thumb, label) in by_student.items():
            ((_, track),) = self.match([self.tracks[key]] if key in self.tracks else [], [(i, center, thumb)], key)
            track.label, track.listed = label, True
            out[i] = Identity(track.key, label, True, True)
        # A listed student whose tag misreads (or reads as nothing) this time keeps their
        # participant where the tile stayed put and looks the same; otherwise a reading stands
        # as read, unmatched, and a tile without one is tracked by position.
        absent = [t for k, t in self.tracks.items() if k not in by_student and t.listed]
        for i, center, thumb, name in unmatched:
            track = self.stayed(absent, center, thumb)
            if track is not None:
                absent.remove(track)
                track.center, track.thumbnail = center, thumb
                out[i] = Identity(track.key, track.label, True, True)
            elif not name:
                pending.append((i, center, thumb))
            else:
                key, label = self.name_key(name)
                by_name.setdefault(key, []).append((i, center, thumb, label))
        used = {identity.key for identity in out if identity is not None}
        fresh = [k for k in by_name if not any(t == k or t.startswith(f"{k}#") for t in self.tracks)]
        for key in sorted(by_name, key=lambda k: k in fresh):  # spellings seen before go first
            seen = by_name[key]
            if key in fresh and len(seen) == 1:
                # A reading never seen before on a tile that stayed put and looks the same as a
                # named participant not seen in this capture is that participant, misread.
                i, center, thumb, label = seen[0]
                idle = [
                    t for k, t in self.tracks.items() if not k.startswith("tile:") and k not in used and not t.listed
                ]
                track = self.stayed(idle, center, thumb)
                if track is not None:
                    self.aliases[key] = track.key
                    track.center, track.thumbnail = center, thumb
                    track.label = self.best_reading(track.key, label)
                    out[i] = Identity(track.key, track.label, True, False if self.roster is not None else None)
                    used.add(track.key)
                    continue
            # Namesakes (two tiles, one name) keep their own participants by position and look.
            tracks = [t for k, t in self.tracks.items() if k == key or k.startswith(f"{key}#")]
            for i, track in self.match(tracks, [(i, c, t) for i, c, t, _ in seen], name_key=key):
                reading = next(lab for j, _, _, lab in seen if j == i)
                track.label = self.best_reading(track.key, reading)
                out[i] = Identity(track.key, track.label, True, False if self.roster is not None else None)
                used.add(track.key)
        # A tile whose tag could not be read this time, where a named participant not seen in
        # this capture stayed put and looks the same, is that participant; so is one that moved
        # (Zoom reorders its gallery) and looks the same as that participant alone.
        idle = [t for k, t in self.tracks.items() if k not in used and not k.startswith("tile:")]
        unread = []
        for i, center, thumb in pending:
            track = self.stayed(idle, center, thumb) or self.moved(idle, thumb)
            if track is None:
                unread.append((i, center, thumb))
                continue
            idle.remove(track)
            track.center, track.thumbnail = center, thumb
            out[i] = Identity(
                track.key, track.label, True, track.listed or (False if self.roster is not None else None)
            )
        unnamed = [t for k, t in self.tracks.items() if k.startswith("tile:")]
        for i, track in self.match(unnamed, unread, name_key=None):
            out[i] = Identity(track.key, track.label, False)
        return [self.corrected(identity) for identity in out]

    def corrected(self, identity: Identity) -> Identity:
        """A teacher renamed this participant, or said it is another one (db.corrections)."""
        if identity.key not in self.corrections:
            return identity
        key, name = self.corrections[identity.key]
        return identity._replace(key=key, label=name, named=True)

    @staticmethod
    def stayed(tracks: list[Track], center: tuple[float, float], thumb: np.ndarray) -> Track | None:
        """The track whose tile is where this one is and looks like it, if one is."""
        near = [
            (appearance(t.thumbnail, thumb), t)
            for t in tracks
            if np.hypot(t.center[0] - center[0], t.center[1] - center[1]) <= MAX_CENTER_SHIFT / 4
        ]
        likeness, track = max(near, key=lambda pair: pair[0], default=(-1.0, None))
        return track if likeness >= STAYED_APPEARANCE else None

    @staticmethod
    def moved(tracks: list[Track], thumb: np.ndarray) -> Track | None:
        """The one track, wherever its tile was, that looks like this tile; None if none or several do."""
        alike = [t for t in tracks if appearance(t.thumbnail, thumb) >= MOVED_APPEARANCE]
        return alike[0] if len(alike) == 1 else None

    def best_reading(self, key: str, reading: str) -> str:
        """The name to show for a participant: of all readings of their tag so far, an untruncated
        one first, then the most frequent, then the longest (OCR noise and truncation fade)."""
        counts = self.readings.setdefault(key, Counter())
        counts[reading] += 1
        return max(counts, key=lambda r: (not TRUNCATION.search(r), counts[r], len(r)))

    def match(self, tracks: list[Track], tiles, name_key: str | None) -> list[tuple[int, Track]]:
        """Each tile (index, centre, thumbnail) to the nearest-looking track still free, or to a
        new one: `name_key` (then "name_key#2", ... for namesakes), or "tile:N" when unnamed."""
        free = list(tracks)
        out = []
        for i, center, thumb in tiles:
            best, best_score = None, -np.inf
            for track in free:
                shift = np.hypot(track.center[0] - center[0], track.center[1] - center[1])
                likeness = appearance(track.thumbnail, thumb)
                close = name_key is not None or shift <= MAX_CENTER_SHIFT or likeness >= MIN_APPEARANCE
                if close and likeness - shift > best_score:
                    best, best_score = track, likeness - shift
            if best is None:
                if name_key is None:
                    best = Track(f"tile:{self.next_unnamed}", f"Unnamed {self.next_unnamed}", center, thumb)
                    self.next_unnamed += 1
                else:
                    namesakes = sum(k.startswith(f"{name_key}#") for k in self.tracks)
                    key = name_key if name_key not in self.tracks else f"{name_key}#{namesakes + 2}"
                    best = Track(key, "", center, thumb)
            else:
                free.remove(best)
            best.center, best.thumbnail = center, thumb
            self.tracks[best.key] = best
            out.append((i, best))
        return out


def same_tag_likeness(a: str, b: str) -> float:
    """0..1: are two readings one tag? Compared as OCR slips leave names alike (core.roster:
    Hangul letter by letter, l/I/1 folded); a student number on both decides alone."""
    numbers_a, numbers_b = set(STUDENT_NUMBER.findall(a)), set(STUDENT_NUMBER.findall(b))
    if numbers_a and numbers_b:
        return 1.0 if numbers_a & numbers_b else 0.0
    return fuzz.ratio(comparable(a), comparable(b)) / 100


def thumbnail(image: np.ndarray) -> np.ndarray:
    gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    small = cv2.resize(gray, (24, 14), interpolation=cv2.INTER_AREA).astype(np.float32)
    return (small - small.mean()) / (small.std() + 1e-6)


def appearance(a: np.ndarray, b: np.ndarray) -> float:
    """Correlation of two normalized thumbnails, in -1..1."""
    return float((a * b).mean())
