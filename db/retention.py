"""Retention and erasure: what a school holding data about minors must be able to do.

- purge: sessions older than the retention period go, with everything that hangs off them
  (observations, captures, participants); SQLite then gives the space back (VACUUM).
- access and erasure requests: every row of one student, in every session, found under every
  spelling the agent stored (Zoom's truncation included), exported as JSON or erased.

Each is recorded in audit_event: who, when, what, and how many rows (never the rows).
"""

from __future__ import annotations

import getpass
import hashlib
import hmac
import os
import re
import secrets
import shutil
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, delete, select, update
from sqlalchemy.orm import Session

from core.student_names import normalize_name, same_student
from db.models import (
    AuditEvent,
    Capture,
    ClassListEntry,
    ClassSession,
    NameCorrection,
    Observation,
    Participant,
    ShareLink,
)

DEFAULT_RETENTION_DAYS = 180  # a school term and a half; --retention-days changes it, 0 keeps all
AGE = re.compile(r"^\s*(\d+)\s*([dwh])\s*$")
AGE_UNITS = {"d": "days", "w": "weeks", "h": "hours"}


class RetentionError(ValueError):
    """A request that cannot be carried out as written; one line for the user."""


@dataclass
class Removed:
    """Rows removed, per table."""

    sessions: int = 0
    participants: int = 0
    captures: int = 0
    observations: int = 0
    list_entries: int = 0  # class-list lines naming the student


MAX_AGE = timedelta(days=36500)  # a century: beyond it, dates stop being dates


def parse_age(text: str) -> timedelta:
    """ "30d", "12w" or "48h" as a timedelta."""
    match = AGE.match(text)
    if not match or int(match.group(1)) <= 0:
        raise RetentionError(f"not an age: {text!r} (e.g. 30d, 12w, 48h)")
    try:
        age = timedelta(**{AGE_UNITS[match.group(2)]: int(match.group(1))})
    except OverflowError:
        age = timedelta.max
    if age > MAX_AGE:
        raise RetentionError(f"an age of at most {MAX_AGE.days} days, not {text!r}")
    return age


def current_actor() -> str:
    """Who runs a command: the operating system's user (the dashboard passes its signed-in user)."""
    try:
        return f"os:{getpass.getuser()}"
    except (KeyError, OSError):
        return "os:unknown"


def purge_older_than(engine: Engine, cutoff: datetime, actor: str | None = None) -> Removed:
    """Remove the sessions started before `cutoff` (a running one stays) and all their rows."""
    with Session(engine) as db, db.begin():
        ids = db.scalars(
            select(ClassSession.id).where(ClassSession.started_at < cutoff, ClassSession.status != "running")
        ).all()
        removed = delete_sessions(db, list(ids))
        record(db, actor, "purge", f"sessions started before {cutoff.astimezone(UTC):%Y-%m-%d %H:%M} UTC", removed)
    if removed.sessions:
        reclaim_space(engine)
    return removed


def purge_expired(engine: Engine, retention_days: int, actor: str = "retention") -> Removed:
    """The automatic purge at start-up; retention_days 0 keeps everything."""
    if retention_days <= 0:
        return Removed()
    return purge_older_than(engine, datetime.now(UTC) - timedelta(days=retention_days), actor)


def session_frames(root: str | Path, session_id: int) -> Path:
    """Where `--keep-frames ROOT` keeps one session's frames: a folder per session, so that a
    purge or an erasure can remove exactly the pictures of the sessions it touches."""
    return Path(root) / f"session-{session_id}"


def remove_frames(db: Session, session_ids: list[int]) -> None:
    """Delete the kept frames of these sessions (a frame shows every student of its class, so
    an erasure removes the frames of each session the student was in)."""
    rows = db.execute(select(ClassSession.id, ClassSession.settings).where(ClassSession.id.in_(session_ids)))
    for session_id, settings in rows:
        root = (settings or {}).get("keep_frames")
        if isinstance(root, str) and root:
            shutil.rmtree(session_frames(root, session_id), ignore_errors=True)


def delete_sessions(db: Session, ids: list[int]) -> Removed:
    """Delete the sessions and what hangs off them, children first (no database's cascade is
    relied on: SQLite enforces foreign keys only when asked to), their kept frames too."""
    if not ids:
        return Removed()
    remove_frames(db, ids)
    db.execute(delete(ShareLink).where(ShareLink.session_id.in_(ids)))
    db.execute(delete(ClassListEntry).where(ClassListEntry.session_id.in_(ids)))
    db.execute(delete(NameCorrection).where(NameCorrection.session_id.in_(ids)))
    db.execute(update(Participant).where(Participant.session_id.in_(ids)).values(merged_into=None))
    return Removed(
        observations=db.execute(delete(Observation).where(Observation.session_id.in_(ids))).rowcount,
        captures=db.execute(delete(Capture).where(Capture.session_id.in_(ids))).rowcount,
        participants=db.execute(delete(Participant).where(Participant.session_id.in_(ids))).rowcount,
        sessions=db.execute(delete(ClassSession).where(ClassSession.id.in_(ids))).rowcount,
    )


def delete_session_by(engine: Engine, session_id: int, actor: str) -> Removed:
    """Delete one session on its owner's (or an admin's) request, recorded in the audit table."""
    with Session(engine) as db, db.begin():
        removed = delete_sessions(db, [session_id])
        record(db, actor, "delete_session", f"session {session_id}", removed)
    reclaim_space(engine)
    return removed


def reclaim_space(engine: Engine) -> None:
    """SQLite keeps deleted pages in its file until VACUUM (run outside a transaction), and in
    WAL mode the file shrinks once the log is checkpointed."""
    if engine.dialect.name != "sqlite":
        return  # PostgreSQL's autovacuum reuses the space
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql("VACUUM")
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


def student_participants(db: Session, name: str, owner: int | None = None) -> list[Participant]:
    """Every participant row stored for this student, under any spelling of the name; with an
    owner, only in that teacher's sessions (a school holds many classes with many Anas)."""
    if not normalize_name(name):
        raise RetentionError(f"not a name: {name!r}")
    query = select(Participant).order_by(Participant.session_id, Participant.id)
    if owner is not None:
        query = query.join(ClassSession, ClassSession.id == Participant.session_id).where(
            ClassSession.owner_id == owner
        )
    rows = db.scalars(query).all()
    return [p for p in rows if same_student(p.display_name, name)]


def student_list_entries(db: Session, name: str, owner: int | None = None) -> list[ClassListEntry]:
    """The class-list lines that name this student (by name, or by the student number alone)."""
    query = select(ClassListEntry).order_by(ClassListEntry.session_id, ClassListEntry.position)
    if owner is not None:
        query = query.join(ClassSession, ClassSession.id == ClassListEntry.session_id).where(
            ClassSession.owner_id == owner
        )
    wanted = name.strip()
    return [e for e in db.scalars(query).all() if same_student(e.name, name) or e.student_id == wanted]


def export_student(engine: Engine, name: str, actor: str | None = None, owner: int | None = None) -> dict:
    """All that is stored about one student, for an access request (JSON-ready)."""
    with Session(engine) as db, db.begin():
        participants = student_participants(db, name, owner)
        sessions = []
        for participant in participants:
            session = db.get(ClassSession, participant.session_id)
            observations = db.scalars(
                select(Observation)
                .where(Observation.participant_id == participant.id)
                .order_by(Observation.observed_at)
            ).all()
            sessions.append(
                {
                    "session": session.name,
                    "started_at": session.started_at.isoformat(),
                    "shown_as": participant.display_name,
                    "observations": [observation_record(o) for o in observations],
                }
            )
        listed = [
            {"session": db.get(ClassSession, e.session_id).name, "name": e.name, "student_id": e.student_id}
            for e in student_list_entries(db, name, owner)
        ]
        total = sum(len(s["observations"]) for s in sessions)
        record(db, actor, "export", student_target(name), {"participants": len(participants), "observations": total})
    return {
        "student": name,
        "exported_at": datetime.now(UTC).isoformat(),
        "sessions": sessions,
        "class_lists": listed,
    }


def observation_record(o: Observation) -> dict:
    from db.models import PROBABILITY_COLUMNS

    return {
        "observed_at": o.observed_at.isoformat(),
        "state": o.state,
        "top_emotion": o.top_emotion,
        "uncertain": o.uncertain,
        **{column[2:]: getattr(o, column) for column in PROBABILITY_COLUMNS},
        "yaw": o.yaw,
        "pitch": o.pitch,
        "looking": o.looking,
    }


def erase_student(engine: Engine, name: str, actor: str | None = None, owner: int | None = None) -> Removed:
    """Delete every observation and participant row of one student (the misread tags merged
    into them too), the class-list lines naming them and the corrections about them, for an
    erasure request."""
    with Session(engine) as db, db.begin():
        found = student_participants(db, name, owner)
        if found:  # and the misread tags a teacher merged into them
            merged = select(Participant).where(Participant.merged_into.in_([p.id for p in found]))
            found += db.scalars(merged).all()
        ids = [p.id for p in found]
        removed = Removed()
        if ids:
            for participant in found:
                db.execute(
                    delete(NameCorrection).where(
                        NameCorrection.session_id == participant.session_id,
                        (NameCorrection.from_key == participant.key) | (NameCorrection.to_key == participant.key),
                    )
                )
            db.execute(update(Participant).where(Participant.id.in_(ids)).values(merged_into=None))
            remove_frames(db, sorted({p.session_id for p in found}))
            removed.observations = db.execute(delete(Observation).where(Observation.participant_id.in_(ids))).rowcount
            removed.participants = db.execute(delete(Participant).where(Participant.id.in_(ids))).rowcount
        entries = [e.id for e in student_list_entries(db, name, owner)]
        if entries:
            removed.list_entries = db.execute(delete(ClassListEntry).where(ClassListEntry.id.in_(entries))).rowcount
        record(db, actor, "erase", student_target(name), removed)
    if removed.participants or removed.list_entries:
        reclaim_space(engine)
    return removed


AUDIT_KEY_ENV = "CLASSMOOD_AUDIT_KEY"  # a school's machines share one key to compare audit entries


def audit_key() -> bytes:
    """The key of the audit log's name digests: $CLASSMOOD_AUDIT_KEY, else a random key made
    once in the user's config folder (readable by its owner only). Kept out of the database:
    a plain hash of a name is reversed by hashing the class list."""
    if os.environ.get(AUDIT_KEY_ENV):
        return os.environ[AUDIT_KEY_ENV].encode()
    from platformdirs import user_config_path

    path = user_config_path("classmood") / "audit.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "w") as file:
                file.write(secrets.token_hex(32))
        except FileExistsError:
            pass  # another process made it first
    return path.read_text().strip().encode()


def student_target(name: str) -> str:
    """How the audit log names a student: a keyed digest, so that an erasure does not keep the
    name and the log alone cannot be matched against a class list."""
    digest = hmac.new(audit_key(), normalize_name(name).encode(), hashlib.sha256).hexdigest()[:16]
    return f"student hmac:{digest}"


def record(db: Session, actor: str | None, action: str, target: str, detail) -> None:
    from db.store import storable

    counts = asdict(detail) if isinstance(detail, Removed) else dict(detail)
    actor = storable(actor or current_actor(), AuditEvent.__table__.c.actor.type.length)
    target = storable(target, AuditEvent.__table__.c.target.type.length)  # a 400 KB "username" is cut
    db.add(AuditEvent(at=datetime.now(UTC), actor=actor, action=action, target=target, detail=counts))
