"""What the dashboard asks the database, aggregated by the database (GROUP BY), not in Python.

Works on SQLite and PostgreSQL: the only dialect-specific piece is the minute bucket.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import pandas as pd
from sqlalchemy import Engine, case, func, literal_column, select
from sqlalchemy.orm import Session

from core.flags import MinuteSeries
from core.labels import EMOTIONS, NEGATIVE, VALENCE
from dashboard import clock
from db.models import AuditEvent, Capture, ClassSession, Observation, Participant

P = {name: getattr(Observation, f"p_{name}") for name in EMOTIONS}
VALENCE_EXPR = sum(P[name] * VALENCE[name] for name in EMOTIONS)
NEGATIVE_EXPR = sum(P[name] for name in EMOTIONS if name in NEGATIVE)
IS_FACE = case((Observation.state == "face", 1), else_=0)
IS_OFF = case((Observation.state == "camera_off", 1), else_=0)
CONFIDENT = Observation.uncertain.is_not(True)  # guesses stay out of the means the flags use
IS_READ = case(((Observation.state == "face") & CONFIDENT, 1), else_=0)
# Camera on: looking away, or no face in front of the camera; NULL where no pose is known.
IS_AWAY = case(
    (Observation.state == "no_face", 1), (Observation.looking == "away", 1), (Observation.looking == "screen", 0)
)
AT_SCREEN = case((Observation.looking == "screen", 1), else_=0)
WATCHED = case((Observation.state == "no_face", 1), (Observation.looking.is_not(None), 1), else_=0)


def confident(expression):
    """The expression for confident readings, NULL for guesses (AVG skips NULLs)."""
    return case((CONFIDENT, expression), else_=None)


# What the attention rules need per minute (core.flags.MinuteSeries), per student or per class.
MINUTE_MEASURES = (
    func.avg(IS_FACE).label("present"),
    func.avg(IS_OFF).label("camera_off"),
    func.avg(confident(NEGATIVE_EXPR)).label("negative"),
    func.avg(confident(VALENCE_EXPR)).label("valence"),
    func.avg(confident(P["neutral"])).label("neutral"),
    func.avg(confident(P["fear"] + P["surprise"] + P["sad"])).label("surprise_fear_sad"),
    func.sum(IS_FACE).label("faces"),
    func.sum(IS_READ).label("read"),
    func.avg(IS_AWAY).label("away"),
)


def minute_bucket(engine: Engine, column):
    if engine.dialect.name == "sqlite":
        return func.substr(column, 1, 16)  # 'YYYY-MM-DD HH:MM'
    return func.date_trunc(literal_column("'minute'"), column)


def numeric(frame: pd.DataFrame, skip: tuple[str, ...]) -> pd.DataFrame:
    """Averages arrive as Decimal (PostgreSQL) or object columns; charts and rules want floats."""
    for column in frame.columns:
        if column not in skip:
            frame[column] = pd.to_numeric(frame[column], errors="coerce").astype(float)
    return frame


def to_time(value) -> datetime:
    """A stored time, aware, in UTC (what the queries compare against)."""
    return clock.utc(value if isinstance(value, datetime) else datetime.fromisoformat(str(value)))


@dataclass(frozen=True)
class SessionInfo:
    id: int
    name: str
    status: str
    started_at: datetime
    ended_at: datetime | None
    interval_s: float
    source: str
    settings: dict = field(default_factory=dict, compare=False)


def owned_by(query, owner: int | None):
    """Only the sessions of one teacher's account; None: all sessions (an admin, or no accounts)."""
    return query if owner is None else query.where(ClassSession.owner_id == owner)


def sessions(engine: Engine, owner: int | None = None) -> list[SessionInfo]:
    query = owned_by(select(ClassSession), owner).order_by(ClassSession.started_at.desc(), ClassSession.id.desc())
    with Session(engine) as db:
        rows = db.scalars(query).all()
        return [info_of(r) for r in rows]


def session(engine: Engine, session_id: int | None, owner: int | None = None) -> SessionInfo | None:
    """The given session, or the newest one when None (asked on every live refresh: one row, not all)."""
    query = select(ClassSession).order_by(ClassSession.started_at.desc(), ClassSession.id.desc()).limit(1)
    if session_id is not None:
        query = select(ClassSession).where(ClassSession.id == session_id)
    query = owned_by(query, owner)
    with Session(engine) as db:
        r = db.scalars(query).first()
        return r and info_of(r)


def info_of(row: ClassSession) -> SessionInfo:
    """A session row as pages show it: its times in the teacher's zone."""
    return SessionInfo(
        row.id,
        row.name,
        row.status,
        clock.local(row.started_at),
        clock.local(row.ended_at),
        row.interval_s,
        row.source,
        dict(row.settings or {}),
    )


def window_clauses(session_id: int, since: datetime | None) -> list:
    clauses = [Observation.session_id == session_id]
    return clauses if since is None else [*clauses, Observation.observed_at >= clock.utc(since)]


def window(query, session_id: int, since: datetime | None):
    return query.where(*window_clauses(session_id, since))


def class_timeline(
    engine: Engine, session_id: int, since: datetime | None = None, after: int = 0, upto: int | None = None
) -> pd.DataFrame:
    """One row per capture: time, counts, and mean probabilities over the confident readings
    (`read` of the `faces`; the rest were guesses). `after` and `upto` bound the capture ids
    (dashboard.live_window asks only for the captures it has not seen)."""
    columns = [
        Observation.capture_id,
        func.min(Observation.observed_at).label("time"),
        func.count().label("tiles"),
        func.sum(IS_FACE).label("faces"),
        func.sum(IS_READ).label("read"),
        func.sum(IS_OFF).label("camera_off"),
        func.sum(AT_SCREEN).label("at_screen"),
        func.sum(WATCHED).label("watched"),
        func.avg(confident(VALENCE_EXPR)).label("valence"),
        *[func.avg(confident(P[name])).label(name) for name in EMOTIONS],
    ]
    if after or upto is not None:  # a few captures, found by id: not a scan of the window's rows
        captures = select(Capture.id).where(Capture.session_id == session_id, Capture.id > after)
        captures = captures if upto is None else captures.where(Capture.id <= upto)
        captures = captures if since is None else captures.where(Capture.taken_at >= clock.utc(since))
        query = select(*columns).where(Observation.capture_id.in_(captures)).group_by(Observation.capture_id)
    else:
        query = window(select(*columns), session_id, since).group_by(Observation.capture_id)
    with engine.connect() as db:
        in_time = query.order_by(func.min(Observation.observed_at), Observation.capture_id)  # late writes too
        frame = pd.DataFrame(db.execute(in_time).mappings().all())
    if frame.empty:
        return frame
    frame["time"] = clock.local_series(frame["time"])
    return numeric(frame, ("time",))


def audit_mark(engine: Engine) -> int:
    """The newest audit event's id (0 when none): every purge, erasure and deletion writes one,
    so caches of what was shown key on it and drop data that is gone."""
    with engine.connect() as db:
        return int(db.execute(select(func.max(AuditEvent.id))).scalar() or 0)


def failing_since(engine: Engine, session_id: int) -> tuple[datetime | None, str, int] | None:
    """When the latest capture failed: (the last good capture's time or None, the latest error,
    failures since); None while captures succeed. Read from the capture table's index."""
    latest = (
        select(Capture.error)
        .where(Capture.session_id == session_id)
        .order_by(Capture.taken_at.desc(), Capture.id.desc())
        .limit(1)
    )
    with engine.connect() as db:
        error = db.execute(latest).scalar()
        if error is None:
            return None
        good = db.execute(
            select(func.max(Capture.taken_at)).where(Capture.session_id == session_id, Capture.error.is_(None))
        ).scalar()
        since = select(func.count()).where(Capture.session_id == session_id, Capture.error.is_not(None))
        if good is not None:
            since = since.where(Capture.taken_at > good)
        return (to_time(good) if good else None), str(error), int(db.execute(since).scalar() or 0)


def capture_errors(engine: Engine, session_id: int) -> tuple[int, int, datetime | None]:
    """(captures, failed captures, time of the last capture)."""
    query = select(func.count(), func.sum(case((Capture.error.is_not(None), 1), else_=0)), func.max(Capture.taken_at))
    with engine.connect() as db:
        total, failed, last = db.execute(query.where(Capture.session_id == session_id)).one()
    return int(total or 0), int(failed or 0), to_time(last) if last else None


def student_minutes(engine: Engine, session_id: int, since: datetime | None = None) -> pd.DataFrame:
    """Per student per minute: share with a face, negative share, valence, dominant states."""
    bucket = minute_bucket(engine, Observation.observed_at).label("minute")
    query = (
        select(Observation.participant_id, bucket, func.count().label("n"), *MINUTE_MEASURES)
        .where(*window_clauses(session_id, since))
        .group_by(Observation.participant_id, bucket)
        .order_by(Observation.participant_id, bucket)
    )
    return fetch_minutes(engine, query)


def class_minutes(engine: Engine, session_id: int, since: datetime | None = None) -> pd.DataFrame:
    bucket = minute_bucket(engine, Observation.observed_at).label("minute")
    query = select(bucket, *MINUTE_MEASURES).where(*window_clauses(session_id, since)).group_by(bucket).order_by(bucket)
    return fetch_minutes(engine, query)


def fetch_minutes(engine: Engine, query) -> pd.DataFrame:
    """Run a per-minute query; minute buckets come back as text (SQLite) or timestamps (PostgreSQL)."""
    with engine.connect() as db:
        frame = pd.DataFrame(db.execute(query).mappings().all())
    if not frame.empty:
        frame["minute"] = clock.local_series(frame["minute"])
        numeric(frame, ("minute", "participant_id"))
    return frame


def fold_minutes(timeline: pd.DataFrame) -> pd.DataFrame:
    """class_minutes() computed from class_timeline() rows (per capture) instead of the database.

    Each capture's means are weighted by how many rows they average (confident readings for
    probabilities, tiles for presence), so the result equals the database's mean over
    observations: the live view and the report flag the same minutes.
    """
    if timeline.empty:
        return timeline
    frame = timeline.assign(
        minute=timeline["time"].dt.floor("min"),
        surprise_fear_sad=timeline["surprise"] + timeline["fear"] + timeline["sad"],
        negative=timeline[[e for e in EMOTIONS if e in NEGATIVE]].sum(axis=1, min_count=1),
    )
    means = ["negative", "valence", "neutral", "surprise_fear_sad"]
    sums = frame[means].multiply(frame["read"], axis=0).fillna(0.0)
    sums[["faces", "read", "tiles", "minute"]] = frame[["faces", "read", "tiles", "minute"]]
    sums = sums.groupby("minute", as_index=False).sum()
    folded = sums[means].div(sums["read"].where(sums["read"] > 0), axis=0)
    folded.insert(0, "present", sums["faces"] / sums["tiles"])
    folded.insert(0, "minute", sums["minute"])
    folded[["faces", "read"]] = sums[["faces", "read"]]
    return folded


def as_series(frame: pd.DataFrame) -> MinuteSeries:
    return next(iter(series_by(frame, None).values()))


def series_by(frame: pd.DataFrame, key: str | None = "participant_id") -> dict[int | None, MinuteSeries]:
    """The minute rows as one MinuteSeries per `key` value (rows sorted by it, as the minute
    queries return them), or one for the whole frame when key is None: the columns are turned
    into arrays once, not per student (the live view does this for every class every capture)."""
    if frame.empty:
        return {}
    if key is not None and not frame[key].is_monotonic_increasing:
        frame = frame.sort_values(key, kind="stable")

    def column(name):
        return frame[name].to_numpy(dtype=float) if name in frame else None

    columns = ("present", "negative", "valence", "neutral", "surprise_fear_sad", "faces", "read", "away")
    arrays = [column(name) for name in columns]
    minutes = list(frame["minute"].dt.to_pydatetime())
    if key is None:
        return {None: MinuteSeries(minutes, *arrays)}
    keys = frame[key].to_numpy()
    starts = [0, *np.flatnonzero(keys[1:] != keys[:-1]) + 1, len(keys)]
    return {
        int(keys[a]): MinuteSeries(minutes[a:b], *[None if v is None else v[a:b] for v in arrays])
        for a, b in zip(starts[:-1], starts[1:])
    }


def participants(engine: Engine, session_id: int) -> dict[int, dict]:
    """The session's students (not those a teacher merged into another), by name."""
    query = (
        select(Participant)
        .where(Participant.session_id == session_id, Participant.merged_into.is_(None))
        .order_by(Participant.display_name)
    )
    with Session(engine) as db:
        rows = db.scalars(query).all()
        return {
            p.id: {
                "name": p.display_name,
                "named": p.named,
                "listed": p.listed,
                "first_seen": clock.local(p.first_seen),
                "last_seen": clock.local(p.last_seen),
            }
            for p in rows
        }


def latest_states(engine: Engine, session_id: int) -> dict[int, dict]:
    """Each student's observation in the session's latest capture with tiles (found by the
    capture table's index, not by the session's observations)."""
    last_capture = (
        select(func.max(Capture.id)).where(Capture.session_id == session_id, Capture.tiles_found > 0).scalar_subquery()
    )
    columns = (
        Observation.participant_id,
        Observation.state,
        Observation.top_emotion,
        Observation.uncertain,
        Observation.looking,
    )
    with engine.connect() as db:
        rows = db.execute(select(*columns).where(Observation.capture_id == last_capture)).all()
    return {
        pid: {"state": state, "top": top, "uncertain": uncertain, "looking": looking}
        for pid, state, top, uncertain, looking in rows
    }


def away_since(engine: Engine, session_id: int, participant_ids: list[int]) -> dict[int, datetime]:
    """For students now looking away: when their current run of "away" readings began (the
    first away reading after their last one at the screen)."""
    if not participant_ids:
        return {}
    mine = (Observation.session_id == session_id, Observation.participant_id.in_(participant_ids))
    last_screen = (
        select(Observation.participant_id, func.max(Observation.observed_at).label("at"))
        .where(*mine, Observation.looking == "screen")
        .group_by(Observation.participant_id)
        .subquery()
    )
    query = (
        select(Observation.participant_id, func.min(Observation.observed_at))
        .outerjoin(last_screen, last_screen.c.participant_id == Observation.participant_id)
        .where(*mine, Observation.looking == "away")
        .where((last_screen.c.at.is_(None)) | (Observation.observed_at > last_screen.c.at))
        .group_by(Observation.participant_id)
    )
    with engine.connect() as db:
        return {pid: clock.local(to_time(at)) for pid, at in db.execute(query).all()}


def student_observations(engine: Engine, session_id: int, participant_id: int) -> pd.DataFrame:
    query = (
        select(
            Observation.observed_at.label("time"),
            Observation.state,
            VALENCE_EXPR.label("valence"),
            Observation.top_emotion,
            Observation.uncertain,
            Observation.looking,
            Observation.yaw,
            Observation.pitch,
            *[P[name].label(name) for name in EMOTIONS],
        )
        .where(Observation.session_id == session_id, Observation.participant_id == participant_id)
        .order_by(Observation.observed_at)
    )
    with engine.connect() as db:
        frame = pd.DataFrame(db.execute(query).mappings().all())
    if not frame.empty:
        frame["time"] = clock.local_series(frame["time"])
        numeric(frame, ("time", "state", "top_emotion", "uncertain", "looking"))
    return frame


def student_summary(engine: Engine, session_id: int) -> pd.DataFrame:
    """Per student: observations, shares of face/camera-off/at the screen (of the captures with the
    camera on and a pose read or no face), mean valence and probabilities."""
    query = (
        select(
            Participant.id.label("participant_id"),
            Participant.display_name.label("student"),
            func.count().label("observations"),
            func.avg(IS_FACE).label("face_share"),
            func.avg(IS_OFF).label("camera_off_share"),
            (1 - func.avg(IS_AWAY)).label("at_screen_share"),
            func.avg(VALENCE_EXPR).label("mean_valence"),
            *[func.avg(P[name]).label(name) for name in EMOTIONS],
            *[func.avg(confident(P[name])).label(f"confident_{name}") for name in EMOTIONS],
        )
        .join(Participant, Participant.id == Observation.participant_id)
        .where(Observation.session_id == session_id)
        .group_by(Participant.id, Participant.display_name)
        .order_by(Participant.display_name)
    )
    with engine.connect() as db:
        frame = pd.DataFrame(db.execute(query).mappings().all())
    if not frame.empty:
        numeric(frame, ("participant_id", "student"))
        frame["observations"] = frame["observations"].astype(int)
        # "Most shown" from the confident readings only: a student read only by guesses has none
        sure = frame[[f"confident_{name}" for name in EMOTIONS]].set_axis(list(EMOTIONS), axis=1)
        frame["dominant"] = sure.fillna(-1).idxmax(axis=1).where(sure.notna().any(axis=1), "")
        frame = frame.drop(columns=[f"confident_{name}" for name in EMOTIONS])
    return frame


def emotion_distribution(engine: Engine, session_id: int) -> dict[str, float]:
    query = select(*[func.avg(P[name]).label(name) for name in EMOTIONS]).where(
        Observation.session_id == session_id, Observation.state == "face"
    )
    with engine.connect() as db:
        row = db.execute(query).mappings().one()
    return {name: float(row[name] or 0.0) for name in EMOTIONS}


def raw_observations(engine: Engine, session_id: int, expressions: bool = True):
    """All observations of a session, oldest first, as (header, row iterator) for CSV export;
    `expressions` False leaves every expression column out (--signals attention)."""
    columns = {
        "time": Observation.observed_at,
        "student": Participant.display_name,
        "state": Observation.state,
        "top_emotion": Observation.top_emotion,
        "uncertain": Observation.uncertain,
        **{f"p_{n}": P[n] for n in EMOTIONS},
        "face_x": Observation.face_x,
        "face_y": Observation.face_y,
        "face_w": Observation.face_w,
        "face_h": Observation.face_h,
        "yaw": Observation.yaw,
        "pitch": Observation.pitch,
        "looking": Observation.looking,
    }
    if not expressions:
        columns = {
            k: v for k, v in columns.items() if k not in ("top_emotion", "uncertain", *[f"p_{n}" for n in EMOTIONS])
        }
    query = (
        select(*columns.values())
        .join(Participant, Participant.id == Observation.participant_id)
        .where(Observation.session_id == session_id)
        .order_by(Observation.observed_at, Participant.display_name)
    )

    def rows():
        with engine.connect() as db:
            for row in db.execute(query.execution_options(yield_per=5000)):
                yield [clock.stamp(row[0]), *row[1:]]

    return list(columns), rows()
