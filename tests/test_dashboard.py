"""The dashboard as a teacher uses it: a real server process, a real database, headless Chromium."""

import csv
import http.cookiejar
import io
import re
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta

import pytest

from bench.sessions import Episode, generate
from db.engine import make_engine, upgrade
from tests.browser import chromium
from tests.waiting import live_refresh_body, start_dashboard, wait_for

pytestmark = pytest.mark.slow
START = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=40)


@pytest.fixture(scope="module")
def database(tmp_path_factory):
    path = tmp_path_factory.mktemp("dash") / "class.db"
    url = upgrade(f"sqlite:///{path}")
    engine = make_engine(url)
    quiet = generate(engine, students=8, minutes=20, name="Quiet seminar", start=START - timedelta(days=1), seed=3)
    live = generate(
        engine,
        students=12,
        minutes=40,
        name="Linear algebra",
        start=START,
        status="running",
        seed=1,
        episodes=(Episode(3, "sad", 20, 6), Episode(5, "camera_off", 10, 7)),
    )
    engine.dispose()
    return url, quiet, live


TOKEN = "test-token-of-this-run"


def start_server(url: str, *extra: str):
    return start_dashboard(url, f"/_dash-layout?token={TOKEN}", {"CLASSMOOD_DASHBOARD_TOKEN": TOKEN}, extra)


@pytest.fixture(scope="module")
def server(database):
    """The dashboard, and urllib carrying the cookie its token leaves (as a browser does)."""
    process, base, port = start_server(database[0])
    jar = http.cookiejar.CookieJar()
    urllib.request.install_opener(urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar)))
    urllib.request.urlopen(f"{base}/?token={TOKEN}").read()
    yield base, port
    urllib.request.install_opener(None)
    process.terminate()
    _, err = process.communicate(timeout=20)
    assert "Traceback" not in err, err


@pytest.fixture(scope="module")
def browser(server):
    browser = chromium()
    browser.get(f"{server[0]}/?token={TOKEN}")  # the address the dashboard printed: leaves the cookie
    yield browser
    browser.quit()


def wait_text(browser, element_id, predicate=bool, timeout=30):
    from selenium.webdriver.common.by import By

    seen = [None]

    def matches():
        seen[0] = browser.find_element(By.ID, element_id).text
        return predicate(seen[0])

    try:
        wait_for(matches, timeout, f"#{element_id}", interval=0.3, ignore=(Exception,))
    except AssertionError:
        raise AssertionError(f"#{element_id} never matched; last text: {seen[0]!r}") from None
    return seen[0]


def test_live_view_shows_the_running_session(server, browser):
    base, _ = server
    browser.get(base + "/")
    assert "Linear algebra" in wait_text(browser, "live-title")
    assert wait_text(browser, "live-present") == "12"
    flags = wait_text(browser, "live-flags")
    assert "Student 04" in flags and "negative" in flags
    assert "Student 06" not in flags and "absent" not in flags  # camera off is presence, not absence
    assert "Student 01" not in flags
    from selenium.webdriver.common.by import By

    assert len(browser.find_elements(By.CLASS_NAME, "student-card")) == 12


def test_chart_holds_the_expected_numbers(server, browser):
    base, _ = server
    browser.get(base + "/")
    wait_text(browser, "live-title")
    script = (
        "const g = document.querySelector('#live-mood .js-plotly-plot');"
        "return g && g._fullData ? g._fullData.map("
        "t => ({name: t.name, x: Array.from(t.x), y: Array.from(t.y)})) : null;"
    )
    data = wait_for(lambda: browser.execute_script(script), 30, "the class mood chart to render")
    assert len(data[0]["x"]) == 40 * 12  # one point per capture: 40 minutes at 5 s
    neutral = next(trace for trace in data if trace["name"] == "neutral")
    assert 0.2 < sum(neutral["y"]) / len(neutral["y"]) < 0.9


def test_clicking_a_student_opens_their_timeline(server, browser):
    from selenium.webdriver.common.by import By

    base, _ = server
    browser.get(base + "/")
    wait_text(browser, "live-students")
    for _ in range(10):  # the grid re-renders every few seconds; retry a click that lands between renders
        try:
            card = next(c for c in browser.find_elements(By.CLASS_NAME, "student-card") if "Student 04" in c.text)
            card.find_element(By.TAG_NAME, "a").click()
            break
        except Exception:
            time.sleep(0.3)
    assert wait_text(browser, "student-name") == "Student 04"
    assert "negative" in wait_text(browser, "student-flags")


def test_a_quiet_session_has_no_flags(server, browser, database):
    base, _ = server
    browser.get(f"{base}/report/{database[1]}")
    assert "No flags" in wait_text(browser, "report-flags")


def test_exports_contain_the_right_rows(server, database):
    base, _ = server
    live = database[2]
    with urllib.request.urlopen(f"{base}/export/{live}/observations.csv") as response:
        rows = list(csv.reader(io.StringIO(response.read().decode())))
    assert rows[0][:3] == ["time", "student", "state"]
    assert len(rows) - 1 == 12 * 40 * 12
    with urllib.request.urlopen(f"{base}/export/{live}/students.csv") as response:
        students = list(csv.DictReader(io.StringIO(response.read().decode())))
    assert len(students) == 12
    assert {s["student"] for s in students if int(s["flags"]) > 0} == {"Student 04"}
    with urllib.request.urlopen(f"{base}/export/{live}/report.html") as response:
        page = response.read().decode()
    assert "Linear algebra" in page and page.count("<svg") >= 2  # the charts drawn in the file
    assert 'src="http' not in page and 'href="http' not in page  # nothing fetched: it opens offline
    assert len(page) < 1_000_000  # was 4.8 MB with Plotly's script inside
    time_cell, *_, probability = rows[1][:6]
    assert len(time_cell) == len("2026-12-06T09:00:00+00:00") and len(probability.split(".")[-1]) <= 4
    assert all(len(v.split(".")[-1]) <= 4 for v in students[0].values() if v.replace(".", "").isdigit())
    assert all(s["observations"].isdigit() for s in students)  # a count, not "25.0"


def test_report_student_table_in_words_with_percentages_and_sortable(server, browser, database):
    from selenium.webdriver.common.by import By

    base, _ = server
    browser.get(f"{base}/report/{database[2]}")
    wait_text(browser, "report-students", lambda text: "%" in text)
    table = browser.find_element(By.ID, "report-students")
    headers = [th.text for th in table.find_elements(By.CSS_SELECTOR, "th.dash-header")]
    assert "Face seen" in headers and "Mean valence (-1 to +1)" in headers
    assert not any("_" in header for header in headers)

    def column(name: str) -> list[str]:
        return [td.text for td in table.find_elements(By.CSS_SELECTOR, f'td.dash-cell[data-dash-column="{name}"]')]

    assert all(share.endswith("%") for share in column("camera_off_share"))
    sort = table.find_element(By.CSS_SELECTOR, 'th.dash-header[data-dash-column="mean_valence"] .column-header--sort')
    sort.click()

    def valences() -> list[float]:
        return [float(v.replace("\u2212", "-")) for v in column("mean_valence")]  # d3 writes a real minus

    wait_for(lambda: valences() == sorted(valences()), 10, "sorted by valence")
    with urllib.request.urlopen(f"{base}/export/{database[2]}/report.html") as response:
        page = response.read().decode()
    assert '<th onclick="sortBy(this)">Face seen</th>' in page and " %</td>" in page
    assert "face_share" not in page


def test_pdf_report(server, database):
    base, _ = server
    with urllib.request.urlopen(f"{base}/export/{database[2]}/report.pdf") as response:
        document = response.read()
    assert document.startswith(b"%PDF") and len(document) > 10_000


def test_share_view_has_no_names(server, browser, database):
    base, _ = server
    browser.get(f"{base}/share/{database[2]}")
    wait_text(browser, "share-title")
    assert "Student" not in browser.page_source
    with urllib.request.urlopen(f"{base}/export/{database[2]}/share.html") as response:
        assert "Student 0" not in response.read().decode()


def test_live_view_follows_new_writes(server, browser, database):
    from agent.pipeline import CaptureResult, TileResult
    from db import store

    base, _ = server
    browser.get(base + "/")
    wait_text(browser, "live-present", lambda t: t == "12")
    engine = make_engine(database[0])
    tiles = [TileResult((0, 0, 10, 10), "name:newcomer", "New Comer", True, "camera_off")]
    store.write_capture(engine, database[2], CaptureResult(datetime.now(UTC), tiles), {})
    engine.dispose()
    assert wait_text(browser, "live-present", lambda t: t == "1", timeout=20) == "1"
    assert "Live" in wait_text(browser, "live-agent")


def test_binds_loopback_only_by_default(server):
    _, port = server
    with open("/proc/net/tcp") as f:
        listening = [line.split()[1] for line in f.readlines()[1:] if line.split()[3] == "0A"]
    mine = [address for address in listening if int(address.split(":")[1], 16) == port]
    assert mine == ["0100007F:" + f"{port:04X}"]


def test_missing_database_is_explained(tmp_path, browser):
    process, base, _ = start_server(f"sqlite:///{tmp_path / 'nothing.db'}")
    try:
        browser.get(f"{base}/?token={TOKEN}")  # another port: its own cookie
        assert "No database yet" in wait_text(browser, "empty-state")
        assert not (tmp_path / "nothing.db").exists()
    finally:
        process.terminate()
        _, err = process.communicate(timeout=20)
    assert "Traceback" not in err


def test_a_zoomed_chart_stays_zoomed_across_refreshes(server, browser):
    """The live view refreshes every 3 s; a teacher's zoom on the class chart must survive it."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    base, _ = server
    browser.get(base + "/")
    graph = "document.querySelector('#live-mood .js-plotly-plot')"
    wait_for(lambda: browser.execute_script(f"return {graph} && {graph}._fullData.length"), 30, "the chart's data")
    full = browser.execute_script(f"return {graph}._fullLayout.xaxis.range")
    plot_area = browser.find_element(By.CSS_SELECTOR, "#live-mood .nsewdrag")
    ActionChains(browser).move_to_element_with_offset(plot_area, -150, 0).click_and_hold().move_by_offset(
        200, 0
    ).release().perform()  # a drag-zoom, as a user does it
    zoomed = wait_for(
        lambda: (r := browser.execute_script(f"return {graph}._fullLayout.xaxis.range")) != full and r, 5, "the zoom"
    )
    time.sleep(3 * 3.5)  # three refreshes of the live body
    assert browser.execute_script(f"return {graph}._fullLayout.xaxis.range") == zoomed

    ActionChains(browser).double_click(browser.find_element(By.CSS_SELECTOR, "#live-mood .nsewdrag")).perform()
    time.sleep(2 * 3.5)  # a double-click zooms back out, and that too survives the refresh
    assert browser.execute_script(f"return {graph}._fullLayout.xaxis.range")[0] == full[0]


@pytest.mark.parametrize("path", ["/", "/sessions", "/report/1", "/export/1/students.csv", "/_dash-layout", "/assets/"])
def test_without_the_token_nothing_is_served(server, path):
    base, _ = server
    anonymous = urllib.request.build_opener()  # no cookie: another user of this computer
    for url in (base + path, f"{base}{path}?token=wrong"):
        with pytest.raises(urllib.error.HTTPError) as refused:
            anonymous.open(url)
        assert refused.value.code == 403


def test_dash_callbacks_refuse_a_request_without_the_token(server):
    base, _ = server
    request = urllib.request.Request(
        base + "/_dash-update-component", data=b"{}", headers={"Content-Type": "application/json"}, method="POST"
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.build_opener().open(request)
    assert refused.value.code == 403


def test_the_token_leaves_a_cookie_scripts_cannot_read_and_leaves_the_address(server):
    import http.client

    base, port = server
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", f"/report/1?token={TOKEN}")
    response = connection.getresponse()
    cookie = response.getheader("Set-Cookie")
    assert response.status == 302 and response.getheader("Location") == "/report/1"  # the token leaves the URL
    assert cookie.startswith(f"classmood_token_{port}=") and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert TOKEN not in cookie  # a digest, not the token itself
    assert response.getheader("Referrer-Policy") == "no-referrer" and response.getheader("X-Frame-Options") == "DENY"
    connection.close()


def test_a_token_that_is_not_ascii_is_refused_not_a_server_error(server):
    base, _ = server
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.build_opener().open(f"{base}/?token=%C3%A9t%C3%A9")
    assert refused.value.code == 403


def test_the_dashboard_refuses_to_listen_beyond_this_computer(database):
    from tests.test_cli import assert_clean_error, classmood

    assert_clean_error(classmood("dashboard", "--db", database[0], "--host", "0.0.0.0"), "needs accounts")


def test_a_refresh_sends_the_charts_only_when_a_capture_is_new(server, database):
    """20 teachers' pages refresh every 3 s: a page already showing the latest capture gets
    the agent's line and nothing else; a new capture sends the charts again."""
    import json

    from agent.pipeline import CaptureResult, TileResult
    from db import store

    base, _ = server
    dependencies = json.load(urllib.request.urlopen(base + "/_dash-dependencies"))

    def refresh(shown):
        body = live_refresh_body(dependencies, shown)
        request = urllib.request.Request(
            base + "/_dash-update-component", json.dumps(body).encode(), {"Content-Type": "application/json"}
        )
        return json.load(urllib.request.urlopen(request))["response"]

    first = refresh(None)
    assert {"live-mood", "live-grid", "live-agent"} <= set(first)
    # the page holds an opaque key: nothing about the server (database URL, path, password)
    assert re.fullmatch(r"[0-9a-f]{32}", first["live-shown"]["data"])
    assert database[0].split("///")[-1] not in json.dumps(first)
    again = refresh(first["live-shown"]["data"])
    assert "live-agent" in again and not {"live-mood", "live-grid", "live-stats"} & set(again)
    engine = make_engine(database[0])
    tiles = [TileResult((0, 0, 10, 10), "name:late", "Late Comer", True, "camera_off")]
    store.write_capture(engine, database[2], CaptureResult(datetime.now(UTC), tiles), {})
    engine.dispose()
    newer = refresh(first["live-shown"]["data"])
    assert "Late Comer" in json.dumps(newer["live-grid"]) and newer["live-shown"]["data"] != first["live-shown"]["data"]


def test_an_erased_student_leaves_the_running_live_view(tmp_path):
    """The live view keeps what it built in memory: an erasure must reach that too."""
    import json

    from db.retention import erase_student

    url = upgrade(f"sqlite:///{tmp_path / 'erase.db'}")
    engine = make_engine(url)
    generate(engine, students=3, minutes=3, name="Ended class", start=START, seed=8)
    process, base, _ = start_server(url)
    try:
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        opener.open(f"{base}/?token={TOKEN}").read()
        dependencies = json.load(opener.open(base + "/_dash-dependencies"))

        def grid(shown=None):
            body = json.dumps(live_refresh_body(dependencies, shown)).encode()
            request = urllib.request.Request(
                base + "/_dash-update-component", body, {"Content-Type": "application/json"}
            )
            return json.load(opener.open(request))["response"]

        first = grid()
        assert "Student 02" in json.dumps(first["live-grid"])
        erase_student(engine, "Student 02", "test")
        after = grid(first["live-shown"]["data"])
        assert "live-grid" in after and "Student 02" not in json.dumps(after["live-grid"])
    finally:
        process.terminate()
        process.communicate(timeout=20)
        engine.dispose()


def test_a_newline_in_a_path_cannot_forge_a_log_line(tmp_path):
    url = upgrade(f"sqlite:///{tmp_path / 'log.db'}")
    process, base, _ = start_server(url)
    try:
        with pytest.raises(urllib.error.HTTPError):
            urllib.request.build_opener().open(f"{base}/x%0aINFO%20forged%20line")
    finally:
        process.terminate()
        _, err = process.communicate(timeout=20)
    assert not any(line.startswith("INFO forged line") for line in err.splitlines()), err
    assert "forged" in err  # the request is logged, the newline as \n


def test_the_pdf_report_reads_as_a_report(server, database):
    """Opened and read back: every page landscape, the students' table with its camera-off
    column, counts as whole numbers, the times' zone said."""
    from pypdf import PdfReader

    base, _ = server
    with urllib.request.urlopen(f"{base}/export/{database[2]}/report.pdf") as response:
        pdf = PdfReader(io.BytesIO(response.read()))
    assert len(pdf.pages) >= 2
    assert all(page.mediabox.width > page.mediabox.height for page in pdf.pages)
    text = "\n".join(page.extract_text() for page in pdf.pages)
    assert "Camera off" in text and "Student 04" in text and "UTC" in text
    assert ".0 " not in text.split("Students", 1)[-1]  # no "480.0" captures


def test_a_student_read_only_by_guesses_has_no_most_shown_expression(tmp_path):
    """'Most shown' counts confident readings: a face the model only ever guessed at shows none."""
    from sqlalchemy import select, update
    from sqlalchemy.orm import Session

    from dashboard import queries
    from db.models import Observation, Participant

    engine = make_engine(upgrade(f"sqlite:///{tmp_path / 'guess.db'}"))
    sid = generate(engine, students=2, minutes=3, name="Guesses", start=START, seed=5)
    with Session(engine) as db, db.begin():
        first = db.scalars(select(Participant.id).order_by(Participant.id)).first()
        db.execute(update(Observation).where(Observation.participant_id == first).values(uncertain=True))
    table = queries.student_summary(engine, sid).set_index("participant_id")
    assert table.loc[first, "dominant"] == ""
    assert all(table.drop(index=first)["dominant"] != "")
    assert table["observations"].dtype.kind == "i"
    engine.dispose()
