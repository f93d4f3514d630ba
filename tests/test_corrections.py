"""A teacher's name corrections: rename and merge, followed by the agent, carried to the next
session with the same class list, audited, and refused to another teacher."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from agent.identity import IdentityTracker
from agent.pipeline import CaptureResult, TileResult
from core.roster import parse_roster
from db import store
from db.corrections import CorrectionError, merge, rename, session_corrections
from db.engine import make_engine, upgrade
from db.models import AuditEvent, NameCorrection, Observation, Participant

T0 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
CLASS = parse_roster(b"Qiyun Zhu\nAna Silva\nBen Ito\n")


def write(engine, sid, tracker, readings, at, caches):
    """One capture of tiles reading `readings`, through the tracker and the store, as the agent does."""
    rng = np.random.default_rng(7)
    faces = [rng.integers(0, 255, (135, 240), dtype=np.uint8) for _ in readings]
    boxes = [(250 * i, 0, 240, 135) for i in range(len(readings))]
    identities = tracker.assign((1920, 1080), list(zip(boxes, faces, readings)))
    tiles = [TileResult(b, i.key, i.label, i.named, "no_face", listed=i.listed) for b, i in zip(boxes, identities)]
    store.write_capture(engine, sid, CaptureResult(at, tiles), *caches)
    return identities


def shown(engine, sid) -> dict[str, int]:
    """Display name -> readings, for the session's students not merged away."""
    with Session(engine) as db:
        rows = db.execute(
            select(Participant.display_name, Observation.id)
            .join(Observation, Observation.participant_id == Participant.id)
            .where(Participant.session_id == sid, Participant.merged_into.is_(None))
        ).all()
    counts: dict[str, int] = {}
    for name, _ in rows:
        counts[name] = counts.get(name, 0) + 1
    return counts


def test_rename_and_merge_hold_for_the_session_and_carry_to_the_next_with_the_same_list(db_url):
    from db.accounts import add_account

    engine = make_engine(upgrade(db_url))
    alice = add_account(engine, "alice", "alice-long-password").id
    bob = add_account(engine, "bob", "bob-long-password!!").id
    sid = store.start_session(engine, "Monday", "monitor 1", 5.0, False, {}, alice, roster=CLASS)
    tracker, caches = IdentityTracker(roster=CLASS), ({}, {}, {})
    everyone = ["Qiyun Zhu", "Ana Silva", "Galaxy S21", "iPad (2)"]
    write(engine, sid, tracker, ["Qlyun Zhu", "Ana Silva", "Galaxy S21"], T0, caches)
    write(engine, sid, tracker, everyone, T0 + timedelta(seconds=5), caches)
    with Session(engine) as db:
        ids = dict(db.execute(select(Participant.display_name, Participant.id)).all())
    # "iPad (2)" (Ana on a second device) and "Galaxy S21" (Ben Ito's phone) match nobody: kept as read
    rename(engine, sid, ids["Galaxy S21"], "Ben Ito (guest)", "alice")
    merge(engine, sid, ids["iPad (2)"], ids["Ana Silva"], "alice")
    assert shown(engine, sid) == {"Qiyun Zhu": 2, "Ana Silva": 3, "Ben Ito (guest)": 2}

    tracker.corrections = session_corrections(engine, sid)  # what the agent reads before each capture
    write(engine, sid, tracker, everyone, T0 + timedelta(seconds=10), caches)
    assert shown(engine, sid) == {"Qiyun Zhu": 3, "Ana Silva": 5, "Ben Ito (guest)": 3}
    with Session(engine) as db:
        actions = db.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
        assert actions[-2:] == ["rename", "merge"]
        audit_text = " ".join(str(e.detail) + e.target for e in db.scalars(select(AuditEvent)))
        assert "Silva" not in audit_text and "Ben" not in audit_text  # names only as keyed digests

    # The same teacher, the same list (another order): corrections come along; not for bob
    same = parse_roster(b"Ben Ito\nQiyun Zhu\nAna Silva\n")
    tuesday = store.start_session(engine, "Tuesday", "monitor 1", 5.0, False, {}, alice, roster=same)
    assert session_corrections(engine, tuesday) == session_corrections(engine, sid)
    for owner, listed in ((bob, same), (alice, parse_roster(b"Qiyun Zhu\nAna Silva\n"))):
        other = store.start_session(engine, "other", "monitor 1", 5.0, False, {}, owner, roster=listed)
        assert session_corrections(engine, other) == {}
    tracker, caches = IdentityTracker(roster=same, corrections=session_corrections(engine, tuesday)), ({}, {}, {})
    write(engine, tuesday, tracker, everyone, T0 + timedelta(days=1), caches)
    assert shown(engine, tuesday) == {"Qiyun Zhu": 1, "Ana Silva": 2, "Ben Ito (guest)": 1}

    # An erasure takes the student's merged tags and the corrections about them along
    from db.retention import erase_student

    erase_student(engine, "Ana Silva", actor="test", owner=alice)
    with Session(engine) as db:
        keys = db.scalars(select(Participant.key).where(Participant.session_id.in_([sid, tuesday]))).all()
        corrected = db.scalars(select(NameCorrection.to_name).where(NameCorrection.session_id.in_([sid, tuesday])))
        assert not [k for k in keys if "silva" in k or "ipad" in k]
        assert set(corrected.all()) == {"Ben Ito (guest)"}
    engine.dispose()


def test_corrections_that_cannot_be_made(tmp_path):
    engine = make_engine(upgrade(f"sqlite:///{tmp_path / 'c.db'}"))
    sid = store.start_session(engine, "Monday", "monitor 1", 5.0, False, {})
    other = store.start_session(engine, "Other", "monitor 1", 5.0, False, {})
    write(engine, sid, IdentityTracker(), ["Ana Silva", "Ben Ito"], T0, ({}, {}, {}))
    write(engine, other, IdentityTracker(), ["Cy Young"], T0, ({}, {}, {}))
    with Session(engine) as db:
        ids = dict(db.execute(select(Participant.display_name, Participant.id)).all())
    with pytest.raises(CorrectionError, match="letter"):
        rename(engine, sid, ids["Ana Silva"], "  ...  ", "t")
    with pytest.raises(CorrectionError, match="themselves"):
        merge(engine, sid, ids["Ana Silva"], ids["Ana Silva"], "t")
    with pytest.raises(CorrectionError, match="no student"):
        merge(engine, sid, ids["Ana Silva"], ids["Cy Young"], "t")  # another session's student
    merge(engine, sid, ids["Ben Ito"], ids["Ana Silva"], "t")
    with pytest.raises(CorrectionError, match="no student"):
        rename(engine, sid, ids["Ben Ito"], "Ben", "t")  # merged away
    with Session(engine) as db:
        assert db.scalar(select(NameCorrection.to_name)) == "Ana Silva"
    engine.dispose()


def press(button) -> None:
    """Click a button below the fold: Bootstrap's smooth scrolling can leave a plain .click()
    aimed at where the button was still scrolling to."""
    button.parent.execute_script("arguments[0].click();", button)


@pytest.mark.slow
def test_the_owner_corrects_names_in_chromium_and_another_teacher_cannot(tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select

    from tests.browser import chromium
    from tests.test_pages import make_database, rendered, sign_in
    from tests.waiting import start_dashboard, wait_for

    url, sid, pid = make_database(tmp_path, accounts=True)
    engine = make_engine(url)
    with Session(engine) as db:
        people = dict(db.execute(select(Participant.id, Participant.display_name).order_by(Participant.id)).all())
    other = next(p for p in people if p != pid)
    process, base, _ = start_dashboard(url, "/login")
    browser = chromium()

    def post_from_page(path: str, form: dict) -> int:
        """A POST made by the signed-in browser itself (its cookies, its CSRF token)."""
        return browser.execute_script(
            """const [path, form] = arguments;
            const token = (document.cookie.match(/csrf_token=([^;]+)/) || [])[1] || "";
            const body = new URLSearchParams({...form, csrf_token: decodeURIComponent(token)});
            return fetch(path, {method: "POST", body, redirect: "manual"}).then(r => r.status);""",
            path,
            form,
        )

    try:
        sign_in(browser, base, "bob")
        browser.get(f"{base}/")
        assert post_from_page(f"/session/{sid}/student/{pid}/rename", {"name": "Bob was here"}) == 404
        assert post_from_page(f"/session/{sid}/student/{other}/merge", {"into": str(pid)}) == 404

        sign_in(browser, base, "alice")
        rendered(browser, f"{base}/student/{sid}/{pid}", "name-corrections")
        field = browser.find_element(By.ID, "rename-input")
        field.send_keys(Keys.CONTROL, "a")  # a Dash input ignores .clear()
        field.send_keys(Keys.DELETE, "Mia Novak")
        press(browser.find_element(By.ID, "rename-button"))
        wait_for(lambda: rendered(browser, f"{base}/student/{sid}/{pid}", "student-name") == "Mia Novak", 30, "rename")
        rendered(browser, f"{base}/student/{sid}/{other}", "name-corrections")
        Select(browser.find_element(By.ID, "merge-into")).select_by_visible_text("Mia Novak")
        press(browser.find_element(By.ID, "merge-button"))
        wait_for(lambda: browser.current_url.endswith(f"/student/{sid}/{pid}"), 30, "merge lands on the kept student")
    finally:
        browser.quit()
        process.terminate()
        _, err = process.communicate(timeout=20)
    assert "Traceback" not in err, err
    with Session(engine) as db:
        names = dict(db.execute(select(Participant.id, Participant.display_name)).all())
        assert names[pid] == "Mia Novak" and "Bob was here" not in names.values()
        assert db.scalar(select(Participant.merged_into).where(Participant.id == other)) == pid
        assert db.scalar(select(Observation.id).where(Observation.participant_id == other)) is None
        audit = db.execute(select(AuditEvent.actor, AuditEvent.action).order_by(AuditEvent.id)).all()
        assert ("alice", "rename") in audit and ("alice", "merge") in audit
        assert not [a for a in audit if a[0] == "bob" and a[1] in ("rename", "merge")]
    engine.dispose()


@pytest.mark.slow
def test_a_class_list_pasted_on_the_report_page_names_the_students(tmp_path):
    """Token mode (no accounts): the teacher pastes a list; the students stored so far take
    its names, and the page says who on it was not seen."""
    from selenium.webdriver.common.by import By

    from tests.browser import chromium
    from tests.test_pages import TOKEN, make_database, rendered
    from tests.waiting import start_dashboard, wait_for

    url, sid, _ = make_database(tmp_path, accounts=False)
    process, base, _ = start_dashboard(url, f"/_dash-layout?token={TOKEN}", {"CLASSMOOD_DASHBOARD_TOKEN": TOKEN})
    browser = chromium()
    try:
        browser.get(f"{base}/?token={TOKEN}")
        assert "No class list" in rendered(browser, f"{base}/report/{sid}", "class-list-status")
        box = browser.find_element(By.ID, "class-list-text")
        box.send_keys("Student 01\nSTUDENT 02\nAbsent Person\n")
        press(browser.find_element(By.ID, "class-list-button"))
        status = wait_for(
            lambda: (
                "on the class list" in (text := rendered(browser, f"{base}/report/{sid}", "class-list-status")) and text
            ),
            30,
            "the list's status",
        )
        assert "3 students on the class list, 2 seen" in status and "Not seen: Absent Person" in status
    finally:
        browser.quit()
        process.terminate()
        _, err = process.communicate(timeout=20)
    assert "Traceback" not in err, err
    engine = make_engine(url)
    with Session(engine) as db:
        rows = dict(db.execute(select(Participant.display_name, Participant.listed)).all())
        assert rows["STUDENT 02"] is True and rows["Student 01"] is True  # "Student 02" took the list's spelling
        assert rows["Student 03"] is False  # stored, not on the list
        audit = db.scalars(select(AuditEvent.action)).all()
        assert "class_list" in audit
    engine.dispose()
