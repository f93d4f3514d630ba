"""Writes of the agent: sessions, and each capture with its observations in one transaction."""

from __future__ import annotations

import hashlib
import time
import unicodedata
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, delete, func, insert, select, update
from sqlalchemy.orm import Session

from core.labels import EMOTIONS
from db.models import Capture, ClassListEntry, ClassSession, Observation, Participant

SEEN_STEP = timedelta(minutes=1)  # how stale a participant's last_seen may be; the charts are per minute
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")  # would reverse a flag line
KEY_LENGTH = Participant.__table__.c.key.type.length
NAME_LENGTH = Participant.__table__.c.display_name.type.length


def without_controls(text: str | None) -> str | None:
    """Control characters (NUL, which PostgreSQL refuses) and bidirectional overrides (which
    turn the rest of a line around) dropped; None stays None: the database decides."""
    if text is None:
        return text
    return "".join(c for c in text if unicodedata.category(c) != "Cc" and c not in BIDI_CONTROLS)


def storable(text: str | None, length: int) -> str | None:
    """Text a column can hold on every database: without controls, and cut to the column's
    length with "…" (a name read off a tag can be anything OCR makes of it)."""
    text = without_controls(text)
    return text if text is None or len(text) <= length else text[: length - 1] + "…"


def storable_key(key: str | None) -> str | None:
    """A participant key the column can hold: a key cut short ends in a digest of the whole,
    so two long keys that start alike stay two students."""
    key = without_controls(key)
    if key is None or len(key) <= KEY_LENGTH:
        return key
    return key[: KEY_LENGTH - 17] + "#" + hashlib.blake2b(key.encode(), digest_size=8).hexdigest()


def storable_result(result):
    """The capture with every tile's key and name fit for the database."""
    tiles = [replace(t, key=storable_key(t.key), label=storable(t.label, NAME_LENGTH)) for t in result.tiles]
    return replace(result, tiles=tiles)


def now() -> datetime:
    return datetime.now(UTC)


def close_interrupted_sessions(engine: Engine) -> int:
    """Sessions left 'running' by a killed agent end at their last capture, marked interrupted."""
    with Session(engine) as db, db.begin():
        stale = db.scalars(select(ClassSession).where(ClassSession.status == "running")).all()
        for session in stale:
            last = db.scalar(select(func.max(Capture.taken_at)).where(Capture.session_id == session.id))
            session.status, session.ended_at = "interrupted", last or session.started_at
        return len(stale)


def start_session(
    engine: Engine,
    name: str,
    source: str,
    interval_s: float,
    pseudonymized: bool,
    settings: dict,
    owner_id: int | None = None,
    roster=None,
) -> int:
    """A new running session; its class list (a core.roster.Roster), if any, stored with it,
    with the corrections its teacher made in their last session with the same list."""
    from db.corrections import carry_corrections

    with Session(engine) as db, db.begin():
        session = ClassSession(
            owner_id=owner_id,
            name=storable(name, ClassSession.__table__.c.name.type.length),
            source=storable(source, ClassSession.__table__.c.source.type.length),
            started_at=now(),
            status="running",
            interval_s=interval_s,
            pseudonymized=pseudonymized,
            settings=settings,
        )
        db.add(session)
        db.flush()
        if roster is not None:
            keep_class_list(db, session, roster)
            carry_corrections(db, session.id, owner_id, roster.digest)
        return session.id


def keep_class_list(db: Session, session: ClassSession, roster) -> None:
    """The session's own copy of its class list (replacing any), and the list's digest in its
    settings: the running agent reloads the list, and the teacher's next session with the same
    list finds its corrections, by that digest."""
    db.execute(delete(ClassListEntry).where(ClassListEntry.session_id == session.id))
    db.add_all(
        ClassListEntry(
            session_id=session.id,
            position=position,
            name=storable(student.name, NAME_LENGTH),
            student_id=storable(student.student_id, ClassListEntry.__table__.c.student_id.type.length),
        )
        for position, student in enumerate(roster.students)
    )
    session.settings = {**(session.settings or {}), "class_list": roster.digest}


def end_session(engine: Engine, session_id: int, status: str = "ended") -> None:
    with Session(engine) as db, db.begin():
        db.execute(update(ClassSession).where(ClassSession.id == session_id).values(status=status, ended_at=now()))


def write_capture(
    engine: Engine,
    session_id: int,
    result,
    participant_ids: dict[str, int],
    names: dict[str, str] | None = None,
    seen: dict[str, datetime] | None = None,
) -> int:
    """Insert the capture row, new participants and one observation per tile, atomically.

    Also records how long the inserts took, in result.timings_ms["write"] and on the row.

    `participant_ids` caches key -> id between calls; it is only updated once the
    transaction has committed, so a failed write leaves it consistent with the database.
    `names`, when given, caches key -> display name the same way: a participant whose tag is
    now read better (untruncated, more often) gets that name. `seen`, when given, caches key
    -> the last_seen written: it is written again only once it is SEEN_STEP old, so most
    captures skip that UPDATE (the dashboard reads presence by the minute).
    """
    result = storable_result(result)
    timings = result.timings_ms
    start = time.perf_counter()
    with Session(engine) as db, db.begin():
        capture = Capture(
            session_id=session_id,
            taken_at=result.taken_at,
            tiles_found=len(result.tiles),
            faces_found=result.faces_found,
            grab_ms=timings.get("grab"),
            tiles_ms=timings.get("tiles"),
            ocr_ms=timings.get("ocr"),
            detect_ms=timings.get("detect"),
            classify_ms=timings.get("classify"),
            total_ms=timings.get("total"),
            error=result.error,
        )
        db.add(capture)
        new_ids = new_participants(db, session_id, result, participant_ids)
        ids = {**participant_ids, **new_ids}
        for tile in result.tiles:
            pid = participant_ids.get(tile.key)
            if pid is not None and names is not None and tile.named and names.get(tile.key, tile.label) != tile.label:
                db.execute(update(Participant).where(Participant.id == pid).values(display_name=tile.label))
        stale = {t.key for t in result.tiles if seen is None or not recent(seen.get(t.key), result.taken_at)}
        if stale:
            db.execute(
                update(Participant).where(Participant.id.in_({ids[k] for k in stale})).values(last_seen=result.taken_at)
            )
        db.flush()
        capture_id = capture.id
        rows = observation_rows(session_id, capture_id, result, ids)
        if rows:  # one multi-row INSERT; NULLs written, not left out, or rows split by which are NULL
            db.execute(insert(Observation).execution_options(render_nulls=True), rows)
        # The row can only hold the time up to its own commit; that is what "write" means here.
        timings["write"] = capture.write_ms = (time.perf_counter() - start) * 1000
    participant_ids.update(new_ids)
    if seen is not None:
        seen.update(dict.fromkeys(stale, result.taken_at))
    if names is not None:
        names.update({t.key: t.label for t in result.tiles})
    return capture_id


def recent(written: datetime | None, now: datetime) -> bool:
    return written is not None and timedelta(0) <= now - written < SEEN_STEP


def new_participants(db: Session, session_id: int, result, known: dict[str, int]) -> dict[str, int]:
    """key -> id of the capture's students not in `known`: those the session already has (an
    agent restarted), then the rest inserted, in one statement each (a class's first capture
    made two round trips per student, the slowest writes of a school's morning)."""
    first: dict = {}  # key -> its first tile, in reading order
    for tile in result.tiles:
        if tile.key not in known:
            first.setdefault(tile.key, tile)
    if not first:
        return {}
    stored = select(Participant.key, Participant.id).where(
        Participant.session_id == session_id, Participant.key.in_(list(first))
    )
    found = {key: pid for key, pid in db.execute(stored)}
    missing = [
        {"session_id": session_id, "key": key, "display_name": tile.label, "named": tile.named, "listed": tile.listed,
         "first_seen": result.taken_at, "last_seen": result.taken_at}
        for key, tile in first.items()
        if key not in found
    ]  # fmt: skip
    if missing:
        added = insert(Participant).returning(Participant.key, Participant.id, sort_by_parameter_order=True)
        found.update({key: pid for key, pid in db.execute(added, missing)})
    return found


def observation_rows(session_id: int, capture_id: int, result, ids: dict[str, int]) -> list[dict]:
    rows = []
    for tile in result.tiles:
        probs = dict(zip(EMOTIONS, tile.probabilities)) if tile.probabilities else {}
        face = tile.face_box or (None, None, None, None)
        rows.append(
            {
                "capture_id": capture_id,
                "session_id": session_id,
                "participant_id": ids[tile.key],
                "observed_at": result.taken_at,
                "state": tile.state,
                "tile_x": tile.box[0],
                "tile_y": tile.box[1],
                "face_x": face[0],
                "face_y": face[1],
                "face_w": face[2],
                "face_h": face[3],
                "top_emotion": max(probs, key=probs.get) if probs else None,
                "uncertain": tile.uncertain,
                "yaw": tile.yaw,
                "pitch": tile.pitch,
                "looking": tile.looking,
                **{f"p_{name}": probs.get(name) for name in EMOTIONS},
            }
        )
    return rows


def write_failed_capture(engine: Engine, session_id: int, taken_at: datetime, error: str, timings: dict) -> None:
    with Session(engine) as db, db.begin():
        db.add(Capture(session_id=session_id, taken_at=taken_at, error=error[:2000], total_ms=timings.get("total")))
