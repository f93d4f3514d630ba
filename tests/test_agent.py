"""The agent's pipeline on generated galleries, into a real SQLite database."""

import os
import sqlite3
import subprocess
import sys

import numpy as np
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from agent.tiles import find_tiles
from bench.gallery import render_gallery
from db.models import Capture, ClassSession, Observation, Participant
from tests.conftest import ROOT, shared_file
from tests.galleries import people, write_frames
from tests.waiting import wait_for


@pytest.fixture(scope="module")
def labels_csv():
    return shared_file("data/wild_faces/labels_min48px.csv")


@pytest.mark.parametrize("n", [2, 5, 9, 13, 25, 49])
def test_tiles_found_in_every_layout(labels_csv, n):
    image, truth = render_gallery(people(labels_csv, n, camera_off={1, 4}), speaker=0)
    found = find_tiles(image)
    assert len(found) == n
    for tile, box in zip(truth, found):
        assert np.allclose(tile.box, box.as_tuple(), atol=4), (tile.box, box)


@pytest.mark.parametrize("size", [(1280, 720), (1600, 900), (1000, 800)])
def test_tiles_found_at_other_window_sizes(labels_csv, size):
    image, truth = render_gallery(people(labels_csv, 7), width=size[0], height=size[1])
    assert len(find_tiles(image)) == 7


def test_no_tiles_in_an_empty_screen():
    assert find_tiles(np.full((720, 1280, 3), 26, np.uint8)) == []


def agent_command(folder, db, model) -> list[str]:
    return [
        sys.executable,
        "-m",
        "classmood",
        "agent",
        "--images",
        str(folder),
        "--db",
        f"sqlite:///{db}",
        "--model",
        str(model),
    ]


def agent_env(yunet_file) -> dict:
    return {**os.environ, "PYTHONPATH": str(ROOT), "CLASSMOOD_YUNET": str(yunet_file)}


def run_on_images(folder, db, model, yunet_file, *extra):
    command = [*agent_command(folder, db, model), *map(str, extra)]
    return subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=600, env=agent_env(yunet_file))


def run_agent_cli(*args, env=None):
    return subprocess.run(
        [sys.executable, "-m", "classmood", "agent", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
    )


@pytest.fixture(scope="module")
def agent_run(labels_csv, tmp_path_factory, tiny_model_file, yunet_file):
    """Five generated frames: 13 people (two cameras off), a resize, a reshuffle, a corrupt file."""
    folder = tmp_path_factory.mktemp("frames")
    crowd = people(labels_csv, 13, camera_off={3, 7})
    layouts = [
        {"speaker": 0},
        {"speaker": 2},
        {"width": 1600, "height": 900, "speaker": 5},
        {"speaker": 1},
    ]
    truth = write_frames(folder, crowd, layouts, shuffle_at={3})
    (folder / "frame004.png").write_bytes(b"\x89PNG broken")
    db = tmp_path_factory.mktemp("db") / "agent.db"
    result = run_on_images(folder, db, tiny_model_file, yunet_file, "--session", "Algebra")
    return result, db, truth


def test_agent_writes_captures_and_observations(agent_run):
    result, db, truth = agent_run
    assert result.returncode == 0, result.stderr
    con = sqlite3.connect(db)
    session = con.execute("select name, status, ended_at is not null from class_session").fetchall()
    assert session == [("Algebra", "ended", 1)]
    captures = con.execute("select tiles_found, faces_found, error from capture order by id").fetchall()
    assert [c[0] for c in captures[:4]] == [13, 13, 13, 13]
    assert all(c[1] >= 10 for c in captures[:4]), captures  # 11 cameras on
    assert captures[4][2] and "not a readable image" in captures[4][2]  # the corrupt frame is recorded
    states = dict(con.execute("select state, count(*) from observation group by state").fetchall())
    assert states["camera_off"] == 8  # two students x four frames
    assert states["face"] + states.get("no_face", 0) == 44


def test_names_are_read_and_survive_a_reshuffle(agent_run):
    _, db, truth = agent_run
    con = sqlite3.connect(db)
    names = {row[0] for row in con.execute("select display_name from participant")}
    expected = {tile.name for tile in truth[0]}
    read = {n.replace(" ", "").casefold() for n in names} & {n.replace(" ", "").casefold() for n in expected}
    assert len(read) >= 12, sorted(names)
    # after the reshuffle (frame 3) each named student keeps one id, so one row per frame
    per_student = con.execute(
        "select p.display_name, count(*) from observation o join participant p on p.id = o.participant_id "
        "where p.named group by p.id"
    ).fetchall()
    assert all(count == 4 for _, count in per_student), per_student


def test_tile_position_truth_for_the_reshuffled_frame(agent_run):
    _, db, truth = agent_run
    con = sqlite3.connect(db)
    rows = con.execute(
        "select p.display_name, o.tile_x, o.tile_y from observation o join participant p on p.id = o.participant_id "
        "where o.capture_id = 4"
    ).fetchall()
    where = {name.replace(" ", "").casefold(): (x, y) for name, x, y in rows}
    correct = sum(
        np.allclose(where.get(t.name.replace(" ", "").casefold(), (-99, -99)), t.box[:2], atol=4) for t in truth[3]
    )
    assert correct >= 12


def test_no_images_are_stored(agent_run, tmp_path):
    _, db, _ = agent_run
    assert not list(db.parent.glob("*.png"))


def test_pseudonymize_stores_no_names(labels_csv, tmp_path, tiny_model_file, yunet_file):
    folder = tmp_path / "frames"
    write_frames(folder, people(labels_csv, 4), [{}])
    db = tmp_path / "p.db"
    result = run_on_images(folder, db, tiny_model_file, yunet_file, "--pseudonymize")
    assert result.returncode == 0, result.stderr
    dump = "\n".join(sqlite3.connect(db).iterdump())
    for name in ("Ana", "Silva", "Okoro", "Chen"):
        assert name not in dump


def test_a_killed_agent_leaves_a_consistent_database(tmp_path):
    """A session left 'running' (kill -9) is closed as interrupted at the next start."""
    from db import store
    from db.engine import make_engine, upgrade

    url = upgrade(f"sqlite:///{tmp_path / 'k.db'}")
    engine = make_engine(url)
    sid = store.start_session(engine, "x", "monitor 1", 5, False, {})
    assert store.close_interrupted_sessions(engine) == 1
    with Session(engine) as db:
        session = db.get(ClassSession, sid)
        assert session.status == "interrupted" and session.ended_at is not None
        assert db.scalar(select(func.count()).select_from(Capture)) == 0
        assert db.scalar(select(func.count()).select_from(Observation)) == 0
        assert db.scalar(select(func.count()).select_from(Participant)) == 0


def test_a_locked_database_delays_writes_but_loses_nothing(labels_csv, tmp_path, tiny_model_file, yunet_file):
    import threading
    import time

    from db.engine import upgrade

    folder = tmp_path / "frames"
    write_frames(folder, people(labels_csv, 4), [{}, {}, {}])
    db = tmp_path / "locked.db"
    upgrade(f"sqlite:///{db}")
    release = threading.Event()

    def hold_lock():
        con = sqlite3.connect(db, timeout=30)
        con.execute("BEGIN EXCLUSIVE")
        release.wait(60)
        con.rollback()
        con.close()

    holder = threading.Thread(target=hold_lock)
    agent = subprocess.Popen(
        agent_command(folder, db, tiny_model_file),
        cwd=ROOT,
        env=agent_env(yunet_file),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(6)  # the agent has migrated and is loading the model
    holder.start()
    time.sleep(10)  # longer than the busy timeout: captures queue up
    release.set()
    holder.join()
    _, err = agent.communicate(timeout=180)
    assert agent.returncode == 0, err
    con = sqlite3.connect(db)
    assert con.execute("select count(*) from capture").fetchone()[0] == 3
    assert con.execute("select count(*) from observation").fetchone()[0] == 12
    assert "Traceback" not in err


def test_keep_frames_is_the_only_way_images_are_stored(labels_csv, tmp_path, tiny_model_file, yunet_file):
    folder = tmp_path / "frames"
    write_frames(folder, people(labels_csv, 2), [{}, {}])
    kept = tmp_path / "kept"
    result = run_on_images(folder, tmp_path / "k.db", tiny_model_file, yunet_file, "--keep-frames", kept)
    assert result.returncode == 0, result.stderr
    frames = list(kept.glob("session-*/*.png"))
    assert len(frames) == 2
    assert all(f.stat().st_mode & 0o777 == 0o600 for f in frames) and frames[0].parent.stat().st_mode & 0o777 == 0o700


def test_kept_frames_go_with_an_erasure_and_a_purge(labels_csv, tmp_path, tiny_model_file, yunet_file):
    """A frame shows every student of the class: erasing one student removes the frames of
    each session they were in; a purge removes its sessions' frames."""
    from datetime import UTC, datetime, timedelta

    from db.engine import make_engine
    from db.retention import erase_student, purge_older_than

    folder, kept, db = tmp_path / "frames", tmp_path / "kept", tmp_path / "k.db"
    write_frames(folder, people(labels_csv, 2), [{}, {}])
    for _ in range(2):
        result = run_on_images(folder, db, tiny_model_file, yunet_file, "--keep-frames", kept)
        assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in kept.iterdir()) == ["session-1", "session-2"]
    engine = make_engine(f"sqlite:///{db}")
    con = sqlite3.connect(db)
    name = con.execute("select display_name from participant where session_id = 1 limit 1").fetchone()[0]
    con.execute(
        "update participant set display_name = 'Only In One' where session_id = 1 and display_name = ?", (name,)
    )
    con.commit()
    erase_student(engine, "Only In One", "test")
    assert sorted(p.name for p in kept.iterdir()) == ["session-2"]
    purge_older_than(engine, datetime.now(UTC) + timedelta(minutes=1), "test")
    assert list(kept.iterdir()) == []
    engine.dispose()


def test_a_video_is_processed_as_successive_captures(labels_csv, tmp_path, tiny_model_file, yunet_file):
    import cv2

    folder = tmp_path / "frames"
    write_frames(folder, people(labels_csv, 6), [{"width": 960, "height": 540}])
    frame = cv2.imread(str(folder / "frame000.png"))
    video = tmp_path / "lecture.mp4"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"mp4v"), 5, (960, 540))
    for _ in range(25):  # 5 s of video
        writer.write(frame)
    writer.release()
    db = tmp_path / "v.db"
    result = run_agent_cli(
        "--video",
        video,
        "--interval",
        "2",
        "--db",
        f"sqlite:///{db}",
        "--model",
        tiny_model_file,
        env={"CLASSMOOD_YUNET": str(yunet_file)},
    )
    assert result.returncode == 0, result.stderr
    con = sqlite3.connect(db)
    times = [row[0] for row in con.execute("select taken_at from capture order by id")]
    assert len(times) == 3  # at 0, 2 and 4 s
    assert con.execute("select count(distinct participant_id) from observation").fetchone()[0] == 6


def test_agent_errors_are_one_line(tmp_path):
    result = run_agent_cli("--images", tmp_path / "nothing-here", "--db", f"sqlite:///{tmp_path / 'e.db'}")
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "not a folder" in result.stderr


def test_kill_9_loses_at_most_the_capture_in_flight(labels_csv, tmp_path, tiny_model_file, yunet_file):
    import signal

    folder = tmp_path / "frames"
    write_frames(folder, people(labels_csv, 6), [{}] * 40)
    db = tmp_path / "killed.db"
    command = agent_command(folder, db, tiny_model_file)
    env = agent_env(yunet_file)
    agent = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    captures = "select count(*) from capture"
    try:
        wait_for(
            lambda: sqlite3.connect(db, timeout=5).execute(captures).fetchone()[0] >= 3,
            120,
            "3 captures before the kill",
            ignore=sqlite3.OperationalError,
        )
    finally:
        agent.send_signal(signal.SIGKILL)
    agent.wait(10)
    con = sqlite3.connect(db)
    assert con.execute("pragma integrity_check").fetchone()[0] == "ok"
    partial = con.execute(
        "select c.id from capture c left join observation o on o.capture_id = c.id where c.error is null "
        "group by c.id having count(o.id) != max(c.tiles_found)"
    ).fetchall()
    assert partial == []  # every committed capture has all its observations
    assert con.execute("select status from class_session").fetchone()[0] == "running"
    second = tmp_path / "second"
    write_frames(second, people(labels_csv, 2), [{}])
    again = subprocess.run(
        agent_command(second, db, tiny_model_file), cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert again.returncode == 0, again.stderr
    statuses = sqlite3.connect(db).execute("select status from class_session order by id").fetchall()
    assert statuses == [("interrupted",), ("ended",)]


def test_tiles_on_a_light_background_like_teams(labels_csv):
    image, truth = render_gallery(people(labels_csv, 9, camera_off={2}), background=245, gap=8)
    found = find_tiles(image)
    assert len(found) == len(truth)
    for box, tile in zip(found, truth):
        assert np.allclose(box.as_tuple(), tile.box, atol=4), (box, tile.box)


def test_unnamed_tiles_keep_their_ids_when_the_grid_reshuffles(labels_csv):
    from agent.identity import IdentityTracker

    crowd = people(labels_csv, 6)
    tracker = IdentityTracker()
    first_image, first = render_gallery(crowd)
    keys_before = tracker.assign((1920, 1080), [(t.box, crop(first_image, t.box), None) for t in first])
    reordered = [crowd[i] for i in (3, 0, 5, 1, 4, 2)]
    second_image, second = render_gallery(reordered)
    keys_after = tracker.assign((1920, 1080), [(t.box, crop(second_image, t.box), None) for t in second])
    before = {t.name: k[0] for t, k in zip(first, keys_before)}
    after = {t.name: k[0] for t, k in zip(second, keys_after)}
    assert before == after


def test_an_unread_tag_on_a_reordered_tile_keeps_its_participant_unless_two_look_alike(labels_csv):
    """Zoom reorders its gallery; a tag unread in the new place is still its student where the
    tile looks like one missing participant alone, and stays unnamed where it looks like two."""
    from agent.identity import IdentityTracker

    crowd = people(labels_csv, 6)
    first_image, first = render_gallery(crowd)
    order = (3, 0, 5, 1, 4, 2)
    second_image, second = render_gallery([crowd[i] for i in order])
    unread = order.index(2)  # crowd[2]'s tile, now elsewhere, its tag not read this time

    def named(image, tiles, names):
        return [(t.box, crop(image, t.box), name) for t, name in zip(tiles, names)]

    tracker = IdentityTracker()
    before = tracker.assign((1920, 1080), named(first_image, first, [t.name for t in first]))
    names = [None if i == unread else t.name for i, t in enumerate(second)]
    after = tracker.assign((1920, 1080), named(second_image, second, names))
    assert after[unread].key == before[2].key and after[unread].named

    # Two missing participants whose tiles looked the same: no guess between them.
    twins = IdentityTracker()
    twins.assign((1920, 1080), named(first_image, first, [t.name for t in first]))
    twins.tracks[twins.name_key(first[1].name)[0]].thumbnail = twins.tracks[twins.name_key(first[2].name)[0]].thumbnail
    names = [None if t.name in (first[1].name, first[2].name) else t.name for t in second]
    again = twins.assign((1920, 1080), named(second_image, second, names))
    assert not again[unread].named


def crop(image, box):
    x, y, w, h = box
    return image[y : y + h, x : x + w]


def test_gallery_window_on_a_desktop_of_another_colour(labels_csv):
    gallery, truth = render_gallery(people(labels_csv, 6), width=1280, height=720)
    desktop = np.zeros((1080, 1920, 3), np.uint8)
    desktop[100:820, 200:1480] = gallery
    found = find_tiles(desktop)
    assert len(found) == 6
    assert np.allclose(found[0].as_tuple(), np.add(truth[0].box, (200, 100, 0, 0)), atol=4)


def test_an_overrunning_capture_makes_the_next_one_skip(labels_csv, tmp_path, tiny_model_file, yunet_env):
    """APScheduler at a 0.3 s interval with captures that take ~1 s: skipped, never piled up."""
    import threading
    import time

    from agent.identity import IdentityTracker
    from agent.pipeline import CapturePipeline
    from agent.runner import Agent
    from core.emotions import EmotionClassifier
    from core.faces import YuNetDetector
    from db import store
    from db.engine import make_engine, upgrade

    frame, _ = render_gallery(people(labels_csv, 4), width=960, height=540)
    running = []

    class SlowScreen:  # stands in for the screen only; the scheduler and pipeline are real
        def grab(self):
            running.append(1)
            assert len(running) == 1, "two captures overlapped"
            time.sleep(1.0)
            running.pop()
            return frame

    engine = make_engine(upgrade(f"sqlite:///{tmp_path / 's.db'}"))
    pipeline = CapturePipeline(YuNetDetector(), EmotionClassifier(tiny_model_file), None, IdentityTracker())
    agent = Agent(pipeline, engine, store.start_session(engine, "s", "slow", 0.3, False, {}))
    threading.Timer(4.0, agent.stop_event.set).start()
    agent.run_live(SlowScreen(), 0.3)
    assert agent.stats.skipped >= 3
    assert 2 <= agent.stats.captures <= 5
    assert agent.stats.failed == 0


def test_attention_only_agent_loads_no_emotion_model_and_stores_no_expression(labels_csv, tmp_path, yunet_file):
    """--signals attention: presence, camera, face and head pose; the emotion model file is
    never opened (CLASSMOOD_MODEL points at nothing, which stops an emotions run), no
    expression column is written, and the session says how it was read."""
    folder = tmp_path / "frames"
    write_frames(folder, people(labels_csv, 6, camera_off={2}), [{"speaker": 0}, {"speaker": 0}])
    env = {"CLASSMOOD_YUNET": str(yunet_file), "CLASSMOOD_MODEL": str(tmp_path / "no-emotion-model.keras")}
    url = f"sqlite:///{tmp_path / 'attention.db'}"
    emotions = run_agent_cli("--images", folder, "--db", url, "--no-ocr", env=env)
    assert emotions.returncode != 0 and "model file not found" in emotions.stderr
    result = run_agent_cli("--images", folder, "--db", url, "--no-ocr", "--signals", "attention", env=env)
    assert result.returncode == 0, result.stderr
    con = sqlite3.connect(tmp_path / "attention.db")
    (settings,) = con.execute("select settings from class_session where status = 'ended'").fetchone()
    assert '"signals": "attention"' in settings
    expression = " or ".join(f"p_{e} is not null" for e in ("angry", "happy", "sad", "neutral"))
    assert con.execute(
        f"select count(*) from observation where top_emotion is not null or {expression}"
    ).fetchone() == (0,)
    faces = con.execute("select yaw, pitch, looking from observation where state = 'face'").fetchall()
    assert len(faces) >= 8 and all(yaw is not None and pitch is not None for yaw, pitch, _ in faces)
    assert {looking for _, _, looking in faces} <= {"screen", "away"}
    off = con.execute("select yaw, looking from observation where state = 'camera_off'").fetchall()
    assert off and all(row == (None, None) for row in off)
