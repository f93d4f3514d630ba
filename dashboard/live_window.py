"""The live view's last hour of a session, kept in memory and brought up to date with the
captures written since it was last asked for.

Every new capture (every 5 s or so, per class) the live view needs the hour's per-capture
timeline and per-student minutes. Aggregating the whole hour again each time costs about
170 ms of database work and row decoding a class; a school's server with twenty classes
live spends its time doing that. Captures, once written, do not change, so only those with
a higher id than the window has seen are asked for (a capture buffered through a database
outage arrives late with an old time but a new id), and only the minutes they fall in are
aggregated again. A count of the hour's observations checks the window against the database
each time: a purge, an erasure or a deleted session makes it load the hour afresh.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

import pandas as pd
from sqlalchemy import Engine, func, select

from dashboard import queries
from db.models import Capture

KEPT = 64  # sessions whose windows stay in memory


@dataclass(frozen=True)
class LiveWindow:
    session_id: int
    since: datetime  # on a whole minute: the first minute bucket is complete
    timeline: pd.DataFrame  # queries.class_timeline rows, by time
    minutes: pd.DataFrame  # queries.student_minutes rows
    last_capture: int  # the highest capture id folded in


def window_start(last: datetime, length: timedelta) -> datetime:
    """`length` before the last capture, down to the whole minute."""
    return (last - length).replace(second=0, microsecond=0)


def observed(engine: Engine, session_id: int, since: datetime) -> tuple[int, int]:
    """(observations since `since`, the session's highest capture id; 0 when none). Both are
    read from indexes alone (a capture's observations are written in its transaction)."""
    count = select(func.count()).where(*queries.window_clauses(session_id, since))
    last = select(func.max(Capture.id)).where(Capture.session_id == session_id)
    with engine.connect() as db:
        return int(db.execute(count).scalar() or 0), int(db.execute(last).scalar() or 0)


def rows_behind(timeline: pd.DataFrame) -> int:
    return int(timeline["tiles"].sum()) if not timeline.empty else 0


def loaded(engine: Engine, session_id: int, since: datetime, upto: int) -> LiveWindow:
    timeline = queries.class_timeline(engine, session_id, since, upto=upto)
    minutes = queries.student_minutes(engine, session_id, since)
    return LiveWindow(session_id, since, timeline, minutes, upto)


def updated(engine: Engine, window: LiveWindow | None, session_id: int, since: datetime) -> LiveWindow:
    """The window of `session_id` from `since`, from `window` (None: none yet) and the captures
    written after it."""
    count, upto = observed(engine, session_id, since)
    if window is None or window.session_id != session_id or since < window.since or upto < window.last_capture:
        return loaded(engine, session_id, since, upto)
    if upto == window.last_capture and since == window.since:
        return window if rows_behind(window.timeline) == count else loaded(engine, session_id, since, upto)
    new = queries.class_timeline(engine, session_id, since, after=window.last_capture, upto=upto)
    timeline = window.timeline[window.timeline["time"] >= since] if not window.timeline.empty else window.timeline
    if not new.empty:
        timeline = pd.concat([timeline, new], ignore_index=True) if not timeline.empty else new
        timeline = timeline.sort_values(["time", "capture_id"], kind="stable", ignore_index=True)
    if rows_behind(timeline) != count:  # rows went (purge, erasure) or came out of order
        return loaded(engine, session_id, since, upto)
    minutes = window.minutes
    if not minutes.empty:
        minutes = minutes[minutes["minute"] >= since]
    if not new.empty:
        first = new["time"].min().floor("min").to_pydatetime()
        fresh = queries.student_minutes(engine, session_id, max(first, since))
        kept = minutes[minutes["minute"] < first] if not minutes.empty else minutes
        minutes = pd.concat([kept, fresh], ignore_index=True) if not kept.empty else fresh
        if not minutes.empty:
            minutes = minutes.sort_values(["participant_id", "minute"], kind="stable", ignore_index=True)
    return LiveWindow(session_id, since, timeline, minutes, upto)


class LiveWindows:
    """One window per (database, session), updated under the session's own lock: two viewers
    of one class wait for one update instead of making two."""

    def __init__(self, kept: int = KEPT):
        self.kept = kept
        self._windows: dict[tuple[str, int], LiveWindow] = {}
        self._locks: dict[tuple[str, int], threading.Lock] = {}
        self._lock = threading.Lock()

    def get(self, engine: Engine, url: str, session_id: int, since: datetime) -> LiveWindow:
        key = (url, session_id)
        with self._lock:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            window = updated(engine, self._windows.get(key), session_id, since)
        with self._lock:
            self._windows.pop(key, None)
            self._windows[key] = window
            while len(self._windows) > self.kept:
                oldest = next(iter(self._windows))
                self._windows.pop(oldest)
                self._locks.pop(oldest, None)
        return window
