"""Attention flags: pure functions over per-minute series, with thresholds a teacher can change.

Inputs are minute buckets (the dashboard aggregates observations per minute in the
database), so the rules cost the same for a 10-minute and a 3-hour session. A minute with
no capture at all is a gap: it neither continues nor breaks a run, it ends it, because we
do not know what happened then.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np


@dataclass(frozen=True)
class FlagRules:
    negative_share: float = 0.5  # mean of angry+disgust+fear+sad above this ...
    negative_minutes: int = 3  # ... for this many minutes in a row
    absent_minutes: int = 5  # camera off or no face for this many minutes in a row
    drop_valence: float = 0.35  # valence this far below the student's own baseline ...
    drop_minutes: int = 2  # ... over the last minutes ...
    baseline_minutes: int = 5  # ... once this many minutes of baseline exist
    class_negative_share: float = 0.35  # fear+surprise+sad across the class over the window
    class_neutral_share: float = 0.70  # neutral across the class over the window
    class_window_minutes: int = 3


@dataclass(frozen=True)
class Flag:
    kind: str  # negative | absent | drop | class_negative | class_neutral
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
    mean probability among face observations (NaN when no face that minute); valence:
    mean valence (NaN likewise).
    """

    minutes: list[datetime]
    present: np.ndarray
    negative: np.ndarray
    valence: np.ndarray
    neutral: np.ndarray | None = None
    surprise_fear_sad: np.ndarray | None = None


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


def student_flags(series: MinuteSeries, rules: FlagRules, participant_id: int | None = None) -> list[Flag]:
    flags = []
    if not series.minutes:
        return flags
    negative = np.nan_to_num(series.negative, nan=0.0) >= rules.negative_share
    for first, last in runs_where(negative, series.minutes, rules.negative_minutes):
        since, until = _span(series, first, last)
        share = np.nanmean(series.negative[first : last + 1])
        flags.append(
            Flag(
                "negative", since, until, f"negative expressions {share:.0%} for {last - first + 1} min", participant_id
            )
        )
    absent = series.present <= 0.0
    for first, last in runs_where(absent, series.minutes, rules.absent_minutes):
        since, until = _span(series, first, last)
        flags.append(Flag("absent", since, until, f"camera off or no face for {last - first + 1} min", participant_id))
    flags.extend(_drop_flags(series, rules, participant_id))
    return flags


def _drop_flags(series: MinuteSeries, rules: FlagRules, participant_id: int | None) -> list[Flag]:
    """A sharp fall of valence against the student's own earlier minutes in this session."""
    valence = series.valence
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
    """Class-wide spikes, over a rolling window of minutes (face observations of everyone)."""
    flags = []
    window = rules.class_window_minutes
    for kind, values, limit, label in (
        ("class_negative", series.surprise_fear_sad, rules.class_negative_share, "fear+surprise+sad"),
        ("class_neutral", series.neutral, rules.class_neutral_share, "neutral"),
    ):
        if values is None or len(values) < window:
            continue
        filled = np.nan_to_num(values, nan=0.0)
        rolling = np.convolve(filled, np.ones(window) / window, mode="valid")
        above = np.concatenate([np.zeros(window - 1, bool), rolling > limit])
        for first, last in runs_where(above, series.minutes, 1):
            start = max(0, first - window + 1)
            since, until = _span(series, start, last)
            peak = rolling[first - window + 1 : last - window + 2].max()
            flags.append(Flag(kind, since, until, f"class {label} at {peak:.0%} over {window} min"))
    return flags
