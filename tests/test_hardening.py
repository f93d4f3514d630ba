"""Hostile or extreme input at the edges: exports, stored names, command-line numbers."""

import pytest

from dashboard.exports import spreadsheet_safe
from db.store import storable, storable_key
from tests.test_cli import assert_clean_error, classmood


def test_csv_cells_a_spreadsheet_would_run_are_quoted():
    assert spreadsheet_safe('=HYPERLINK("http://x","y")') == '\'=HYPERLINK("http://x","y")'
    assert [spreadsheet_safe(c) for c in ("+1", "-2 pts", "@sum", "\tx")] == ["'+1", "'-2 pts", "'@sum", "'\tx"]
    assert spreadsheet_safe("Ana") == "Ana" and spreadsheet_safe(-0.25) == -0.25


def test_stored_names_lose_controls_and_direction_overrides():
    assert storable("Ana\u202e lol", 200) == "Ana lol"
    assert storable("a\x00b\x07c", 200) == "abc"
    assert storable("x" * 300, 200) == "x" * 199 + "…"
    long_a, long_b = storable_key("k" * 300 + "a"), storable_key("k" * 300 + "b")
    assert len(long_a) == len(long_b) == 200 and long_a != long_b


@pytest.mark.parametrize("interval", ["nan", "inf", "0", "-1", "1e9"])
def test_run_refuses_an_interval_that_is_no_number_of_seconds(interval, tmp_path):
    result = classmood("run", "--interval", interval, "--db", f"sqlite:///{tmp_path / 'x.db'}", "--no-browser")
    assert result.returncode == 2 and "--interval" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("command", ["run", "dashboard"])
def test_a_port_another_program_holds_is_one_line_before_any_capture(command, tmp_path):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        extra = ("--no-browser",) if command == "run" else ()
        result = classmood(command, "--port", port, "--db", f"sqlite:///{tmp_path / 'x.db'}", *extra)
    assert_clean_error(result, f"cannot listen on 127.0.0.1:{port}")
    assert not (tmp_path / "x.db").exists()


def test_a_name_with_dollar_signs_is_drawn_as_plain_text_in_the_pdf(tmp_path):
    """matplotlib's math text would typeset "$\\alpha$" or fail on "$x^$" (a 500 on report.pdf)."""
    from datetime import UTC, datetime

    from sqlalchemy import update

    from bench.sessions import generate
    from dashboard import report
    from dashboard.data import CONTEXT
    from dashboard.pdf import to_pdf
    from db.engine import make_engine, upgrade
    from db.models import Participant

    url = upgrade(f"sqlite:///{tmp_path / 'pdf.db'}")
    engine = make_engine(url)
    sid = generate(engine, students=3, minutes=3, name="Cost $x^$ of $\\alpha$", start=datetime.now(UTC), seed=2)
    with engine.begin() as db:
        db.execute(update(Participant).where(Participant.session_id == sid).values(display_name="Ana $x^$ $\\alpha$"))
    engine.dispose()
    CONTEXT.use(url, None)
    assert to_pdf(report.build(sid)).startswith(b"%PDF")


def test_a_region_off_the_screen_is_refused_at_start(tmp_path):
    from bench.environment import missing_display_tools, virtual_display

    if missing_display_tools():
        pytest.skip(f"needs {', '.join(missing_display_tools())} (Debian xvfb, openbox)")
    with virtual_display("800x600") as display:
        result = classmood(
            "agent", "--region", "5000,5000,100,100", "--db", f"sqlite:///{tmp_path / 'x.db'}", "--no-ocr",
            env={"DISPLAY": display},
        )  # fmt: skip
    assert_clean_error(result, "is not on the screen")


def test_a_full_disk_is_not_called_a_lock():
    import sqlite3

    from sqlalchemy.exc import OperationalError

    from agent.runner import why_unwritten

    def error(text):
        return OperationalError("INSERT", {}, sqlite3.OperationalError(text))

    assert why_unwritten(error("database or disk is full")) == "the disk is full"
    assert why_unwritten(error("database is locked")) == "the database is locked by another program"
    assert why_unwritten(error("disk I/O error")) == "the database is unavailable"
