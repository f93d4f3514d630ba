"""Realistic synthetic class sessions written straight into the database (tests, benchmarks).

Each student has a slowly drifting expression; some switch their camera off for a while;
optional scripted episodes (a sustained sad stretch, a class-wide surprise) let tests check
that a flag appears exactly when the data warrants it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
from sqlalchemy import Engine, insert

from core.labels import EMOTIONS
from db.models import Capture, ClassSession, Observation, Participant


@dataclass(frozen=True)
class Episode:
    student: int  # index, or -1 for the whole class
    emotion: str  # an emotion, "camera_off", or "away" (head turned from the screen)
    start_min: float
    minutes: float


def generate(
    engine: Engine,
    students: int = 50,
    minutes: float = 180,
    interval_s: float = 5.0,
    episodes: tuple[Episode, ...] = (),
    name: str = "Synthetic lecture",
    start: datetime | None = None,
    status: str = "ended",
    seed: int = 0,
    signals: str = "emotions",
) -> int:
    """Insert a whole session with bulk inserts; returns its id. `signals` "attention": as the
    agent records with --signals attention (head pose, no expression)."""
    rng = np.random.default_rng(seed)
    pose_rng = np.random.default_rng(seed + 1)  # its own draws: the expressions stay as they were
    start = start or datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    steps = int(minutes * 60 / interval_s)
    with engine.begin() as db:
        session_id = db.execute(
            insert(ClassSession).values(
                name=name,
                source="synthetic",
                started_at=start,
                ended_at=start + timedelta(minutes=minutes),
                status=status,
                interval_s=interval_s,
                pseudonymized=False,
                settings={"signals": signals},
            )
        ).inserted_primary_key[0]
        pids = []
        for i in range(students):
            pids.append(
                db.execute(
                    insert(Participant).values(
                        session_id=session_id,
                        key=f"name:student{i}",
                        display_name=f"Student {i + 1:02d}",
                        named=True,
                        first_seen=start,
                        last_seen=start + timedelta(minutes=minutes),
                    )
                ).inserted_primary_key[0]
            )
        times = [start + timedelta(seconds=k * interval_s) for k in range(steps)]
        capture_rows = [
            {
                "session_id": session_id,
                "taken_at": t,
                "tiles_found": students,
                "faces_found": students,
                "total_ms": 150.0,
            }
            for t in times
        ]
        in_order = insert(Capture).returning(Capture.id, sort_by_parameter_order=True)  # ids pair with `times`
        capture_ids = [row[0] for row in db.execute(in_order, capture_rows)]
        base = rng.normal(0, 0.3, (students, len(EMOTIONS)))
        base[:, EMOTIONS.index("neutral")] += 1.5
        base[:, EMOTIONS.index("happy")] += 0.6
        base[:, [EMOTIONS.index(e) for e in ("angry", "disgust", "fear", "sad")]] -= 0.8
        drift = np.zeros_like(base)
        off_start = rng.uniform(0, minutes, students)
        off_length = np.where(rng.random(students) < 0.1, rng.uniform(1, 4, students), 0)
        batch = []
        for k, (t, cid) in enumerate(zip(times, capture_ids)):
            minute = k * interval_s / 60
            drift = 0.97 * drift + rng.normal(0, 0.05, drift.shape)  # mean-reverting wander
            current = base + drift
            off = (minute >= off_start) & (minute < off_start + off_length)
            away = np.zeros(students, bool)
            for ep in episodes:
                if ep.start_min <= minute < ep.start_min + ep.minutes:
                    who = slice(None) if ep.student < 0 else ep.student
                    if ep.emotion == "camera_off":
                        off[who] = True
                    elif ep.emotion == "away":
                        away[who] = True
                    else:
                        current[who, EMOTIONS.index(ep.emotion)] += 4.0
            probs = np.exp(current - current.max(axis=1, keepdims=True))
            probs /= probs.sum(axis=1, keepdims=True)
            for s, pid in enumerate(pids):
                row = {
                    "capture_id": cid,
                    "session_id": session_id,
                    "participant_id": pid,
                    "observed_at": t,
                    "tile_x": 0,
                    "tile_y": 0,
                }
                if off[s]:
                    row.update(
                        state="camera_off",
                        top_emotion=None,
                        **{f"p_{e}": None for e in EMOTIONS},
                        yaw=None,
                        pitch=None,
                        looking=None,
                    )
                else:
                    yaw = float(pose_rng.normal(55 if away[s] else 0, 5))
                    row.update(
                        state="face",
                        top_emotion=EMOTIONS[int(probs[s].argmax())],
                        **{f"p_{e}": float(p) for e, p in zip(EMOTIONS, probs[s])},
                        yaw=yaw,
                        pitch=float(pose_rng.normal(-5, 5)),
                        looking="away" if away[s] else "screen",
                    )
                    if signals == "attention":
                        row.update(top_emotion=None, **{f"p_{e}": None for e in EMOTIONS})
                batch.append(row)
            if len(batch) >= 20000:
                db.execute(insert(Observation), batch)
                batch = []
        if batch:
            db.execute(insert(Observation), batch)
    return session_id
