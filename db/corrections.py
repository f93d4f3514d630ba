"""A teacher's corrections of who is who: rename a participant, merge two that are one student.

Each correction is a row (`NameCorrection`: the agent's key `from_key` is shown as `to_name`
and joins the participant keyed `to_key`), applied at once to what is stored, read by the
running agent before each capture (so the rest of the session follows it), and carried into
the same teacher's next session with the same class list. Each is written to the audit table.
Who may correct which session is the dashboard's check (db.accounts' owner or an admin).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session

from core.student_names import normalize_name
from db.models import ClassSession, NameCorrection, Observation, Participant
from db.retention import record, student_target
from db.store import NAME_LENGTH, storable

CARRIED_BY = "carried from session {}"


class CorrectionError(ValueError):
    """The correction cannot be made; the message is one line for the teacher."""


def rename(engine: Engine, session_id: int, participant_id: int, new_name: str, actor: str) -> None:
    """Show this participant as `new_name` from now on (and in every chart, report and export)."""
    name = storable((new_name or "").strip(), NAME_LENGTH) or ""
    if not normalize_name(name):
        raise CorrectionError("a name needs at least one letter or digit")
    with Session(engine) as db, db.begin():
        participant = _current(db, session_id, participant_id)
        before = participant.display_name
        participant.display_name, participant.named = name, True
        add_correction(db, session_id, participant.key, participant.key, name, actor)
        db.execute(
            update(NameCorrection)
            .where(NameCorrection.session_id == session_id, NameCorrection.to_key == participant.key)
            .values(to_name=name)
        )
        record(
            db,
            actor,
            "rename",
            f"session {session_id} participant {participant_id}",
            {"from": student_target(before), "to": student_target(name)},
        )


def merge(engine: Engine, session_id: int, from_id: int, into_id: int, actor: str) -> int:
    """`from_id` is the same student as `into_id`: its readings move there and its tag joins
    that participant from now on. Returns how many readings moved."""
    if from_id == into_id:
        raise CorrectionError("a student cannot be merged with themselves")
    with Session(engine) as db, db.begin():
        source, target = _current(db, session_id, from_id), _current(db, session_id, into_id)
        moved = (
            db.execute(
                update(Observation).where(Observation.participant_id == source.id).values(participant_id=target.id)
            )
        ).rowcount
        target.first_seen = min(target.first_seen, source.first_seen)
        target.last_seen = max(target.last_seen, source.last_seen)
        target.named = target.named or source.named
        source.merged_into = target.id
        add_correction(db, session_id, source.key, target.key, target.display_name, actor)
        db.execute(
            update(NameCorrection)
            .where(NameCorrection.session_id == session_id, NameCorrection.to_key == source.key)
            .values(to_key=target.key, to_name=target.display_name)
        )
        record(
            db,
            actor,
            "merge",
            f"session {session_id} participant {from_id} into {into_id}",
            {
                "observations": moved,
                "from": student_target(source.display_name),
                "into": student_target(target.display_name),
            },
        )
    return moved


def session_corrections(engine: Engine, session_id: int) -> dict[str, tuple[str, str]]:
    """from_key -> (to_key, to_name) for the agent, the latest correction of each key winning."""
    query = (
        select(NameCorrection.from_key, NameCorrection.to_key, NameCorrection.to_name)
        .where(NameCorrection.session_id == session_id)
        .order_by(NameCorrection.id)
    )
    with engine.connect() as db:
        return {from_key: (to_key, to_name) for from_key, to_key, to_name in db.execute(query)}


def carry_corrections(db: Session, session_id: int, owner_id: int | None, list_digest: str | None) -> int:
    """Copy into a new session the corrections of its teacher's latest earlier session with the
    same class list (tags read by name; a tile tracked by position means nothing next time)."""
    if owner_id is None or list_digest is None:
        return 0
    earlier = db.scalars(
        select(ClassSession.id)
        .where(ClassSession.owner_id == owner_id, ClassSession.id != session_id)
        .order_by(ClassSession.started_at.desc(), ClassSession.id.desc())
    ).all()
    source = next(
        (sid for sid in earlier if (db.get(ClassSession, sid).settings or {}).get("class_list") == list_digest), None
    )
    if source is None:
        return 0
    latest = (
        select(func.max(NameCorrection.id)).where(NameCorrection.session_id == source).group_by(NameCorrection.from_key)
    )
    rows = db.scalars(select(NameCorrection).where(NameCorrection.id.in_(latest))).all()
    carried = [r for r in rows if not r.from_key.startswith("tile:") and not r.to_key.startswith("tile:")]
    for row in carried:
        add_correction(db, session_id, row.from_key, row.to_key, row.to_name, CARRIED_BY.format(source))
    return len(carried)


def _current(db: Session, session_id: int, participant_id: int) -> Participant:
    participant = db.get(Participant, participant_id)
    if participant is None or participant.session_id != session_id or participant.merged_into is not None:
        raise CorrectionError(f"no student {participant_id} in session {session_id}")
    return participant


def add_correction(db: Session, session_id: int, from_key: str, to_key: str, to_name: str, actor: str) -> None:
    db.add(
        NameCorrection(
            session_id=session_id,
            from_key=from_key,
            to_key=to_key,
            to_name=to_name,
            created_by=storable(actor, 200),
            created_at=datetime.now(UTC),
        )
    )
