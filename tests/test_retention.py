"""Retention and erasure on real SQLite and PostgreSQL: what goes, goes entirely; nothing else moves."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

from db import store
from db.engine import make_engine, upgrade
from db.models import AuditEvent, Capture, ClassSession, Observation, Participant
from db.retention import RetentionError, erase_student, export_student, parse_age, purge_older_than
from tests.test_cli import assert_clean_error, classmood
from tests.test_db import fake_capture

NOW = datetime.now(UTC).replace(microsecond=0)
CHILD_TABLES = ("participant", "capture", "observation")


def lecture(engine, name: str, started: datetime, students: list[str], captures: int = 3, running=False) -> int:
    sid = store.start_session(engine, name, "test", 5.0, False, {})
    ids: dict[str, int] = {}
    for k in range(captures):
        result = fake_capture(started + timedelta(seconds=5 * k), [f"name:{s}" for s in students])
        for tile, student in zip(result.tiles, students):
            tile.label = student
        store.write_capture(engine, sid, result, ids, {f"name:{s}": s for s in students})
    if not running:
        store.end_session(engine, sid)
    with Session(engine) as db, db.begin():
        db.execute(update(ClassSession).where(ClassSession.id == sid).values(started_at=started))
    return sid


def rows_per_session(engine) -> dict[str, dict[int, int]]:
    """For every table that holds session rows, how many per session (SQL, every table)."""
    counts = {}
    with engine.connect() as db:
        for table in CHILD_TABLES:
            counts[table] = dict(
                db.execute(text(f"SELECT session_id, COUNT(*) FROM {table} GROUP BY session_id")).all()
            )
        counts["class_session"] = {sid: 1 for (sid,) in db.execute(text("SELECT id FROM class_session")).all()}
    return counts


def test_a_purge_removes_old_sessions_entirely_and_nothing_else(db_url):
    engine = make_engine(upgrade(db_url))
    old = lecture(engine, "Old", NOW - timedelta(days=40), ["Ana Silva", "Ben Ito"], captures=30)
    recent = lecture(engine, "Recent", NOW - timedelta(days=2), ["Ana Silva", "Chen Wei"])
    running = lecture(engine, "Still running", NOW - timedelta(days=60), ["Dana Cohen"], running=True)
    before = rows_per_session(engine)
    removed = purge_older_than(engine, NOW - timedelta(days=30), actor="test")
    after = rows_per_session(engine)
    assert (removed.sessions, removed.participants, removed.captures, removed.observations) == (1, 2, 30, 60)
    for table, per_session in after.items():
        assert old not in per_session, table
        for kept in (recent, running):
            assert per_session.get(kept) == before[table].get(kept), table
    with Session(engine) as db:
        orphans = db.scalar(
            select(func.count()).select_from(Observation).where(~Observation.participant_id.in_(select(Participant.id)))
        )
        event = db.scalars(select(AuditEvent)).one()
    assert orphans == 0
    assert (event.action, event.actor, event.detail["observations"]) == ("purge", "test", 60)
    engine.dispose()


def test_a_purge_gives_sqlite_its_space_back(tmp_path):
    path = tmp_path / "space.db"
    engine = make_engine(upgrade(f"sqlite:///{path}"))
    lecture(engine, "Big and old", NOW - timedelta(days=400), [f"Student {i}" for i in range(25)], captures=120)
    lecture(engine, "Small", NOW, ["Ana Silva"])

    def size() -> int:  # the database and its write-ahead log
        return sum(p.stat().st_size for p in tmp_path.glob("space.db*"))

    full = size()
    purge_older_than(engine, NOW - timedelta(days=30))
    assert size() < 0.5 * full
    engine.dispose()


def test_an_erasure_finds_every_spelling_and_touches_no_one_else(db_url):
    engine = make_engine(upgrade(db_url))
    first = lecture(engine, "Monday", NOW - timedelta(days=3), ["Elizabeth Hernández Castro", "Ben Ito"])
    second = lecture(engine, "Tuesday", NOW - timedelta(days=2), ["Elizabeth Hernández ...", "Ben Ito", "Eliza Park"])
    others_before = rows_per_session(engine)
    exported = export_student(engine, "Elizabeth Hernández Castro", actor="test")
    assert [s["shown_as"] for s in exported["sessions"]] == ["Elizabeth Hernández Castro", "Elizabeth Hernández ..."]
    assert sum(len(s["observations"]) for s in exported["sessions"]) == 6
    removed = erase_student(engine, "Elizabeth Hernández Castro", actor="test")
    assert (removed.participants, removed.observations) == (2, 6)
    with Session(engine) as db:
        names = set(db.scalars(select(Participant.display_name)))
        events = db.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
        captures = db.scalar(select(func.count()).select_from(Capture))
    assert names == {"Ben Ito", "Eliza Park"}
    after = rows_per_session(engine)
    assert after["observation"] == {
        first: others_before["observation"][first] - 3,
        second: others_before["observation"][second] - 3,
    }
    assert captures == 6  # the captures stay: they belong to the class
    assert [e.action for e in events] == ["export", "erase"]
    assert all("Elizabeth" not in e.target and "Hern" not in json.dumps(e.detail) for e in events)
    engine.dispose()


def test_ages_and_names_that_cannot_be_acted_on():
    assert parse_age("30d") == timedelta(days=30) and parse_age("12w") == timedelta(weeks=12)
    for bad in ("30", "0d", "thirty days", "-3d", "99999999999d", "36501d"):
        with pytest.raises(RetentionError):
            parse_age(bad)


def test_purge_export_and_erase_from_the_command_line(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    engine = make_engine(upgrade(url))
    lecture(engine, "Old", NOW - timedelta(days=90), ["Ana Silva"])
    lecture(engine, "New", NOW, ["Ana Silva", "Ben Ito"])
    engine.dispose()
    purged = classmood("db", "purge", "--older-than", "30d", "--db", url)
    assert purged.returncode == 0 and "purged 1 session(s)" in purged.stdout, purged.stderr
    out = tmp_path / "ana.json"
    exported = classmood("student", "export", "Ana Silva", "--db", url, "--out", out)
    assert exported.returncode == 0, exported.stderr
    assert len(json.loads(out.read_text())["sessions"]) == 1
    erased = classmood("student", "erase", "Ana Silva", "--db", url, "--yes")
    assert erased.returncode == 0 and "erased 1 participant row(s), 3 observations" in erased.stdout
    assert_clean_error(classmood("db", "purge", "--older-than", "soon", "--db", url), "not an age")


def test_the_start_up_purge_keeps_the_retention_period(tmp_path):
    from db.retention import purge_expired

    engine = make_engine(upgrade(f"sqlite:///{tmp_path / 'auto.db'}"))
    lecture(engine, "Last term", NOW - timedelta(days=200), ["Ana Silva"])
    lecture(engine, "Last month", NOW - timedelta(days=29), ["Ana Silva"])
    assert purge_expired(engine, 0).sessions == 0  # 0: keep everything
    assert purge_expired(engine, 180).sessions == 1
    with Session(engine) as db:
        assert db.scalars(select(ClassSession.name)).all() == ["Last month"]
        assert db.scalars(select(AuditEvent.actor)).all() == ["retention"]
    engine.dispose()


def test_an_erasure_for_one_teacher_keeps_the_same_name_in_another_class(db_url):
    """Two teachers each have an Ana Silva; a request to one teacher erases their Ana only."""
    from db.accounts import add_account

    engine = make_engine(upgrade(db_url))
    owners = [add_account(engine, name, "a long enough password").id for name in ("ms_lee", "mr_okafor")]
    sessions = [lecture(engine, f"class {i}", NOW - timedelta(days=1), ["Ana Silva", "Ben Ito"]) for i in range(2)]
    with Session(engine) as db, db.begin():
        for sid, owner in zip(sessions, owners):
            db.execute(update(ClassSession).where(ClassSession.id == sid).values(owner_id=owner))
    assert len(export_student(engine, "Ana Silva", actor="test", owner=owners[0])["sessions"]) == 1
    removed = erase_student(engine, "Ana Silva", actor="test", owner=owners[0])
    assert removed.participants == 1
    with Session(engine) as db:
        left = db.execute(select(Participant.session_id, Participant.display_name).order_by(Participant.id)).all()
    assert sorted(left) == sorted([(sessions[0], "Ben Ito"), (sessions[1], "Ana Silva"), (sessions[1], "Ben Ito")])
    engine.dispose()


def test_an_erasure_tells_apart_names_that_differ_in_a_vowel_sign_and_finds_emoji_and_decomposed_names(tmp_path):
    import unicodedata

    engine = make_engine(upgrade(f"sqlite:///{tmp_path / 'scripts.db'}"))
    students = ["कमल", "कमला", "रम", "राम", "🦊", "José Núñez"]
    lecture(engine, "Hindi and more", NOW - timedelta(days=1), students)
    for name, gone in (
        ("कमल", "कमल"),
        ("रम", "रम"),
        ("🦊", "🦊"),
        (unicodedata.normalize("NFD", "José Núñez"), "José Núñez"),
    ):
        removed = erase_student(engine, name, actor="test")
        assert removed.participants == 1, name
        with Session(engine) as db:
            left = set(db.scalars(select(Participant.display_name)))
        assert gone not in left
    assert left == {"कमला", "राम"}
    engine.dispose()


def test_the_audit_names_a_student_by_a_keyed_digest(tmp_path, monkeypatch):
    """A plain hash of a name is reversed by hashing the class list; a keyed one is not."""
    from db.retention import student_target

    assert student_target("Ana Silva") == student_target(" ana  silva ")
    with_test_key = student_target("Ana Silva")
    monkeypatch.setenv("CLASSMOOD_AUDIT_KEY", "another school's key")
    assert student_target("Ana Silva") != with_test_key
    monkeypatch.delenv("CLASSMOOD_AUDIT_KEY")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    made = student_target("Ana Silva")
    key = tmp_path / "classmood" / "audit.key"
    assert key.stat().st_mode & 0o777 == 0o600 and student_target("Ana Silva") == made
