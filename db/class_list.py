"""A session's class list after the agent started: set from the dashboard (pasted or uploaded),
applied to the students already stored, and picked up by the running agent.

The agent matches each new capture's tags to the list itself (core.roster); here the students
stored so far are matched once, by the name each is shown under, and a correction row makes the
list's key for that student join the participant already there.
"""

from __future__ import annotations

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from core.roster import Roster, Student, match_roster
from core.student_names import plain_key
from db.corrections import CorrectionError, add_correction
from db.models import ClassListEntry, ClassSession, Participant
from db.retention import record
from db.store import NAME_LENGTH, keep_class_list, storable


def set_class_list(engine: Engine, session_id: int, roster: Roster, actor: str) -> tuple[int, int]:
    """Replace the session's class list; returns (students stored so far now named from it,
    those that matched nobody)."""
    with Session(engine) as db, db.begin():
        session = db.get(ClassSession, session_id)
        if session is None:
            raise CorrectionError(f"no session {session_id}")
        if session.pseudonymized:
            raise CorrectionError("this session stores no names (pseudonymized), so there is nothing to match")
        keep_class_list(db, session, roster)
        named = db.scalars(
            select(Participant).where(
                Participant.session_id == session_id, Participant.named, Participant.merged_into.is_(None)
            )
        ).all()
        matched = match_roster([p.display_name for p in named], roster)
        for participant, index in zip(named, matched):
            participant.listed = index is not None
            if index is not None:
                student = roster.students[index]
                participant.display_name = storable(student.name, NAME_LENGTH)
                add_correction(db, session_id, plain_key(student.identity), participant.key, student.name, actor)
        named_now = sum(i is not None for i in matched)
        record(db, actor, "class_list", f"session {session_id}", {"students": len(roster), "matched": named_now})
    return named_now, len(named) - named_now


def class_list(engine: Engine, session_id: int) -> Roster | None:
    """The session's class list as the agent matches against it, or None without one."""
    query = (
        select(ClassListEntry.name, ClassListEntry.student_id)
        .where(ClassListEntry.session_id == session_id)
        .order_by(ClassListEntry.position)
    )
    with engine.connect() as db:
        students = tuple(Student(name, student_id) for name, student_id in db.execute(query))
    return Roster(students) if students else None


def list_digest(engine: Engine, session_id: int) -> str | None:
    """Which class list the session has now (the agent reloads the list when this changes)."""
    with engine.connect() as db:
        settings = db.scalar(select(ClassSession.settings).where(ClassSession.id == session_id))
    return (settings or {}).get("class_list")
