"""Accounts and roles on a real dashboard server over a real database: who may see what.

For each route and export: anonymous -> refused, another teacher -> refused, owner -> served.
Cookie flags, CSRF, the sign-in rate limit, the audit trail, and the sign-in flow in Chromium.
"""

import html
import os
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
import requests
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bench.sessions import generate
from db.accounts import AccountError, add_account, list_accounts, remove_account, set_password, verify
from db.engine import make_engine, upgrade
from db.models import AuditEvent, ClassSession, Participant
from tests.browser import chromium
from tests.conftest import ROOT
from tests.waiting import start_dashboard, wait_for

pytestmark = pytest.mark.slow
PASSWORDS = {
    "alice": "alice-long-password",
    "bob": "bob-long-password!",
    "root": "root-long-password",
    "eve": "eve-long-password",  # locked out by the rate-limit test
}
SECRET = "a-test-secret-for-share-links"
START = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=30)


@pytest.fixture(scope="module")
def school(tmp_path_factory):
    """Two teachers with a session each, an admin, and a session from before accounts."""
    url = upgrade(f"sqlite:///{tmp_path_factory.mktemp('school') / 'school.db'}")
    engine = make_engine(url)
    users = {
        name: add_account(engine, name, PASSWORDS[name], "admin" if name == "root" else "teacher") for name in PASSWORDS
    }
    sessions = {}
    for name, title in (("alice", "Alice's algebra"), ("bob", "Bob's biology"), (None, "Old unowned lecture")):
        sid = generate(engine, students=4, minutes=6, name=title, start=START, seed=len(title))
        with Session(engine) as db, db.begin():
            db.execute(update(ClassSession).where(ClassSession.id == sid).values(owner_id=name and users[name].id))
            pid = db.scalars(select(Participant.id).where(Participant.session_id == sid)).first()
        sessions[name] = (sid, pid, title)
    engine.dispose()
    return url, sessions


@pytest.fixture(scope="module")
def server(school):
    process, base, _ = start_dashboard(school[0], "/login", {"CLASSMOOD_SECRET_KEY": SECRET})
    yield base
    process.terminate()
    out, err = process.communicate(timeout=20)
    assert "Traceback" not in err, err
    assert "?token=" not in out  # with accounts, sign-in replaces the per-run token


def csrf_of(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def sign_in(base: str, name: str, password: str | None = None) -> requests.Session:
    browser = requests.Session()
    token = csrf_of(browser.get(base + "/login").text)
    answer = browser.post(
        base + "/login",
        data={"username": name, "password": password or PASSWORDS[name], "csrf_token": token, "next": "/sessions"},
        allow_redirects=False,
    )
    assert answer.status_code == 302 and answer.headers["Location"] == "/sessions", answer.text
    return browser


def routes(sid: int, pid: int) -> list[str]:
    return [
        f"/report/{sid}",
        f"/student/{sid}/{pid}",
        f"/share/{sid}",
        f"/export/{sid}/observations.csv",
        f"/export/{sid}/students.csv",
        f"/export/{sid}/report.html",
        f"/export/{sid}/share.html",
        f"/export/{sid}/report.pdf",
    ]


def test_every_route_answers_its_owner_only(school, server):
    _, sessions = school
    alice, bob, root = (sign_in(server, name) for name in ("alice", "bob", "root"))
    anonymous = requests.Session()
    sid, pid, _ = sessions["alice"]
    for path in routes(sid, pid):
        refused = anonymous.get(server + path, allow_redirects=False)
        assert refused.status_code in (302, 401), path
        if refused.status_code == 302:
            assert refused.headers["Location"].startswith("/login"), path
        assert bob.get(server + path).status_code == 404, path  # another teacher's: as if it did not exist
        for owner in (alice, root):
            served = owner.get(server + path)
            assert served.status_code == 200, path
    assert "Alice" in alice.get(server + f"/export/{sid}/report.html").text
    # the unowned session from before accounts: admins only
    old = sessions[None][0]
    assert alice.get(server + f"/export/{old}/students.csv").status_code == 404
    assert root.get(server + f"/export/{old}/students.csv").status_code == 200
    # Dash's own data routes need a sign-in too
    assert anonymous.get(server + "/_dash-layout").status_code == 401
    assert anonymous.post(server + "/_dash-update-component", json={}).status_code == 401


def test_dash_callbacks_need_the_csrf_header(server):
    alice = sign_in(server, "alice")
    assert "_csrf_token" in alice.cookies  # what Dash's renderer copies into X-CSRFToken
    body = {"output": "x.children", "outputs": {"id": "x", "property": "children"}, "inputs": [], "changedPropIds": []}
    refused = alice.post(server + "/_dash-update-component", json=body)
    assert refused.status_code == 400 and "CSRF" in refused.text
    # the header carrying the cookie's value is what lets a POST through (the live view's
    # callbacks in Chromium below; here a sign-out, which then takes effect)
    header = {"X-CSRFToken": alice.cookies["_csrf_token"]}
    assert alice.post(server + "/logout", headers=header, allow_redirects=False).status_code == 302
    assert alice.get(server + "/_dash-layout").status_code == 401


def test_cookie_flags_and_csrf_on_sign_in(server):
    browser = requests.Session()
    page = browser.get(server + "/login").text
    no_token = browser.post(server + "/login", data={"username": "alice", "password": PASSWORDS["alice"]})
    assert no_token.status_code == 400
    answer = browser.post(
        server + "/login",
        data={"username": "alice", "password": PASSWORDS["alice"], "csrf_token": csrf_of(page)},
        allow_redirects=False,
    )
    cookie = answer.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert answer.headers["Location"] == "/"
    # a "next" that leaves the server is not followed
    evil = browser.post(
        server + "/login",
        data={
            "username": "alice",
            "password": PASSWORDS["alice"],
            "csrf_token": csrf_of(page),
            "next": "//evil.example",
        },
        allow_redirects=False,
    )
    assert evil.headers["Location"] == "/"


def test_eleventh_wrong_password_in_a_minute_is_refused(school, server):
    browser = requests.Session()
    token = csrf_of(browser.get(server + "/login").text)

    def attempt(password):
        return browser.post(
            server + "/login",
            data={"username": "eve", "password": password, "csrf_token": token},
            allow_redirects=False,
        ).status_code

    assert [attempt(f"wrong guess {i}") for i in range(10)] == [401] * 10
    assert attempt("wrong guess 11") == 429
    assert attempt(PASSWORDS["eve"]) == 429  # locked for the minute, the right password included
    refused = browser.post(server + "/login", data={"username": "eve", "password": "x", "csrf_token": token})
    assert "Wait" in refused.text and "seconds" in refused.text and int(refused.headers["Retry-After"]) > 0
    assert sign_in(server, "alice")  # other accounts are not locked out
    engine = make_engine(school[0])
    with Session(engine) as db:
        actions = [e.action for e in db.scalars(select(AuditEvent).where(AuditEvent.target == "eve"))]
    engine.dispose()
    assert actions.count("sign_in_failed") == 10


def test_sign_out_needs_a_post_with_its_token(server):
    alice = sign_in(server, "alice")
    assert alice.get(server + "/export/1/students.csv").status_code in (200, 404)
    page = alice.get(server + "/logout").text
    assert alice.post(server + "/logout").status_code == 400  # no CSRF token: refused
    alice.post(server + "/logout", data={"csrf_token": csrf_of(page)})
    assert alice.get(server + "/_dash-layout").status_code == 401


def test_accounts_in_the_database(tmp_path):
    engine = make_engine(upgrade(f"sqlite:///{tmp_path / 'a.db'}"))
    with pytest.raises(AccountError, match="at least"):
        add_account(engine, "carol", "short")
    for weak in (" " * 10, "1234567890", "aaaaaaaaaaaa", "Qwertyuiop"):
        with pytest.raises(AccountError, match="too easy"):
            add_account(engine, "carol", weak)
    add_account(engine, "carol", "a long enough password")
    with pytest.raises(AccountError, match="exists already"):
        add_account(engine, "carol", "another long password")
    with pytest.raises(AccountError, match="exists already"):
        add_account(engine, " Carol ", "another long password")  # one name, however it is typed
    assert verify(engine, "CAROL ", "a long enough password").username == "carol"
    assert verify(engine, "carol", "a long enough password").role == "teacher"
    assert verify(engine, "carol", "wrong password here") is None
    assert verify(engine, "nobody", "a long enough password") is None
    set_password(engine, "carol", "a brand new password")
    assert verify(engine, "carol", "a brand new password") is not None
    assert [row["username"] for row in list_accounts(engine)] == ["carol"]
    remove_account(engine, "carol")
    assert list_accounts(engine) == []


def test_beyond_loopback_needs_accounts_and_the_agent_a_teacher(school, tmp_path):
    def classmood(*args, stdin=None):
        return subprocess.run(
            [sys.executable, "-m", "classmood", *args],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
        )

    empty = f"sqlite:///{tmp_path / 'empty.db'}"
    refused = classmood("dashboard", "--db", empty, "--host", "0.0.0.0")
    assert refused.returncode != 0 and "accounts" in refused.stderr and "Traceback" not in refused.stderr
    added = classmood("users", "add", "dana", "--password-stdin", "--db", empty, stdin="dana-long-password\n")
    assert added.returncode == 0, added.stderr
    listed = classmood("users", "list", "--db", empty)
    assert "dana\tteacher\t0 session(s)" in listed.stdout
    unknown = classmood("agent", "--images", str(tmp_path), "--db", empty, "--teacher", "nobody", "--no-ocr")
    assert unknown.returncode != 0 and "no account named 'nobody'" in unknown.stderr


def test_sign_in_flow_in_chromium(school, server):
    from selenium.webdriver.common.by import By

    browser = chromium(1200, 900)
    try:
        browser.get(server + "/sessions")
        wait_for(lambda: "/login" in browser.current_url, 20, "the sign-in page")
        browser.find_element(By.ID, "username").send_keys("alice")
        browser.find_element(By.ID, "password").send_keys(PASSWORDS["alice"])
        browser.find_element(By.ID, "sign-in").click()
        _, sessions = school

        def listed():
            text = browser.find_element(By.TAG_NAME, "body").text
            return sessions["alice"][2] in text and text

        text = wait_for(listed, 30, "alice's session list", interval=0.3, ignore=(Exception,))
        assert sessions["bob"][2] not in text and sessions[None][2] not in text
        # the live view (Dash callbacks, with the CSRF header from the cookie) shows her session
        browser.get(server + "/")
        wait_for(
            lambda: sessions["alice"][2] in browser.find_element(By.ID, "live-title").text,
            30,
            "alice's live view",
            interval=0.3,
            ignore=(Exception,),
        )
    finally:
        browser.quit()


def new_share_link(browser: requests.Session, base: str, session_id: int) -> requests.Response:
    """What the report page's share button does: a POST with the CSRF token."""
    token = csrf_of(browser.get(base + "/logout").text)  # any of our forms carries the token
    return browser.post(f"{base}/session/{session_id}/share", data={"csrf_token": token})


def link_in(page: str) -> str:
    return re.search(r'id="new-share-link" value="([^"]+)"', page).group(1)


def test_share_links_open_the_aggregate_until_they_expire_or_are_revoked(school, server):
    from db.models import ShareLink

    url, sessions = school
    sid, _, title = sessions["alice"]
    alice, bob = sign_in(server, "alice"), sign_in(server, "bob")
    assert new_share_link(bob, server, sid).status_code == 404  # not bob's session to share
    link = link_in(new_share_link(alice, server, sid).text)
    anonymous = requests.Session()
    page = anonymous.get(link)
    assert page.status_code == 200 and html.escape(title) in page.text
    engine = make_engine(url)
    with Session(engine) as db:
        names = db.scalars(select(Participant.display_name).where(Participant.session_id == sid)).all()
        stored = db.scalars(select(ShareLink.secret_hash)).all()
    assert names and not any(name in page.text for name in names)  # the aggregate: no student named
    assert link.rsplit("/", 1)[1] not in stored  # only a digest of the secret is kept
    assert anonymous.get(link[:-2] + "xx").status_code == 404  # tampered
    assert bob.get(link).status_code == 200  # a signed-in teacher who is not the owner: the link is enough

    with Session(engine) as db, db.begin():
        db.execute(update(ShareLink).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    assert anonymous.get(link).status_code == 410

    kept, revoked = (link_in(new_share_link(alice, server, sid).text) for _ in range(2))
    with Session(engine) as db:
        revoked_id = db.scalars(select(ShareLink.id).order_by(ShareLink.id.desc())).first()
    engine.dispose()
    token = csrf_of(alice.get(server + "/logout").text)
    assert bob.post(f"{server}/session/{sid}/share/{revoked_id}/revoke", data={"csrf_token": token}).status_code in (
        400,
        404,
    )
    answer = alice.post(f"{server}/session/{sid}/share/{revoked_id}/revoke", data={"csrf_token": token})
    assert answer.status_code == 200  # back on the report page
    assert anonymous.get(revoked).status_code == 404 and anonymous.get(kept).status_code == 200


def test_a_session_is_deleted_by_its_owner_only(school, server):
    url, sessions = school
    engine = make_engine(url)
    sid = generate(engine, students=3, minutes=2, name="To delete", start=START, seed=99)
    alice_id = verify(engine, "alice", PASSWORDS["alice"]).id
    with Session(engine) as db, db.begin():
        db.execute(update(ClassSession).where(ClassSession.id == sid).values(owner_id=alice_id))
    bob, alice = sign_in(server, "bob"), sign_in(server, "alice")
    assert alice.get(server + f"/export/{sid}/students.csv").status_code == 200
    token = csrf_of(alice.get(server + "/logout").text)  # any page's form token of this sign-in
    bob_token = csrf_of(bob.get(server + "/logout").text)
    assert (
        bob.post(server + f"/session/{sid}/delete", data={"csrf_token": bob_token, "confirm": "yes"}).status_code == 404
    )
    asked = alice.post(server + f"/session/{sid}/delete", data={"csrf_token": token})
    assert asked.status_code == 200 and "cannot be undone" in asked.text  # a confirmation first
    done = alice.post(
        server + f"/session/{sid}/delete",
        data={"csrf_token": csrf_of(asked.text), "confirm": "yes"},
        allow_redirects=False,
    )
    assert done.status_code == 302
    with Session(engine) as db:
        assert db.get(ClassSession, sid) is None
        assert db.scalars(select(Participant).where(Participant.session_id == sid)).first() is None
        event = db.scalars(select(AuditEvent).where(AuditEvent.action == "delete_session")).one()
        assert (event.actor, event.target) == ("alice", f"session {sid}")
        exported = db.scalars(select(AuditEvent).where(AuditEvent.target == f"session {sid} students.csv")).one()
    assert exported.actor == "alice"  # exports are recorded under who took them
    engine.dispose()


def test_a_removed_accounts_cookie_never_signs_in_as_the_next_account(school, server):
    """SQLite gives a removed account's row id to the next account: the cookie must not follow."""
    url, _ = school
    engine = make_engine(url)
    removed_id = add_account(engine, "gone", "gone-long-password").id
    gone = sign_in(server, "gone", "gone-long-password")
    assert gone.get(server + "/_dash-layout").status_code == 200
    remove_account(engine, "gone")
    heir = add_account(engine, "heir", "heir-long-password", "admin")
    assert heir.id == removed_id  # SQLite gave the removed account's row id to the next one
    assert gone.get(server + "/_dash-layout").status_code == 401
    assert gone.get(server + "/export/1/students.csv").status_code == 401
    remove_account(engine, "heir")
    engine.dispose()


def test_sign_out_and_a_password_change_end_every_copy_of_the_cookie(school, server):
    url, _ = school
    engine = make_engine(url)
    add_account(engine, "copied", "copied-long-password")
    first = sign_in(server, "copied", "copied-long-password")
    copy = requests.Session()
    copy.cookies.update(first.cookies)
    assert copy.get(server + "/_dash-layout").status_code == 200
    page = first.get(server + "/logout").text
    first.post(server + "/logout", data={"csrf_token": csrf_of(page)})
    assert copy.get(server + "/_dash-layout").status_code == 401, "a copied cookie outlived sign-out"

    again = sign_in(server, "copied", "copied-long-password")
    assert again.get(server + "/_dash-layout").status_code == 200
    set_password(engine, "copied", "a-new-long-password")
    assert again.get(server + "/_dash-layout").status_code == 401, "a sign-in outlived the password change"
    sign_in(server, "copied", "a-new-long-password")
    remove_account(engine, "copied")
    engine.dispose()


@pytest.mark.parametrize(
    "target", ["//evil.example/x", "/\t/evil.example/phish", "/\\evil.example", "/\n/x", "https://e.x", "/\x00/x"]
)
def test_sign_in_only_sends_to_paths_on_this_server(server, target):
    """Browsers drop tabs and newlines from a URL and read "\\" as "/": "/<tab>/evil.example"
    is "//evil.example" to them. The sign-in page asked with such a `next` keeps "/" instead,
    and a posted one is refused the same way."""
    from urllib.parse import quote

    browser = requests.Session()
    page = browser.get(server + "/login?next=" + quote(target, safe=""))
    assert page.status_code == 200, target
    assert re.search(r'name="next" value="([^"]*)"', page.text).group(1) == "/"
    form = {"username": "alice", "password": PASSWORDS["alice"], "csrf_token": csrf_of(page.text), "next": target}
    answer = browser.post(server + "/login", data=form, allow_redirects=False)
    assert answer.status_code == 302 and answer.headers["Location"] == "/", (target, answer.headers["Location"])


def test_sign_in_still_returns_to_a_page_of_this_server(server):
    browser = requests.Session()
    page = browser.get(server + "/login?next=/report/1%3Fx%3D1")
    form = {"username": "alice", "password": PASSWORDS["alice"], "csrf_token": csrf_of(page.text), "next": "/report/1"}
    answer = browser.post(server + "/login", data=form, allow_redirects=False)
    assert answer.headers["Location"] == "/report/1"


def test_a_share_link_does_not_follow_a_reused_session_id(school, server):
    """A deleted session's link must not show the next session SQLite gives its id."""
    from db.models import ClassSession as Sessions
    from db.retention import delete_session_by

    url, _ = school
    engine = make_engine(url)
    sid = generate(engine, students=2, minutes=2, name="Shared then deleted", start=START, seed=5)
    root = sign_in(server, "root")
    link = link_in(new_share_link(root, server, sid).text)
    assert requests.get(link).status_code == 200
    delete_session_by(engine, sid, "test")
    later = START + timedelta(minutes=7)
    reused = generate(engine, students=2, minutes=2, name="Someone else's lecture", start=later, seed=6)
    assert reused == sid  # SQLite reuses the id
    answer = requests.get(link)
    assert answer.status_code == 404 and "Someone else" not in answer.text
    with Session(engine) as db:
        assert db.get(Sessions, reused) is not None
    delete_session_by(engine, reused, "test")
    engine.dispose()


def test_a_huge_username_is_not_stored_whole(school, server):
    url, _ = school
    browser = requests.Session()
    token = csrf_of(browser.get(server + "/login").text)
    flood = "x" * 400_000
    answer = browser.post(server + "/login", data={"username": flood, "password": "p" * 12, "csrf_token": token})
    assert answer.status_code == 401
    engine = make_engine(url)
    with Session(engine) as db:
        rows = db.scalars(select(AuditEvent).where(AuditEvent.action == "sign_in_failed")).all()
    engine.dispose()
    assert rows and max(len(r.actor) + len(r.target) for r in rows) <= 500
