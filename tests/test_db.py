"""The db layer against real SQLite and a real PostgreSQL server: migrations up and down, writes."""

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from sqlalchemy import event, func, inspect, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from agent.pipeline import CaptureResult, TileResult
from db import store
from db.engine import downgrade, make_engine, upgrade
from db.models import Capture, Observation, Participant

TABLES = {"class_session", "participant", "capture", "observation", "audit_event"}


def fake_capture(at: datetime, keys: list[str]) -> CaptureResult:
    tiles = []
    for i, key in enumerate(keys):
        probs = tuple([0.05] * 6 + [0.7]) if i % 2 == 0 else None
        state = "face" if probs else "camera_off"
        tiles.append(
            TileResult(
                (i * 100, 0, 90, 50), key, key.title(), True, state, (i * 100 + 10, 5, 30, 30) if probs else None, probs
            )
        )
    return CaptureResult(at, tiles, {"tiles": 1.0, "detect": 2.0})


def test_migrations_up_and_down(db_url):
    upgrade(db_url)
    engine = make_engine(db_url)
    inspector = inspect(engine)
    assert set(inspector.get_table_names()) >= TABLES
    indexes = {ix["name"] for ix in inspector.get_indexes("observation")}
    assert {"ix_observation_session_time", "ix_observation_participant_time"} <= indexes
    upgrade(db_url)  # idempotent
    downgrade(db_url, "base")
    assert not TABLES & set(inspect(engine).get_table_names())
    upgrade(db_url)
    assert set(inspect(engine).get_table_names()) >= TABLES
    engine.dispose()


def test_migrations_build_what_the_models_describe(db_url):
    """Every column the models name exists after `upgrade` with its type: a model change
    without its migration fails here, not on a teacher's database."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from db.models import Base

    upgrade(db_url)
    engine = make_engine(db_url)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        changes = [c for c in compare_metadata(context, Base.metadata) if c[0] in ("add_column", "remove_column")]
    engine.dispose()
    assert changes == []


def test_capture_written_in_one_transaction(db_url):
    upgrade(db_url)
    engine = make_engine(db_url)
    sid = store.start_session(engine, "Physics", "monitor 1", 5.0, False, {})
    ids: dict[str, int] = {}
    t0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    store.write_capture(engine, sid, fake_capture(t0, ["ana", "ben", "chen"]), ids)
    store.write_capture(engine, sid, fake_capture(t0 + timedelta(seconds=5), ["ben", "ana", "dana"]), ids)
    with Session(engine) as db:
        people = {p.key: p for p in db.scalars(select(Participant))}
        assert set(people) == {"ana", "ben", "chen", "dana"}
        assert as_utc(people["ana"].last_seen) == t0 + timedelta(seconds=5)
        rows = db.scalars(select(Observation).order_by(Observation.id)).all()
        assert len(rows) == 6
        assert rows[0].top_emotion == "neutral" and rows[0].p_neutral == pytest.approx(0.7)
        assert rows[1].state == "camera_off" and rows[1].p_happy is None
        captures = db.scalars(select(Capture)).all()
        assert all(c.write_ms is not None and c.write_ms > 0 for c in captures)
    # a capture that fails half-way leaves nothing behind
    broken = fake_capture(t0 + timedelta(seconds=10), ["ana", "eve"])
    broken.tiles[1].state = "x" * 50  # longer than the column allows on PostgreSQL; a bad key on SQLite
    broken.tiles[1].key = None
    with pytest.raises(IntegrityError):
        store.write_capture(engine, sid, broken, ids)
    with Session(engine) as db:
        assert len(db.scalars(select(Observation)).all()) == 6
        assert "eve" not in {p.key for p in db.scalars(select(Participant))}
    assert "eve" not in ids
    store.end_session(engine, sid)
    engine.dispose()


def test_a_steady_capture_is_a_few_statements_whatever_its_mix_of_states(db_url):
    """A school's server takes 30 agents' writes every 5 s: the observations of a capture go
    in one INSERT, also when face and camera-off rows (NULL emotions) alternate, which split
    it into one statement per run of alike rows."""
    upgrade(db_url)
    engine = make_engine(db_url)
    sid = store.start_session(engine, "Physics", "monitor 1", 5.0, False, {})
    ids: dict[str, int] = {}
    keys = [f"student {i}" for i in range(25)]
    t0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    store.write_capture(engine, sid, fake_capture(t0, keys), ids)
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda conn, cursor, sql, *rest: statements.append(sql))
    store.write_capture(engine, sid, fake_capture(t0 + timedelta(seconds=5), keys), ids)
    inserts = [sql for sql in statements if sql.lstrip().upper().startswith("INSERT INTO OBSERVATION")]
    assert len(inserts) == 1, statements
    assert len(statements) <= 4, statements  # the capture, last seen, the observations, its write time
    with Session(engine) as db:
        assert db.scalar(select(func.count()).select_from(Observation)) == 50
    engine.dispose()


def as_utc(value: datetime) -> datetime:
    """A stored time: naive UTC from SQLite, aware in the server's zone from PostgreSQL."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def test_last_seen_is_written_again_once_a_minute_old(db_url):
    """The agent's captures every 5 s skip the last_seen UPDATE until the stored time is a
    minute old (presence is charted by the minute); a newcomer's is written at once."""
    upgrade(db_url)
    engine = make_engine(db_url)
    sid = store.start_session(engine, "Physics", "monitor 1", 5.0, False, {})
    ids: dict[str, int] = {}
    seen: dict = {}
    t0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)

    def last_seen() -> dict:
        with Session(engine) as db:
            return {p.key: as_utc(p.last_seen) for p in db.scalars(select(Participant))}

    store.write_capture(engine, sid, fake_capture(t0, ["ana", "ben"]), ids, seen=seen)
    store.write_capture(engine, sid, fake_capture(t0 + timedelta(seconds=30), ["ana", "ben", "chen"]), ids, seen=seen)
    assert last_seen() == {"ana": t0, "ben": t0, "chen": t0 + timedelta(seconds=30)}
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda conn, cursor, sql, *rest: statements.append(sql))
    store.write_capture(engine, sid, fake_capture(t0 + timedelta(seconds=35), ["ana", "ben", "chen"]), ids, seen=seen)
    assert not [sql for sql in statements if sql.lstrip().upper().startswith("UPDATE PARTICIPANT")]
    store.write_capture(engine, sid, fake_capture(t0 + timedelta(seconds=60), ["ana", "chen"]), ids, seen=seen)
    assert last_seen() == {"ana": t0 + timedelta(seconds=60), "ben": t0, "chen": t0 + timedelta(seconds=30)}
    engine.dispose()


def test_dashboard_queries_agree_on_sqlite_and_postgresql(tmp_path, postgres_url):
    """The dashboard's GROUP BY queries (minute buckets differ per dialect) give the same answers."""
    from bench.sessions import Episode, generate
    from dashboard import queries

    answers = []
    for url in (f"sqlite:///{tmp_path / 'same.db'}", postgres_url):
        if url == postgres_url:
            downgrade(url, "base")
        upgrade(url)
        engine = make_engine(url)
        sid = generate(engine, students=5, minutes=12, episodes=(Episode(1, "sad", 2, 6),), seed=7)
        minutes = queries.student_minutes(engine, sid)
        timeline = queries.class_timeline(engine, sid)
        summary = queries.student_summary(engine, sid)
        answers.append(
            (
                len(minutes),
                round(float(minutes["negative"].sum()), 6),
                len(timeline),
                round(float(timeline["valence"].mean()), 6),
                summary["dominant"].tolist(),
            )
        )
        engine.dispose()
    assert answers[0] == answers[1]
    assert answers[0][0] == 5 * 12


def test_live_class_minutes_equal_the_database_means(db_url):
    """The live view folds class-wide minutes from per-capture rows; the report asks the database.
    Both must give the same numbers, or a class flag could show in one view and not the other."""
    import numpy as np

    from bench.sessions import Episode, generate
    from dashboard import queries

    upgrade(db_url)
    engine = make_engine(db_url)
    # Cameras going off mid-minute make the faces per capture vary, where plain means of means differ.
    episodes = (
        Episode(1, "camera_off", 2.3, 3),
        Episode(2, "camera_off", 2.6, 1.2),
        Episode(-1, "camera_off", 7.5, 0.2),
    )
    sid = generate(engine, students=6, minutes=10, episodes=episodes, seed=11)
    folded = queries.fold_minutes(queries.class_timeline(engine, sid))
    asked = queries.class_minutes(engine, sid)
    assert folded["minute"].tolist() == asked["minute"].tolist()
    for column in ("present", "negative", "valence", "neutral", "surprise_fear_sad"):
        np.testing.assert_allclose(folded[column], asked[column], rtol=1e-9, atol=1e-12, err_msg=column)
    engine.dispose()


def test_a_better_reading_of_a_tag_renames_the_participant(db_url):
    """The tracker's best reading (untruncated, most frequent) replaces the first one in the database."""
    from agent.identity import IdentityTracker

    upgrade(db_url)
    engine = make_engine(db_url)
    sid = store.start_session(engine, "Physics", "monitor 1", 5.0, False, {})
    tracker, ids, names = IdentityTracker(), {}, {}
    tile = np.zeros((135, 240, 3), np.uint8)
    t0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    for k, reading in enumerate(["Elizabeth Hernández C...", "Elizabeth Hernández Castro", "Elizabeth Hernández ..."]):
        ((key, label, named, _),) = tracker.assign((1920, 1080), [((0, 0, 240, 135), tile, reading)])
        result = CaptureResult(
            t0 + timedelta(seconds=5 * k), [TileResult((0, 0, 240, 135), key, label, named, "no_face")]
        )
        store.write_capture(engine, sid, result, ids, names)
    with Session(engine) as db:
        people = db.scalars(select(Participant)).all()
    assert [p.display_name for p in people] == ["Elizabeth Hernández Castro"]


def test_guesses_are_shown_but_drive_no_flag(db_url):
    """A sad-looking reading the model itself calls a guess (core.calibration) is stored and
    shown, but stays out of the minute means the attention flags read; the live fold agrees."""
    from core.flags import FlagRules, student_flags
    from dashboard import queries

    upgrade(db_url)
    engine = make_engine(db_url)
    sad = (0.05, 0.02, 0.05, 0.03, 0.45, 0.05, 0.35)
    calm = (0.01, 0.0, 0.01, 0.08, 0.05, 0.05, 0.8)
    t0 = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
    flagged = {}
    for guessed in (True, False):
        sid = store.start_session(engine, f"guesses {guessed}", "monitor 1", 20.0, False, {})
        ids: dict[str, int] = {}
        for k in range(3 * 14):  # 14 minutes, 3 captures a minute: 6 calm, 5 sad, 3 calm
            probs = sad if 18 <= k < 33 else calm
            tile = TileResult(
                (0, 0, 90, 50), "ana", "Ana", True, "face", (10, 5, 30, 30), probs, probs == sad and guessed
            )
            calm_tile = TileResult((100, 0, 90, 50), "ben", "Ben", True, "face", (110, 5, 30, 30), calm, False)
            store.write_capture(engine, sid, CaptureResult(t0 + timedelta(seconds=20 * k), [tile, calm_tile]), ids)
        minutes = queries.student_minutes(engine, sid)
        ana = minutes[minutes["participant_id"] == ids["ana"]]
        flagged[guessed] = [f.kind for f in student_flags(queries.as_series(ana), FlagRules(), ids["ana"])]
        if guessed:
            assert queries.latest_states(engine, sid)[ids["ana"]]["uncertain"] is False
            with Session(engine) as db:
                rows = db.scalars(select(Observation).where(Observation.participant_id == ids["ana"])).all()
                assert sum(bool(o.uncertain) for o in rows) == 15 and all(o.p_sad is not None for o in rows)
            assert ana["negative"].isna().sum() == 5  # minutes 6-10 hold guesses only
        folded = queries.fold_minutes(queries.class_timeline(engine, sid))
        asked = queries.class_minutes(engine, sid)
        for column in ("present", "negative", "valence", "faces", "read"):
            np.testing.assert_allclose(folded[column], asked[column], rtol=1e-9, atol=1e-12, err_msg=column)
    assert "negative" in flagged[False]
    assert "negative" not in flagged[True]
    engine.dispose()


def test_any_name_ocr_makes_is_stored_and_the_lecture_goes_on(db_url):
    """A name of 300 characters, or one holding a NUL byte (PostgreSQL refuses those), is
    stored cleaned and cut; two long names that start alike stay two students; later
    captures are written as usual."""
    upgrade(db_url)
    engine = make_engine(db_url)
    sid = store.start_session(engine, "names\x00" + "x" * 400, "monitor 1", 5.0, False, {})
    t0 = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
    long_a, long_b = "A" * 250 + " one", "A" * 250 + " two"
    names = [long_a, long_b, "Nul\x00Byte", "Ana"]
    ids: dict[str, int] = {}
    for k in range(3):
        tiles = [TileResult((i * 100, 0, 90, 50), f"name:{n}", n, True, "camera_off") for i, n in enumerate(names)]
        store.write_capture(engine, sid, CaptureResult(t0 + timedelta(seconds=5 * k), tiles), ids)
    with Session(engine) as db:
        stored = db.scalars(select(Participant.display_name).where(Participant.session_id == sid)).all()
        keys = db.scalars(select(Participant.key).where(Participant.session_id == sid)).all()
        assert db.scalar(select(func.count()).select_from(Capture).where(Capture.session_id == sid)) == 3
    assert len(stored) == 4 and len(set(keys)) == 4
    assert "NulByte" in stored and "Ana" in stored
    assert all(len(name) <= 200 and "\x00" not in name for name in stored)
    engine.dispose()


def test_one_count_of_captures_in_the_live_line_the_report_and_its_exports(tmp_path):
    """Failed captures are captures: counted once, said apart, the same number everywhere."""
    from dashboard import report
    from dashboard.data import CONTEXT, agent_state
    from dashboard.pdf import to_pdf

    url = upgrade(f"sqlite:///{tmp_path / 'count.db'}")
    engine = make_engine(url)
    sid = store.start_session(engine, "counted", "monitor 1", 5.0, False, {})
    t0 = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
    ids: dict[str, int] = {}
    for k in range(3):
        store.write_capture(engine, sid, fake_capture(t0 + timedelta(seconds=10 * k), ["ana", "ben"]), ids)
        store.write_failed_capture(engine, sid, t0 + timedelta(seconds=10 * k + 5), "no window", {})
    store.end_session(engine, sid)
    engine.dispose()
    CONTEXT.use(url, None)
    built = report.build(sid)
    assert built.class_summary["captures_text"] == "6 captures (3 failed)"
    assert "6 captures (3 failed)" in agent_state(built.info)[1]
    assert "6 captures (3 failed)" in report.to_html(built)
    assert report.build(sid, anonymous=True).class_summary["students"] == 2  # the share view counts them too
    assert to_pdf(built).startswith(b"%PDF")


def test_the_live_line_says_at_once_when_nothing_is_being_captured(tmp_path):
    import pandas as pd

    from dashboard.charts import with_gaps
    from dashboard.data import CONTEXT, agent_state, pick_session

    url = upgrade(f"sqlite:///{tmp_path / 'lost.db'}")
    engine = make_engine(url)
    sid = store.start_session(engine, "lost window", "window 'Zoom'", 5.0, False, {"detector": "MtcnnDetector"})
    now = datetime.now(UTC).replace(microsecond=0)
    ids: dict[str, int] = {}
    for k in range(3):
        store.write_capture(engine, sid, fake_capture(now - timedelta(seconds=30 - 5 * k), ["ana"]), ids)
    CONTEXT.use(url, None)
    running, text, _ = agent_state(pick_session(sid))
    assert running and text.startswith("Live: 3 captures")
    assert "offline detector (MTCNN)" in text  # the agent ran without YuNet's file: slower, said so
    for k in range(2):
        store.write_failed_capture(
            engine, sid, now - timedelta(seconds=10 - 5 * k), "no window whose title contains 'Zoom'", {}
        )
    running, text, _ = agent_state(pick_session(sid))
    assert not running and "Nothing captured since" in text and "the last 2 captures failed" in text
    assert "no window whose title contains 'Zoom'" in text
    engine.dispose()

    times = pd.to_datetime(["2026-12-06 09:00:00", "2026-12-06 09:00:05", "2026-12-06 09:00:10", "2026-12-06 09:05:00"])
    gapped = with_gaps(pd.DataFrame({"time": times, "valence": [0.1, 0.2, 0.1, 0.3]}))
    assert len(gapped) == 6 and gapped["valence"].iloc[3:5].isna().all()  # nothing drawn in the 5-minute hole
    assert gapped["time"].is_monotonic_increasing
