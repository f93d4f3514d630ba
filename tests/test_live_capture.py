"""The real agent capturing a real window on a virtual X screen (Xvfb + openbox), via mss.

The window shows generated galleries; the test moves it, then closes it, and checks what
the agent wrote to a real SQLite database and that it kept going.
"""

import os
import shutil
import sqlite3
import subprocess
import sys

import pytest

from bench.environment import virtual_display
from tests.conftest import ROOT, shared_file
from tests.galleries import people, write_frames
from tests.waiting import wait_for

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def display():
    for tool in ("Xvfb", "openbox", "xdotool", "xrandr"):
        if not shutil.which(tool):
            pytest.skip(f"needs {tool} (Debian: xvfb openbox xdotool x11-xserver-utils)")
    with virtual_display() as name:
        yield name


def count(db, sql):
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(db, timeout=5) as con:
            return con.execute(sql).fetchone()[0]
    except sqlite3.OperationalError:
        return 0


def display_env(display: str, tmp_path, yunet_file) -> dict:
    return {
        **os.environ,
        "DISPLAY": display,
        "PYTHONPATH": str(ROOT),
        "CLASSMOOD_YUNET": str(yunet_file),
        "XDG_STATE_HOME": str(tmp_path),
    }


def show_window(title: str, frames, seconds: float, env: dict) -> subprocess.Popen:
    """The stand-in meeting window, showing the PNGs of `frames` for `seconds` each."""
    return subprocess.Popen(
        [sys.executable, str(ROOT / "tests/meeting_window.py"), title, str(frames), str(seconds)], env=env
    )


def start_agent(window: str, interval: float, db, model, env: dict, *more: str) -> subprocess.Popen:
    command = [sys.executable, "-m", "classmood", "agent", "--window", window, "--interval", str(interval)]
    command += ["--db", f"sqlite:///{db}", "--model", str(model), *more]
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def stop_agent(agent: subprocess.Popen, env: dict) -> str:
    """`classmood agent stop`, as a user would; returns what the agent wrote to stderr."""
    subprocess.run([sys.executable, "-m", "classmood", "agent", "stop"], env=env, check=True, timeout=60)
    return agent.communicate(timeout=60)[1]


def test_agent_follows_a_real_window(display, tmp_path, tiny_model_file, yunet_file):
    labels = shared_file("data/wild_faces/labels_min48px.csv")
    frames = tmp_path / "frames"
    write_frames(frames, people(labels, 13, camera_off={3, 7}), [{"width": 1280, "height": 720}] * 2, shuffle_at={1})
    env = display_env(display, tmp_path, yunet_file)
    window = show_window("Zoom Meeting - Algebra", frames, 6, env)
    db = tmp_path / "live.db"
    agent = start_agent("Zoom Meeting", 1, db, tiny_model_file, env, "--session", "Live")
    try:
        ok = "select count(*) from capture where error is null and tiles_found = 13"
        wait_for(lambda: count(db, ok) >= 2, 90, "two good captures")
        window_id = subprocess.run(
            ["xdotool", "search", "--name", "Zoom Meeting"], env=env, capture_output=True, text=True
        ).stdout.split()[0]
        subprocess.run(["xdotool", "windowmove", window_id, "500", "300"], env=env, check=True)
        before = count(db, ok)
        wait_for(lambda: count(db, ok) >= before + 2, 30, "good captures after the move")
        cover = show_window("Spreadsheet", frames, 60, env)
        covered = "select count(*) from capture where error like '%covered by%'"
        wait_for(lambda: count(db, covered) >= 1, 30, "a capture recorded as failed while covered")
        cover.terminate()
        before = count(db, ok)
        wait_for(lambda: count(db, ok) >= before + 1, 30, "good captures once uncovered")
        subprocess.run(["xdotool", "windowminimize", window_id], env=env, check=True)
        minimized = "select count(*) from capture where error like '%minimized%'"
        wait_for(lambda: count(db, minimized) >= 1, 30, "a capture recorded as failed while minimized")
        subprocess.run(["xdotool", "windowmap", window_id], env=env, check=True)
        before = count(db, ok)
        wait_for(lambda: count(db, ok) >= before + 1, 30, "good captures after restoring the window")
        window.terminate()
        window.wait(5)
        failed = "select count(*) from capture where error like '%no window%'"
        wait_for(lambda: count(db, failed) >= 2, 30, "captures recorded as failed after the window closed")
        err = stop_agent(agent, env)
    finally:
        window.kill()
        agent.kill()
    assert agent.returncode == 0, err
    assert "Traceback" not in err
    con = sqlite3.connect(db)
    assert con.execute("select status from class_session").fetchone()[0] == "ended"
    named = con.execute("select count(*) from participant where named").fetchone()[0]
    assert named >= 12
    faces = con.execute("select max(faces_found) from capture").fetchone()[0]
    assert faces >= 10
    assert con.execute("select count(*) from observation where state = 'camera_off'").fetchone()[0] >= 4


def main_job(display, tmp_path, yunet_file, *options: str, more_env: dict | None = None):
    """`classmood run` on the embedded SQLite default, capturing a stand-in meeting window of 6
    people every second: (job, meeting window, env, port, database file)."""
    import socket

    labels = shared_file("data/wild_faces/labels_min48px.csv")
    frames = tmp_path / "frames"
    write_frames(frames, people(labels, 6), [{"width": 1280, "height": 720}])
    env = {**display_env(display, tmp_path, yunet_file), "XDG_DATA_HOME": str(tmp_path / "data")}
    env |= {"CLASSMOOD_DASHBOARD_TOKEN": "live-test-token", **(more_env or {})}
    window = show_window("Zoom Meeting", frames, 60, env)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    command = [sys.executable, "-m", "classmood", "run", "--no-browser", "--interval", "1", "--port", str(port)]
    job = subprocess.Popen([*command, *options], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return job, window, env, port, tmp_path / "data" / "classmood" / "classmood.db"


def as_a_browser(port: int, path: str, token: str) -> bytes | None:
    """The page at `path` as a browser gets it (the token leaves a cookie), None until served."""
    import urllib.request

    try:
        browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
        browser.open(f"http://127.0.0.1:{port}/?token={token}", timeout=2)
        with browser.open(f"http://127.0.0.1:{port}{path}", timeout=10) as answer:
            return answer.read()
    except OSError:
        return None


def test_the_main_job_runs_agent_and_dashboard_until_ctrl_c(display, tmp_path, tiny_model_file, yunet_file):
    """`classmood run` (what `make run` starts): screen capture + dashboard; Ctrl-C stops both."""
    import signal

    job, window, env, port, db = main_job(display, tmp_path, yunet_file, "--model", str(tiny_model_file))
    try:
        wait_for(lambda: count(db, "select count(*) from capture where faces_found >= 5") >= 2, 90, "captures")
        wait_for(lambda: as_a_browser(port, "/", env["CLASSMOOD_DASHBOARD_TOKEN"]), 30, "the dashboard")
        job.send_signal(signal.SIGINT)
        _, err = job.communicate(timeout=60)
    finally:
        window.kill()
        job.kill()
    assert job.returncode == 0, err
    assert "Traceback" not in err
    with sqlite3.connect(db) as con:
        assert con.execute("select status from class_session").fetchone()[0] == "ended"


def test_the_main_job_for_attention_only_reads_and_shows_no_expression(display, tmp_path, yunet_file):
    """`classmood run --signals attention` on a real window under Xvfb: the emotion model is never
    opened (CLASSMOOD_MODEL names no file), no expression is stored, and the observations export
    has yaw, pitch and looking but no expression column."""
    import signal

    no_model = {"CLASSMOOD_MODEL": str(tmp_path / "no-emotion-model.keras")}
    job, window, env, port, db = main_job(display, tmp_path, yunet_file, "--signals", "attention", more_env=no_model)
    token = env["CLASSMOOD_DASHBOARD_TOKEN"]
    try:
        wait_for(lambda: count(db, "select count(*) from capture where faces_found >= 5") >= 2, 90, "captures")
        sid = count(db, "select max(id) from class_session")
        export = wait_for(lambda: as_a_browser(port, f"/export/{sid}/observations.csv", token), 30, "the export")
        job.send_signal(signal.SIGINT)
        _, err = job.communicate(timeout=60)
    finally:
        window.kill()
        job.kill()
    assert job.returncode == 0 and "Traceback" not in err, err
    header = export.decode().splitlines()[0].split(",")
    assert {"yaw", "pitch", "looking"} <= set(header) and not [c for c in header if c.startswith("p_")], header
    assert count(db, "select count(*) from observation where top_emotion is not null or p_happy is not null") == 0
    assert count(db, "select count(*) from observation where state = 'face' and yaw is not null") >= 10


def test_agent_on_real_screenshots_in_a_resized_window_keeps_one_participant_per_student(
    display, tmp_path, tiny_model_file, yunet_file
):
    """Three real captures of one Zoom class in a real window; before the last the window is
    resized and the grid reshuffled (josehermosillaa_zoom1): still 17 students, 17 participants."""
    import cv2

    folder = shared_file("data/real_galleries")
    frames = tmp_path / "frames"
    frames.mkdir()
    for i, name in enumerate(("josehermosillaa_caras.jpg", "josehermosillaa_grupo.jpg", "josehermosillaa_zoom1.jpg")):
        cv2.imwrite(str(frames / f"{i}.png"), cv2.imread(str(folder / name)))
    env = display_env(display, tmp_path, yunet_file)
    window = show_window("Zoom Reunión", frames, 20, env)
    db = tmp_path / "real.db"
    agent = start_agent("Zoom Reunión", 2, db, tiny_model_file, env)
    try:
        full = "select count(*) from capture where error is null and tiles_found = 17"
        wait_for(lambda: count(db, full) >= 2, 120, "captures of the first screenshot")
        # the wider, reshuffled screenshot (first row at y 49, not 96) shows 40 s after the window opened
        wide = "select count(distinct capture_id) from observation where tile_y between 40 and 60"
        wait_for(lambda: count(db, wide) >= 2, 120, "captures of the resized, reshuffled window")
        err = stop_agent(agent, env)
    finally:
        window.kill()
        agent.kill()
    assert agent.returncode == 0, err
    con = sqlite3.connect(db)
    assert con.execute("select count(*) from participant").fetchone()[0] == 17
    per_capture = con.execute(
        "select count(distinct participant_id) from observation group by capture_id having count(*) = 17"
    ).fetchall()
    assert per_capture and all(n == 17 for (n,) in per_capture)
