"""Attention flags: pure functions over per-minute series, with thresholds a teacher can change.

Inputs are minute buckets (the dashboard aggregates observations per minute in the
database), so the rules cost the same for a 10-minute and a 3-hour session. A minute with
no capture at all is a gap: it neither continues nor breaks a run, it ends it, because we
do not know what happened then.

Flags come only from what was seen. A minute counts for an expression rule only when most of
its face readings were confident (a guess never raises or extends a flag on its own). Camera
off and no face are ways of being in the meeting, not absence: a student is absent when their
tile is gone from the captured gallery while the class is still being captured. And a
student's own resting face is their baseline: a face that reads somewhat sad all lecture is
that student's neutral, and only a clear rise above it is flagged.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np


@dataclass(frozen=True)
class FlagRules:
    negative_share: float = 0.5  # mean of angry+disgust+fear+sad above this ...
    negative_rise: float = 0.25  # ... and this far above the student's own usual share ...
    negative_minutes: int = 3  # ... for this many minutes in a row
    confident_share: float = 0.5  # a minute counts when this share of its face readings were confident
    absent_minutes: int = 5  # tile gone from the captured gallery for this many minutes in a row
    drop_valence: float = 0.35  # valence this far below the student's own baseline ...
    drop_minutes: int = 2  # ... over the last minutes ...
    baseline_minutes: int = 5  # ... once this many minutes of baseline exist
    class_negative_share: float = 0.35  # fear+surprise+sad across the class over the window
    class_neutral_share: float = 0.70  # neutral across the class over the window
    class_window_minutes: int = 3
    away_share: float = 0.5  # readings looking away (or no face in front of a live camera) over this share ...
    away_minutes: int = 5  # ... for this many minutes in a row


@dataclass(frozen=True)
class Flag:
    kind: str  # negative | absent | drop | away | class_negative | class_neutral
    since: datetime
    until: datetime
    reason: str
    participant_id: int | None = None  # None: a flag about the whole class

    def who(self, names: dict[int, dict]) -> str:
        """Whom the flag is about, as the dashboard and both report formats write it."""
        if self.participant_id is None:
            return "Whole class"
        return names.get(self.participant_id, {}).get("name", "?")


@dataclass(frozen=True)
class MinuteSeries:
    """One student's (or the class's) minutes: start times and per-minute measures.

    present: share of observations with a face; negative, neutral, surprise_fear_sad:
    mean probability among confident face readings (NaN when none that minute); valence:
    mean valence (NaN likewise); faces, read: how many face readings, how many of them
    confident (None: not counted, every reading taken as confident).
    """

    minutes: list[datetime]
    present: np.ndarray
    negative: np.ndarray
    valence: np.ndarray
    neutral: np.ndarray | None = None
    surprise_fear_sad: np.ndarray | None = None
    faces: np.ndarray | None = None
    read: np.ndarray | None = None
    away: np.ndarray | None = None

    def trusted(self, rules: FlagRules) -> np.ndarray:
        """Minutes whose expression means rest on confident readings, most of that minute's."""
        known = ~np.isnan(np.asarray(self.negative, float))
        if self.faces is None or self.read is None:
            return known
        faces, read = np.nan_to_num(self.faces), np.nan_to_num(self.read)
        return known & (read >= 1) & (read >= rules.confident_share * faces)


def runs_where(condition: np.ndarray, minutes: list[datetime], at_least: int) -> list[tuple[int, int]]:
    """(first, last) indices of runs of consecutive minutes where condition holds, long enough.

    Consecutive means one minute apart: a missing minute (no capture) ends a run.
    """
    found, start = [], None
    for i, ok in enumerate(condition):
        contiguous = i > 0 and minutes[i] - minutes[i - 1] <= timedelta(minutes=1)
        if ok and start is not None and contiguous:
            continue
        if start is not None and i - start >= at_least:
            found.append((start, i - 1))
        start = i if ok else None
    if start is not None and len(condition) - start >= at_least:
        found.append((start, len(condition) - 1))
    return found


def _span(series: MinuteSeries, first: int, last: int) -> tuple[datetime, datetime]:
    return series.minutes[first], series.minutes[last] + timedelta(minutes=1)


def student_flags(
    series: MinuteSeries,
    rules: FlagRules,
    participant_id: int | None = None,
    session_minutes: list[datetime] | None = None,
) -> list[Flag]:
    """A student's flags. `session_minutes` are the minutes the class was captured at all:
    those after the student's first minute in which their tile was not seen count as absent."""
    flags = []
    if not series.minutes:
        return flags
    flags.extend(_negative_flags(series, rules, participant_id))
    if session_minutes is not None:
        flags.extend(_absent_flags(series, rules, participant_id, session_minutes))
    flags.extend(_drop_flags(series, rules, participant_id))
    flags.extend(_away_flags(series, rules, participant_id))
    return flags


def _away_flags(series: MinuteSeries, rules: FlagRules, participant_id: int | None) -> list[Flag]:
    """Minutes in which the student mostly looked away from their screen (after their own
    baseline and the agent's hysteresis: agent.attention) or left the camera's view. Camera-off
    minutes carry no pose and neither raise nor extend the flag."""
    if series.away is None:
        return []
    away = np.asarray(series.away, float)
    flags = []
    for first, last in runs_where(np.nan_to_num(away) >= rules.away_share, series.minutes, rules.away_minutes):
        since, until = _span(series, first, last)
        share = np.nanmean(away[first : last + 1])
        reason = f"looking away from the screen or out of view {share:.0%} of the time for {last - first + 1} min"
        flags.append(Flag("away", since, until, reason, participant_id))
    return flags


def _negative_flags(series: MinuteSeries, rules: FlagRules, participant_id: int | None) -> list[Flag]:
    """Negative expressions well above the student's own usual share, in trusted minutes,
    once the student's usual share is known (baseline_minutes of trusted minutes before)."""
    trusted = series.trusted(rules)
    negative = np.where(trusted, series.negative, np.nan)
    usual = own_usual(negative, rules.baseline_minutes)
    above = trusted & ~np.isnan(usual)
    above &= np.nan_to_num(negative) >= np.maximum(rules.negative_share, np.nan_to_num(usual) + rules.negative_rise)
    flags = []
    for first, last in runs_where(above, series.minutes, rules.negative_minutes):
        since, until = _span(series, first, last)
        share = np.nanmean(negative[first : last + 1])
        flags.append(
            Flag(
                "negative",
                since,
                until,
                f"negative expressions {share:.0%} for {last - first + 1} min (own usual {usual[first]:.0%};"
                f" {_confident(series, first, last)})",
                participant_id,
            )
        )
    return flags


def own_usual(values: np.ndarray, baseline_minutes: int) -> np.ndarray:
    """Per minute, the median of the known (not NaN) minutes before it; NaN until
    `baseline_minutes` of them exist. What is usual for this student (or class) so far."""
    usual = np.full(len(values), np.nan)
    known = np.flatnonzero(~np.isnan(values))
    if len(known) > baseline_minutes:
        medians = expanding_medians(values[known])  # [j]: the median of the first j + 1 known minutes
        usual[known[baseline_minutes:]] = medians[baseline_minutes - 1 : -1]
    return usual


def _confident(series: MinuteSeries, first: int, last: int) -> str:
    """'31 of 40 readings confident' over the minutes first..last, for a flag's reason."""
    if series.faces is None or series.read is None:
        return "readings not counted"
    read = int(np.nansum(series.read[first : last + 1]))
    faces = int(np.nansum(series.faces[first : last + 1]))
    return f"{read} of {faces} readings confident"


def _absent_flags(
    series: MinuteSeries, rules: FlagRules, participant_id: int | None, session_minutes: list[datetime]
) -> list[Flag]:
    """Minutes the class was captured without this student's tile, after they first appeared."""
    seen = set(series.minutes)
    after = [m for m in session_minutes if m >= series.minutes[0]]
    gone = np.array([m not in seen for m in after], bool)
    flags = []
    for first, last in runs_where(gone, after, rules.absent_minutes):
        since, until = after[first], after[last] + timedelta(minutes=1)
        reason = f"tile not in the captured gallery for {last - first + 1} min (left, or on another page)"
        flags.append(Flag("absent", since, until, reason, participant_id))
    return flags


def _drop_flags(series: MinuteSeries, rules: FlagRules, participant_id: int | None) -> list[Flag]:
    """A sharp fall of valence against the student's own earlier minutes in this session."""
    valence = np.where(series.trusted(rules), series.valence, np.nan)
    known = np.flatnonzero(~np.isnan(valence))
    if len(known) < rules.baseline_minutes + rules.drop_minutes:
        return []
    values = valence[known]
    baselines = expanding_medians(values)  # [j]: the median of the first j + 1 known minutes
    recents = np.lib.stride_tricks.sliding_window_view(values, rules.drop_minutes).mean(axis=1)
    flags, in_drop = [], None
    for k in range(rules.baseline_minutes + rules.drop_minutes - 1, len(known)):
        recent = known[k - rules.drop_minutes + 1 : k + 1]
        baseline = baselines[k - rules.drop_minutes]
        fall = baseline - recents[k - rules.drop_minutes + 1]
        if fall >= rules.drop_valence:
            in_drop = in_drop or (recent[0], baseline, fall)
            last = recent[-1]
        elif in_drop:
            flags.append(_drop_flag(series, in_drop, last, participant_id))
            in_drop = None
    if in_drop:
        flags.append(_drop_flag(series, in_drop, last, participant_id))
    return flags


def expanding_medians(values: np.ndarray) -> np.ndarray:
    """The median of each prefix of `values`, kept by insertion into a sorted list: the live
    view asks for every student's on each new capture, and a median per prefix is quadratic."""
    ordered: list[float] = []
    medians = np.empty(len(values))
    for i, value in enumerate(values):
        bisect.insort(ordered, float(value))
        middle = len(ordered) // 2
        medians[i] = ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2
    return medians


def _drop_flag(series, in_drop, last, participant_id) -> Flag:
    first, baseline, fall = in_drop
    since, until = _span(series, first, last)
    return Flag("drop", since, until, f"mood fell {fall:.2f} below own baseline ({baseline:+.2f})", participant_id)


def class_flags(series: MinuteSeries, rules: FlagRules) -> list[Flag]:
    """Class-wide spikes over a rolling window of trusted minutes (confident face readings of
    everyone), above the limit and above what is usual for this class so far: in a lecture
    most faces are calm, so a calm class is no news."""
    flags = []
    window = rules.class_window_minutes
    trusted = series.trusted(rules)
    for kind, values, limit, label in (
        ("class_negative", series.surprise_fear_sad, rules.class_negative_share, "fear+surprise+sad"),
        ("class_neutral", series.neutral, rules.class_neutral_share, "neutral"),
    ):
        if values is None or len(values) < window:
            continue
        filled = np.where(trusted, np.nan_to_num(values, nan=0.0), 0.0)
        rolling = np.convolve(filled, np.ones(window) / window, mode="valid")
        rolling = np.concatenate([np.full(window - 1, np.nan), rolling])
        usual = own_usual(np.where(trusted, values, np.nan), rules.baseline_minutes)
        above = ~np.isnan(usual) & (
            np.nan_to_num(rolling) > np.maximum(limit, np.nan_to_num(usual) + rules.negative_rise)
        )
        for first, last in runs_where(above, series.minutes, 1):
            start = max(0, first - window + 1)
            since, until = _span(series, start, last)
            peak = np.nanmax(rolling[first : last + 1])
            reason = f"class {label} at {peak:.0%} over {window} min ({_confident(series, start, last)})"
            flags.append(Flag(kind, since, until, reason))
    return flags
