"""The agent's loop: one capture per interval, written to the database, until told to stop.

APScheduler runs the captures with max_instances=1 and coalesce=True: a capture that
overruns makes the next one skip (counted), never pile up. A failed capture (window gone,
empty frame, database locked) is logged, recorded on a capture row where possible, and the
agent goes on. Results that could not be written are kept (bounded) and retried first.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import cv2
from sqlalchemy.exc import DataError, IntegrityError, OperationalError

from agent.pipeline import CapturePipeline, timed
from agent.screen import CaptureError
from core.analyze import InputError
from db import store
from db.class_list import class_list, list_digest
from db.corrections import session_corrections
from db.retention import session_frames

logger = logging.getLogger(__name__)


def why_unwritten(exc: OperationalError) -> str:
    """The database's own reason in a few words: a full disk is not a lock."""
    text = str(exc.orig).lower()
    if "full" in text or "no space" in text:
        return "the disk is full"
    if "locked" in text or "busy" in text:
        return "the database is locked by another program"
    return "the database is unavailable"


def keep_frame(folder: Path, taken_at: datetime, frame) -> None:
    """Save a frame readable by its owner only (it shows faces and names), in a folder only
    its owner may list."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    ok, data = cv2.imencode(".png", frame)
    if not ok:
        raise CaptureError("the frame could not be encoded to be kept")
    path = folder / f"{taken_at:%Y%m%dT%H%M%S%f}.png"
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(data.tobytes())


@dataclass
class AgentStats:
    captures: int = 0
    failed: int = 0
    skipped: int = 0
    unwritten: int = 0
    students: set[str] = field(default_factory=set)
    last_ms: float = 0.0
    last_faces: int = 0
    last_error: str | None = None

    def line(self) -> str:
        text = (
            f"captures {self.captures + self.failed} ({self.failed} failed) | students seen {len(self.students)}"
            f" | faces now {self.last_faces} | last {self.last_ms:.0f} ms | skipped {self.skipped}"
        )
        if self.unwritten:
            text += f" | waiting to write {self.unwritten}"
        return text + (f" | {self.last_error}" if self.last_error else "")


class Agent:
    def __init__(self, pipeline: CapturePipeline, engine, session_id: int, keep_frames: Path | None = None):
        self.pipeline, self.engine, self.session_id = pipeline, engine, session_id
        self.keep_frames = keep_frames
        self.stats = AgentStats()
        self.stop_event = threading.Event()
        self.participant_ids: dict[str, int] = {}
        self.participant_names: dict[str, str] = {}
        self.participant_seen: dict[str, datetime] = {}
        self.pending = deque(maxlen=500)

    def handle(self, taken_at: datetime, frame, timings: dict[str, float]) -> None:
        """Process one frame and write it; any failure is recorded and swallowed."""
        try:
            if isinstance(frame, Exception):
                raise frame
            if frame is None or frame.size == 0:
                raise CaptureError("empty or unreadable frame")
            self.follow_corrections()
            with timed(timings, "total"):
                result = self.pipeline.process(frame, taken_at, timings)
            if self.keep_frames is not None:
                keep_frame(session_frames(self.keep_frames, self.session_id), taken_at, frame)
        except Exception as exc:  # one bad frame must not stop a lecture's worth of captures
            self._record_failure(taken_at, exc, timings)
            return
        self.pending.append(result)
        self._flush()
        self.stats.captures += 1
        self.stats.last_ms = timings.get("total", 0.0) + timings.get("grab", 0.0)
        self.stats.last_faces = result.faces_found
        self.stats.students.update(t.key for t in result.tiles)
        self.stats.last_error = None

    def follow_corrections(self) -> None:
        """The teacher's renames, merges and class list (set on the dashboard) hold from the next
        capture on."""
        tracker = self.pipeline.tracker
        try:
            tracker.corrections = session_corrections(self.engine, self.session_id)
            digest = list_digest(self.engine, self.session_id)
            if digest != (tracker.roster.digest if tracker.roster is not None else None):
                tracker.roster, tracker.listed_rows = class_list(self.engine, self.session_id), {}
                logger.info("class list of %d students from the dashboard", len(tracker.roster or ()))
        except OperationalError as exc:  # a locked database: what is known so far stands
            logger.warning("could not read the name corrections: %s", exc.orig)

    def _flush(self) -> None:
        while self.pending:
            result = self.pending[0]
            try:
                store.write_capture(
                    self.engine, self.session_id, result, self.participant_ids, self.participant_names,
                    self.participant_seen,
                )  # fmt: skip
            except OperationalError as exc:
                self.stats.unwritten = len(self.pending)
                self.stats.last_error = f"{why_unwritten(exc)}, will retry ({exc.orig})"
                logger.warning("could not write capture of %s: %s", result.taken_at, exc.orig)
                return
            except (DataError, IntegrityError) as exc:  # this capture's data, not the database: never retried
                self.pending.popleft()
                self._record_failure(result.taken_at, ValueError(f"database refused the capture: {exc.orig}"), {})
                continue
            self.pending.popleft()
        self.stats.unwritten = 0

    def _record_failure(self, taken_at: datetime, exc: Exception, timings: dict[str, float]) -> None:
        message = (
            str(exc) if isinstance(exc, CaptureError | InputError | ValueError) else f"{type(exc).__name__}: {exc}"
        )
        self.stats.failed += 1
        self.stats.last_error = message
        logger.warning("capture at %s failed: %s", taken_at, message)
        try:
            store.write_failed_capture(self.engine, self.session_id, taken_at, message, timings)
        except OperationalError as exc:
            logger.warning("could not record the failed capture either (%s)", why_unwritten(exc))

    def capture_live(self, source) -> None:
        taken_at, timings = datetime.now(UTC), {}
        try:
            with timed(timings, "grab"):
                frame = source.grab()
        except CaptureError as exc:
            self._record_failure(taken_at, exc, timings)
            return
        self.handle(taken_at, frame, timings)

    def run_live(self, source, interval: float, on_status=None) -> None:
        from apscheduler.events import EVENT_JOB_MAX_INSTANCES
        from apscheduler.schedulers.background import BackgroundScheduler

        scheduler = BackgroundScheduler(timezone="UTC")

        def skipped(_event):
            self.stats.skipped += 1

        scheduler.add_listener(skipped, EVENT_JOB_MAX_INSTANCES)
        scheduler.add_job(
            self.capture_live,
            "interval",
            args=[source],
            seconds=interval,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=None,
            next_run_time=datetime.now(UTC),
        )
        scheduler.start()
        try:
            while not self.stop_event.wait(0.5):
                if on_status:
                    on_status(self.stats)
        finally:
            scheduler.shutdown(wait=True)
            self.drain()

    def run_offline(self, frames, on_status=None) -> None:
        for taken_at, frame in frames:
            if self.stop_event.is_set():
                break
            self.handle(taken_at, frame, {})
            if on_status:
                on_status(self.stats)
        self.drain()

    def drain(self, patience_s: float = 60.0) -> None:
        """Before exiting, keep retrying captures that could not be written yet."""
        deadline = time.monotonic() + patience_s
        self._flush()
        while self.pending and time.monotonic() < deadline:
            time.sleep(1.0)
            self._flush()
        if self.pending:
            logger.error("%d capture(s) could not be written: %s", len(self.pending), self.stats.last_error)
