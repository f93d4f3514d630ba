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


def series(negative, present=None, valence=None, times=None, faces=None, read=None):
    n = len(negative)
    return MinuteSeries(
        times or minutes(n),
        np.array(present if present is not None else [1.0] * n, float),
        np.array(negative, float),
        np.array(valence if valence is not None else [0.0] * n, float),
        faces=None if faces is None else np.array(faces, float),
        read=None if read is None else np.array(read, float),
    )


RULES = FlagRules()
CALM = [0.1] * 6  # six calm minutes: the student's usual share is known from minute 6 on


def test_sustained_negative_above_own_usual_is_flagged_with_its_start():
    flags = student_flags(series(CALM + [0.6, 0.7, 0.8, 0.2], faces=[3] * 10, read=[3] * 10), RULES, participant_id=7)
    assert [(f.kind, f.since, f.until, f.participant_id) for f in flags] == [
        ("negative", T0 + timedelta(minutes=6), T0 + timedelta(minutes=9), 7)
    ]
    assert "own usual 10%" in flags[0].reason and "9 of 9 readings confident" in flags[0].reason


def test_negative_but_too_short_is_not_flagged():
    assert student_flags(series(CALM + [0.9, 0.9, 0.1, 0.9]), RULES) == []


def test_a_gap_in_captures_breaks_a_run():
    times = minutes(10, skip=(8,))  # minute 8 has no capture
    assert student_flags(series(CALM + [0.8, 0.8, 0.8, 0.8], times=times), RULES) == []


def test_minutes_of_mostly_guesses_raise_no_flag():
    """37 of 40 readings guesses: the few confident ones do not make a flag on their own."""
    negative = CALM + [0.8, 0.8, 0.8, 0.8]
    faces = [4] * 6 + [6, 6, 6, 6]
    read = [4] * 6 + [1, 1, 0, 1]
    assert student_flags(series(negative, faces=faces, read=read), RULES) == []
    read = [4] * 6 + [1, 4, 4, 1]  # one trusted minute in the middle of guesses: still no 3-minute run
    assert student_flags(series(negative, faces=faces, read=read), RULES) == []


def test_a_resting_face_that_reads_sad_all_session_is_that_students_usual():
    assert student_flags(series([0.7, 0.75, 0.7, 0.65] * 20, faces=[3] * 80, read=[3] * 80), RULES) == []


def test_a_real_rise_above_a_glum_baseline_is_still_flagged():
    negative = [0.55] * 10 + [0.95] * 4 + [0.55] * 3
    flags = student_flags(series(negative), RULES)
    assert [(f.kind, f.since) for f in flags] == [("negative", T0 + timedelta(minutes=10))]
    assert "own usual 55%" in flags[0].reason


def test_no_flag_before_the_students_usual_is_known():
    assert student_flags(series([0.9] * 5), RULES) == []


def test_camera_off_or_no_face_is_never_absent():
    captured = minutes(12)
    off = series([NAN] * 12, present=[0.0] * 12, valence=[NAN] * 12, faces=[0] * 12, read=[0] * 12)
    assert student_flags(off, RULES, session_minutes=captured) == []


def test_a_tile_gone_from_the_gallery_is_absent():
    captured = minutes(14)
    left = series([0.1] * 4, times=minutes(4))  # seen at 9:00-9:03, then the class goes on without them
    flags = student_flags(left, RULES, session_minutes=captured)
    assert [(f.kind, f.since, f.until) for f in flags] == [
        ("absent", T0 + timedelta(minutes=4), T0 + timedelta(minutes=14))
    ]
    assert "10 min" in flags[0].reason


def test_a_student_who_joins_late_is_not_flagged_absent_before_joining():
    times = minutes(4, start=30)  # first seen at 9:30
    assert student_flags(series([0.1] * 4, times=times), RULES, session_minutes=minutes(34)) == []


def test_drop_against_own_baseline():
    valence = [0.6, 0.5, 0.6, 0.55, 0.6, 0.6, 0.1, 0.0, 0.05]
    flags = student_flags(series([0.1] * 9, valence=valence), RULES)
    assert [f.kind for f in flags] == ["drop"]
    assert flags[0].since == T0 + timedelta(minutes=6)


def test_a_drop_made_of_guesses_is_no_drop():
    valence = [0.6, 0.5, 0.6, 0.55, 0.6, 0.6, 0.1, 0.0, 0.05]
    guesses = series([0.1] * 9, valence=valence, faces=[3] * 9, read=[3] * 6 + [0, 1, 0])
    assert student_flags(guesses, RULES) == []


def test_a_student_who_is_always_glum_has_no_drop():
    flags = student_flags(series([0.3] * 10, valence=[-0.3] * 10), RULES)
    assert [f.kind for f in flags] == []


def test_all_cameras_off_gives_no_flag():
    n = 8
    s = MinuteSeries(minutes(n), np.zeros(n), np.full(n, NAN), np.full(n, NAN), np.full(n, NAN), np.full(n, NAN))
    assert class_flags(s, RULES) == []
    assert student_flags(s, RULES, session_minutes=minutes(n)) == []


def test_class_neutral_spike_above_the_class_usual():
    neutral = [0.5] * 6 + [0.95] * 4 + [0.4] * 3
    n = len(neutral)
    s = MinuteSeries(minutes(n), np.ones(n), np.zeros(n), np.zeros(n), np.array(neutral), np.zeros(n))
    flags = class_flags(s, RULES)
    assert [f.kind for f in flags] == ["class_neutral"]
    assert T0 + timedelta(minutes=6) <= flags[0].until <= T0 + timedelta(minutes=13)


def test_a_class_that_is_usually_calm_raises_no_neutral_flag():
    n = 30
    s = MinuteSeries(minutes(n), np.ones(n), np.zeros(n), np.zeros(n), np.full(n, 0.8), np.zeros(n))
    assert class_flags(s, RULES) == []


def test_class_flags_skip_minutes_of_guesses():
    n = 9
    faces, read = np.full(n, 20.0), np.full(n, 2.0)
    s = MinuteSeries(minutes(n), np.ones(n), np.zeros(n), np.zeros(n), np.full(n, 0.9), np.full(n, 0.9), faces, read)
    assert class_flags(s, RULES) == []


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
