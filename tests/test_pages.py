"""Every page, rendered in headless Chromium, in both access modes and for every kind of viewer.

Fetching a page's shell says nothing of what Dash renders in it (a layout that raises leaves
the page blank while the shell answers 200). Here each page is loaded in a real browser and its
rendered content is checked: with the per-run token (no accounts), and with accounts signed in
as the session's owner, another teacher, and an admin.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bench.sessions import Episode, generate
from db.accounts import add_account
from db.engine import make_engine, upgrade
from db.models import ClassSession, Participant
from tests.browser import chromium
from tests.waiting import start_dashboard, wait_for

pytestmark = pytest.mark.slow
START = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=30)
TOKEN = "token-of-the-page-test"
PASSWORDS = {"alice": "alice-long-password", "bob": "bob-long-password!", "root": "root-long-password"}


def make_database(folder, accounts: bool) -> tuple[str, int, int]:
    """A session with a flagged student; with accounts, owned by alice. (url, session, student)"""
    url = upgrade(f"sqlite:///{folder / 'pages.db'}")
    engine = make_engine(url)
    sid = generate(engine, students=5, minutes=12, name="Rendered lecture", start=START, seed=4,
                   episodes=(Episode(1, "camera_off", 2, 6),))  # fmt: skip
    with Session(engine) as db, db.begin():
        pid = db.scalars(select(Participant.id).where(Participant.session_id == sid)).first()
        if accounts:
            users = {name: add_account(engine, name, pw, "admin" if name == "root" else "teacher")
                     for name, pw in PASSWORDS.items()}  # fmt: skip
            db.execute(update(ClassSession).where(ClassSession.id == sid).values(owner_id=users["alice"].id))
    engine.dispose()
    return url, sid, pid


def rendered(browser, url: str, element_id: str, timeout: float = 30) -> str:
    """The text of #element_id once Dash has rendered it (fails with the page's text if never)."""
    from selenium.webdriver.common.by import By

    browser.get(url)

    def text():
        return browser.find_element(By.ID, element_id).text

    try:
        return wait_for(text, timeout, f"#{element_id} on {url}", interval=0.3, ignore=(Exception,))
    except AssertionError:
        body = browser.find_element(By.TAG_NAME, "body").text
        raise AssertionError(f"#{element_id} never rendered on {url}; the page shows: {body[:500]!r}") from None


def ids_on_page(browser) -> set[str]:
    return set(browser.execute_script("return [...document.querySelectorAll('[id]')].map(e => e.id)"))


def check_pages(browser, base: str, sid: int, pid: int, can_delete: bool) -> None:
    assert "Rendered lecture" in rendered(browser, f"{base}/", "live-title")
    assert "Rendered lecture" in rendered(browser, f"{base}/sessions", "_pages_content")
    assert rendered(browser, f"{base}/report/{sid}", "report-title") == "Rendered lecture"
    assert "captures" in rendered(browser, f"{base}/report/{sid}", "report-summary")
    page_ids = ids_on_page(browser)
    assert "report-students" in page_ids
    assert ("delete" in page_ids) == can_delete and ("share-link" in page_ids) == can_delete
    assert rendered(browser, f"{base}/student/{sid}/{pid}", "student-name")
    assert "confident readings" in rendered(browser, f"{base}/student/{sid}/{pid}", "student-usual")
    assert "class aggregate" in rendered(browser, f"{base}/share/{sid}", "share-title")


def test_every_page_renders_with_the_per_run_token(tmp_path):
    url, sid, pid = make_database(tmp_path, accounts=False)
    process, base, _ = start_dashboard(url, f"/_dash-layout?token={TOKEN}", {"CLASSMOOD_DASHBOARD_TOKEN": TOKEN})
    browser = chromium()
    try:
        browser.get(f"{base}/?token={TOKEN}")
        check_pages(browser, base, sid, pid, can_delete=False)
    finally:
        browser.quit()
        process.terminate()
        _, err = process.communicate(timeout=20)
    assert "Traceback" not in err, err


def sign_in(browser, base: str, name: str) -> None:
    from selenium.webdriver.common.by import By

    browser.delete_all_cookies()
    browser.get(f"{base}/login")
    browser.find_element(By.ID, "username").send_keys(name)
    browser.find_element(By.ID, "password").send_keys(PASSWORDS[name])
    browser.find_element(By.ID, "sign-in").click()
    wait_for(lambda: "/login" not in browser.current_url, 20, f"{name}'s sign-in")


def test_every_page_renders_for_the_owner_and_an_admin_and_no_page_for_another_teacher(tmp_path):
    from selenium.webdriver.common.by import By

    url, sid, pid = make_database(tmp_path, accounts=True)
    process, base, _ = start_dashboard(url, "/login")
    browser = chromium()
    try:
        for name in ("alice", "root"):
            sign_in(browser, base, name)
            check_pages(browser, base, sid, pid, can_delete=True)
        sign_in(browser, base, "bob")
        assert "No class session yet" in rendered(browser, f"{base}/", "live-empty")
        for path in (f"/report/{sid}", f"/student/{sid}/{pid}", f"/share/{sid}"):
            browser.get(base + path)
            body = browser.find_element(By.TAG_NAME, "body").text
            assert "Rendered lecture" not in body and "Not Found" in body, path
    finally:
        browser.quit()
        process.terminate()
        _, err = process.communicate(timeout=20)
    assert "Traceback" not in err, err


@pytest.mark.parametrize(("env", "extra", "zone"), [
    ({"TZ": "America/Santiago"}, (), "America/Santiago"),  # this computer's zone
    ({"TZ": "UTC"}, ("--timezone", "Asia/Kolkata"), "Asia/Kolkata"),  # --timezone wins
])  # fmt: skip
def test_times_are_shown_in_the_teachers_zone_and_exported_with_their_offset(tmp_path, env, extra, zone):
    """The database keeps UTC; the sessions page, the live line and the exports show the
    dashboard's zone and say which (a session named at 12:57 local was listed at 15:57)."""
    import urllib.request
    from zoneinfo import ZoneInfo

    url, sid, _ = make_database(tmp_path, accounts=False)
    process, base, _ = start_dashboard(
        url, f"/_dash-layout?token={TOKEN}", {"CLASSMOOD_DASHBOARD_TOKEN": TOKEN, **env}, extra
    )
    browser = chromium()
    local_start = START.astimezone(ZoneInfo(zone))
    try:
        browser.get(f"{base}/?token={TOKEN}")
        listed = rendered(browser, f"{base}/sessions", "sessions-table")
        assert f"{local_start:%Y-%m-%d %H:%M}" in listed and zone in listed, listed
        assert zone in rendered(browser, f"{base}/report/{sid}", "zone")
        with urllib.request.urlopen(f"{base}/export/{sid}/observations.csv?token={TOKEN}") as answer:
            first_row = answer.read().decode().splitlines()[1]
        offset = local_start.strftime("%z")
        assert first_row.split(",")[0] == local_start.isoformat(timespec="seconds"), first_row
        assert first_row.split(",")[0].endswith(f"{offset[:3]}:{offset[3:]}")
    finally:
        browser.quit()
        process.terminate()
        _, err = process.communicate(timeout=20)
    assert "Traceback" not in err, err


def test_an_unknown_time_zone_is_refused_in_one_line(tmp_path):
    from tests.test_cli import assert_clean_error, classmood

    result = classmood("dashboard", "--db", f"sqlite:///{tmp_path / 'z.db'}", "--timezone", "Mars/Olympus")
    assert_clean_error(result, "not a time zone")


def test_screenshots_of_every_page_at_two_screen_sizes(tmp_path):
    """Every page at 1366x768 and 1920x1080, saved for a person to look at
    ($CLASSMOOD_SCREENSHOTS, else the test's folder); each must render without a horizontal
    scrollbar (the report's student table was cut at 1600 px)."""
    import os
    from pathlib import Path

    from db import store

    url, sid, pid = make_database(tmp_path, accounts=False)
    engine = make_engine(url)
    with Session(engine) as db, db.begin():
        off = db.scalars(select(Participant.id).where(Participant.display_name == "Student 02")).one()
        db.execute(update(ClassSession).where(ClassSession.id == sid).values(status="running", ended_at=None))
    now = datetime.now(UTC)
    for ago in (10, 5):  # the meeting window closed: the latest captures fail
        store.write_failed_capture(
            engine, sid, now - timedelta(seconds=ago), "no window whose title contains 'Zoom'", {}
        )
    engine.dispose()
    folder = Path(os.environ.get("CLASSMOOD_SCREENSHOTS") or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    process, base, _ = start_dashboard(url, f"/_dash-layout?token={TOKEN}", {"CLASSMOOD_DASHBOARD_TOKEN": TOKEN})
    pages = {
        "live-lost-source": ("/", "live-agent"),
        "sessions": ("/sessions", "sessions-table"),
        "report": (f"/report/{sid}", "report-students"),
        "student": (f"/student/{sid}/{pid}", "student-timeline"),
        "student-camera-off": (f"/student/{sid}/{off}", "student-timeline"),
        "share": (f"/share/{sid}", "share-title"),
    }
    try:
        for width, height in ((1366, 768), (1920, 1080)):
            browser = chromium(width, height)
            try:
                browser.get(f"{base}/?token={TOKEN}")
                for name, (path, element) in pages.items():
                    shown = rendered(browser, base + path, element)
                    if name == "student-camera-off":
                        assert "camera off" in shown  # said on the chart, not left as a blank stretch
                    if name == "report":
                        cell = "return getComputedStyle(document.querySelector('#report-students td')).fontFamily"
                        assert "monospace" not in browser.execute_script(cell)  # the page's font
                    if name == "live-lost-source":
                        assert "Nothing captured since" in shown, shown
                        assert "No current reading" in rendered(browser, base + path, "live-snapshot")
                    wide = browser.execute_script("return document.documentElement.scrollWidth > window.innerWidth")
                    browser.save_screenshot(str(folder / f"{name}-{width}x{height}.png"))
                    assert not wide, f"{name} scrolls sideways at {width} px"
            finally:
                browser.quit()
    finally:
        process.terminate()
        _, err = process.communicate(timeout=20)
    assert "Traceback" not in err, err
    assert len(list(folder.glob("*.png"))) == 2 * len(pages)


EXPRESSION_WORDS = ("valence", "Happy", "happy", "Most shown", "Class mood", "Emotion distribution", "p_sad")


def fetched(url: str) -> bytes:
    import urllib.request

    with urllib.request.urlopen(url, timeout=30) as answer:
        return answer.read()


def check_no_expression(browser, base: str, sid: int, pid: int, away_pid: int) -> None:
    """Every page and export of session `sid` without an expression; where students looked instead."""
    from io import BytesIO

    from pypdf import PdfReader
    from selenium.webdriver.common.by import By

    rendered(browser, f"{base}/", "live-screen")
    assert browser.find_element(By.ID, "live-mood-row").value_of_css_property("display") == "none"
    grid = rendered(browser, f"{base}/", "live-students")
    assert "at the screen" in grid and not any(word in grid for word in EXPRESSION_WORDS), grid
    summary = rendered(browser, f"{base}/report/{sid}", "report-summary")
    assert "at their screen" in summary and "valence" not in summary, summary
    page = browser.find_element(By.TAG_NAME, "body").text
    assert not any(word in page for word in EXPRESSION_WORDS), page
    assert "away" in rendered(browser, f"{base}/report/{sid}", "report-flags")
    assert "at the screen in" in rendered(browser, f"{base}/student/{sid}/{pid}", "student-looking")
    assert {"student-usual", "student-timeline"}.isdisjoint(ids_on_page(browser))
    assert "looking away" in rendered(browser, f"{base}/student/{sid}/{away_pid}", "student-looking-chart")
    observations = fetched(f"{base}/export/{sid}/observations.csv?token={TOKEN}").decode()
    header = observations.splitlines()[0].split(",")
    assert {"yaw", "pitch", "looking"} <= set(header) and not {"top_emotion", "p_happy"} & set(header), header
    students = fetched(f"{base}/export/{sid}/students.csv?token={TOKEN}").decode().splitlines()[0]
    assert "at_screen_share" in students and "happy" not in students and "valence" not in students, students
    report_html = fetched(f"{base}/export/{sid}/report.html?token={TOKEN}").decode()
    assert "At their screen" in report_html and not any(w in report_html for w in EXPRESSION_WORDS)
    pdf = PdfReader(BytesIO(fetched(f"{base}/export/{sid}/report.pdf?token={TOKEN}")))
    text = " ".join(p.extract_text() for p in pdf.pages)
    assert "at their screen" in text and not any(word in text for word in EXPRESSION_WORDS), text[:500]


def test_attention_only_shows_and_exports_no_expression(tmp_path):
    """A session the agent read with --signals attention, and an emotions session shown by a
    dashboard started with --signals attention: no page, chart, flag or export holds an
    expression; each shows who is at their screen, and the "looking away" flag with its reason."""
    url = upgrade(f"sqlite:///{tmp_path / 'attention.db'}")
    engine = make_engine(url)
    away = (Episode(1, "away", 2, 7),)
    read_for_attention = generate(engine, students=4, minutes=12, name="Attention lecture", start=START, seed=5,
                                  episodes=away, signals="attention")  # fmt: skip
    read_for_emotions = generate(engine, students=4, minutes=12, name="Mood lecture", start=START, seed=6,
                                 episodes=away)  # fmt: skip
    with Session(engine) as db:
        pids = {
            sid: db.scalars(select(Participant.id).where(Participant.session_id == sid).order_by(Participant.id)).all()
            for sid in (read_for_attention, read_for_emotions)
        }
    engine.dispose()
    env = {"CLASSMOOD_DASHBOARD_TOKEN": TOKEN}
    for sid, extra in ((read_for_attention, ()), (read_for_emotions, ("--signals", "attention"))):
        with Session(make_engine(url)) as db, db.begin():  # the live view shows the newest session
            db.execute(update(ClassSession).where(ClassSession.id == sid).values(started_at=datetime.now(UTC)))
        process, base, _ = start_dashboard(url, f"/_dash-layout?token={TOKEN}", env, extra)
        browser = chromium()
        try:
            browser.get(f"{base}/?token={TOKEN}")
            check_no_expression(browser, base, sid, pids[sid][0], pids[sid][1])
        finally:
            browser.quit()
            process.terminate()
            _, err = process.communicate(timeout=20)
        assert "Traceback" not in err, err
