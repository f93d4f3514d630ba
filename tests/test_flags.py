"""Attention rules on crafted minute series, edge cases included."""

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd

from core.flags import FlagRules, MinuteSeries, class_flags, runs_where, student_flags
from core.labels import EMOTIONS

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
NAN = float("nan")


def minutes(n, start=0, skip=()):
    return [T0 + timedelta(minutes=start + i) for i in range(n + len(skip)) if i not in skip]


def series(negative, present=None, valence=None, times=None):
    n = len(negative)
    return MinuteSeries(
        times or minutes(n),
        np.array(present if present is not None else [1.0] * n, float),
        np.array(negative, float),
        np.array(valence if valence is not None else [0.0] * n, float),
    )


RULES = FlagRules()


def test_sustained_negative_is_flagged_with_its_start():
    flags = student_flags(series([0.1, 0.6, 0.7, 0.8, 0.2]), RULES, participant_id=7)
    assert [(f.kind, f.since, f.until, f.participant_id) for f in flags] == [
        ("negative", T0 + timedelta(minutes=1), T0 + timedelta(minutes=4), 7)
    ]


def test_negative_but_too_short_is_not_flagged():
    assert student_flags(series([0.1, 0.9, 0.9, 0.1, 0.9]), RULES) == []


def test_a_gap_in_captures_breaks_a_run():
    times = minutes(4, skip=(2,))  # minutes 0, 1, 3, 4: minute 2 has no capture
    assert student_flags(series([0.8, 0.8, 0.8, 0.8], times=times), RULES) == []


def test_camera_off_for_five_minutes():
    flags = student_flags(series([NAN] * 6, present=[0, 0, 0, 0, 0, 0], valence=[NAN] * 6), RULES)
    assert [f.kind for f in flags] == ["absent"]
    assert "6 min" in flags[0].reason


def test_a_student_who_joins_late_is_not_flagged_absent_before_joining():
    times = minutes(4, start=30)  # first seen at 9:30
    assert student_flags(series([0.1] * 4, times=times), RULES) == []


def test_drop_against_own_baseline():
    valence = [0.6, 0.5, 0.6, 0.55, 0.6, 0.6, 0.1, 0.0, 0.05]
    flags = student_flags(series([0.1] * 9, valence=valence), RULES)
    assert [f.kind for f in flags] == ["drop"]
    assert flags[0].since == T0 + timedelta(minutes=6)


def test_a_student_who_is_always_glum_has_no_drop():
    flags = student_flags(series([0.3] * 10, valence=[-0.3] * 10), RULES)
    assert [f.kind for f in flags] == []


def test_all_cameras_off_gives_absence_and_no_class_spike():
    n = 8
    s = MinuteSeries(minutes(n), np.zeros(n), np.full(n, NAN), np.full(n, NAN), np.full(n, NAN), np.full(n, NAN))
    assert class_flags(s, RULES) == []
    assert [f.kind for f in student_flags(s, RULES)] == ["absent"]


def test_class_neutral_spike():
    neutral = [0.5, 0.5, 0.8, 0.8, 0.8, 0.8, 0.4, 0.4, 0.4]
    n = len(neutral)
    s = MinuteSeries(minutes(n), np.ones(n), np.zeros(n), np.zeros(n), np.array(neutral), np.zeros(n))
    flags = class_flags(s, RULES)
    assert [f.kind for f in flags] == ["class_neutral"]
    assert flags[0].since <= T0 + timedelta(minutes=2)


def test_runs_where_handles_edges():
    times = minutes(5)
    assert runs_where(np.array([True] * 5), times, 5) == [(0, 4)]
    assert runs_where(np.array([False] * 5), times, 1) == []
    assert runs_where(np.array([True, False, True, True, False]), times, 2) == [(2, 3)]


def test_flag_labels_starting_together_take_separate_rows():
    from core.flags import Flag
    from dashboard.charts import label_rows, student_timeline

    spans = [(T0, T0 + timedelta(minutes=5)), (T0, T0 + timedelta(minutes=3)), (T0 + timedelta(minutes=30), T0)]
    assert label_rows(spans, timedelta(minutes=4)) == [0, 1, 0]
    assert label_rows([(T0, T0), (T0 + timedelta(minutes=1), T0)], timedelta(minutes=4)) == [0, 1]  # label room

    times = minutes(40)
    observations = pd.DataFrame({"time": times, "state": "face", "valence": 0.0, **{e: 1 / 7 for e in EMOTIONS}})
    flags = [Flag("negative", T0, T0 + timedelta(minutes=4), "r", 1), Flag("drop", T0, T0 + timedelta(minutes=2), "r")]
    labels = [a for a in student_timeline(observations, flags).layout.annotations if a.text in ("negative", "drop")]
    assert len(labels) == 2 and labels[0].y != labels[1].y
