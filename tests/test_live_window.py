"""The live view's in-memory hour (dashboard.live_window) against a real database: after new
captures, a capture that arrives late and an erasure it must equal the hour read afresh."""

from datetime import UTC, datetime, timedelta

import numpy as np
from pandas.testing import assert_frame_equal

from agent.pipeline import CaptureResult, TileResult
from dashboard import queries
from dashboard.live_window import loaded, observed, updated, window_start
from db import retention, store
from db.engine import make_engine, upgrade

STUDENTS = ["ana", "ben", "chen", "dana"]
T0 = datetime(2026, 12, 3, 9, 0, 2, tzinfo=UTC)


def capture(at: datetime, rng: np.random.Generator, students=STUDENTS) -> CaptureResult:
    tiles = []
    for i, key in enumerate(students):
        if rng.random() < 0.2:
            tiles.append(TileResult((i * 100, 0, 90, 50), f"name:{key}", key, True, "camera_off"))
            continue
        probs = tuple(float(p) for p in rng.dirichlet(np.ones(7)))
        tiles.append(
            TileResult((i * 100, 0, 90, 50), f"name:{key}", key, True, "face", (i * 100, 5, 30, 30), probs, False)
        )
    return CaptureResult(at, tiles, {})


def hour_before_last(engine, session_id: int) -> datetime:
    """The live view's window start, from the last capture's time as the database gives it
    (naive on SQLite, aware on PostgreSQL), as dashboard.pages.live computes it."""
    return window_start(queries.capture_errors(engine, session_id)[2], timedelta(minutes=60))


def same_as_fresh(engine, window, session_id, since) -> None:
    _, upto = observed(engine, session_id, since)
    fresh = loaded(engine, session_id, since, upto)
    assert_frame_equal(window.timeline.reset_index(drop=True), fresh.timeline.reset_index(drop=True))
    assert_frame_equal(window.minutes.reset_index(drop=True), fresh.minutes.reset_index(drop=True))


def test_window_follows_new_late_and_erased_rows(db_url):
    upgrade(db_url)
    engine = make_engine(db_url)
    sid = store.start_session(engine, "Chemistry", "monitor 1", 5.0, False, {})
    ids, rng = {}, np.random.default_rng(0)
    times = [T0 + timedelta(seconds=5 * k) for k in range(40)]
    for at in times[:30]:
        store.write_capture(engine, sid, capture(at, rng), ids)
    since = hour_before_last(engine, sid)
    window = updated(engine, None, sid, since)
    assert len(window.timeline) == 30 and window.timeline["tiles"].sum() == 120

    for at in times[30:35]:  # a new capture: only its minute is aggregated again
        store.write_capture(engine, sid, capture(at, rng), ids)
    window = updated(engine, window, sid, since)
    same_as_fresh(engine, window, sid, since)
    assert len(window.timeline) == 35

    late = T0 + timedelta(seconds=7)  # buffered through an outage: an old time, a new id
    store.write_capture(engine, sid, capture(late, rng), ids)
    window = updated(engine, window, sid, since)
    same_as_fresh(engine, window, sid, since)
    assert window.timeline["time"].is_monotonic_increasing

    retention.erase_student(engine, "ben")  # rows go: the window is read afresh
    window = updated(engine, window, sid, since)
    same_as_fresh(engine, window, sid, since)
    assert window.timeline["tiles"].sum() == 36 * 3

    for at in times[35:]:  # the hour moves on
        store.write_capture(engine, sid, capture(at, rng, ["ana", "chen"]), ids)
    later = hour_before_last(engine, sid) + timedelta(minutes=59)
    window = updated(engine, window, sid, later)
    assert window.since == later and len(window.timeline) == 16  # the captures from 09:02:02
    same_as_fresh(engine, window, sid, later)
    engine.dispose()


def test_live_minutes_equal_the_reports(db_url):
    """The live view's minutes (updated capture by capture) are the report's minutes."""
    upgrade(db_url)
    engine = make_engine(db_url)
    sid = store.start_session(engine, "Biology", "monitor 1", 5.0, False, {})
    ids, rng, window = {}, np.random.default_rng(1), None
    since = None
    for k in range(30):
        store.write_capture(engine, sid, capture(T0 + timedelta(seconds=5 * k), rng), ids)
        since = since or hour_before_last(engine, sid)
        window = updated(engine, window, sid, since)
    report = queries.student_minutes(engine, sid)
    assert_frame_equal(window.minutes.reset_index(drop=True), report.reset_index(drop=True))
    engine.dispose()
