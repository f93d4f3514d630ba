"""The dashboard's one database handle and the view models its pages render.

Pages call these functions; each returns plain data (or raises NoData with a message that
explains the empty state), so callbacks stay thin and testable.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError, ProgrammingError

from core.flags import Flag, FlagRules, class_flags, student_flags
from dashboard import clock, queries
from dashboard.viewer import owner_scope
from db.engine import default_url, make_engine


class NoData(Exception):
    """Nothing to show yet; the message says why and what to do."""


@dataclass
class Context:
    url: str = field(default_factory=default_url)
    rules: FlagRules = field(default_factory=FlagRules)
    signals: str = "emotions"  # "attention": no expression shown anywhere (--signals attention)
    _engine: Engine | None = None
    _has_tables: bool = False  # checked once per engine: the live view asks for it several times a refresh

    def use(self, url: str | None, rules: FlagRules | None, signals: str = "emotions") -> None:
        """Point the dashboard at another database (and thresholds); the engine is made anew."""
        if url:
            self.url = url
        if rules:
            self.rules = rules
        self.signals = signals
        self._engine = None
        self._has_tables = False

    def engine(self) -> Engine:
        parsed = make_url(self.url)
        if parsed.get_backend_name() == "sqlite" and parsed.database and not Path(parsed.database).exists():
            raise NoData(f"No database yet at {parsed.database}. Start the agent (classmood agent) to create it.")
        if self._engine is None:
            self._engine = make_engine(self.url, create_dir=False)
        if not self._has_tables:
            try:
                if "class_session" not in inspect(self._engine).get_table_names():
                    raise NoData("The database has no ClassMood tables yet. Run: classmood db upgrade")
            except (OperationalError, ProgrammingError) as exc:
                raise NoData(f"Cannot read the database: {exc.orig}") from None
            self._has_tables = True
        return self._engine


CONTEXT = Context()


def pick_session(session_id: int | None) -> queries.SessionInfo:
    """The session asked for (or the newest), among those the signed-in user may see: another
    teacher's session is answered as one that does not exist."""
    engine = CONTEXT.engine()
    found = queries.session(engine, session_id, owner_scope())
    if found is None:
        if session_id is None:
            raise NoData("No class session yet. Start the agent during a lecture: classmood agent --window Zoom")
        raise NoData(f"There is no session {session_id}.")
    return found


def attention_only(info: queries.SessionInfo) -> bool:
    """No expression is shown for this session: the dashboard runs with --signals attention,
    or the agent recorded the session so (it then read none)."""
    return CONTEXT.signals == "attention" or (info.settings or {}).get("signals") == "attention"


ATTENTION_FLAGS = ("absent", "away")  # the flags that say nothing of an expression


def shown_flags(info: queries.SessionInfo, flags: list[Flag]) -> list[Flag]:
    """The flags a page may show for this session: with no expressions, presence and looking only."""
    return [f for f in flags if f.kind in ATTENTION_FLAGS] if attention_only(info) else flags


def captures_text(total: int, failed: int) -> str:
    """ "42 captures (8 failed)", "1 capture": the way every page and export counts them."""
    text = f"{total} capture{'' if total == 1 else 's'}"
    return text + (f" ({failed} failed)" if failed else "")


def agent_state(info: queries.SessionInfo) -> tuple[bool, str, datetime | None]:
    """(running, text, time of the last capture) — running means the last capture is recent
    for the session's interval."""
    engine = CONTEXT.engine()
    total, failed, last = queries.capture_errors(engine, info.id)
    if info.status != "running":
        return False, f"Session {info.status}; {captures_text(total, failed)}.", last
    if last is None:
        return True, "Agent started; waiting for the first capture.", last
    age = datetime.now(UTC) - last
    if age > timedelta(seconds=max(30, 4 * info.interval_s)):
        return False, f"Agent not running: last capture {age.seconds // 60} min ago ({clock_time(last)}).", last
    failing = queries.failing_since(engine, info.id)
    if failing is not None:
        good, error, count = failing
        since = f"since {clock_time(good)}" if good else "since the session began"
        return False, f"Nothing captured {since}: the last {count} captures failed ({error}).", last
    text = f"Live: {captures_text(total, failed)}, last at {clock_time(last)}."
    if info.settings.get("detector") == "MtcnnDetector":
        text += " Faces found by the slower offline detector (MTCNN): see the agent's log for CLASSMOOD_YUNET."
    return True, text, last


def clock_time(value: datetime) -> str:
    """ "12:57:03 -03": a time of day in the teacher's zone, with its abbreviation."""
    return f"{clock.local(value):%H:%M:%S %Z}"


def flags_for(session_id: int, since: datetime | None = None, per_student=None, timeline=None) -> list[Flag]:
    """All flags of a session (or of its minutes since `since`).

    Pass per_student (queries.series_by of student_minutes) and timeline (class_timeline) when
    already queried: the class-wide minutes are then folded from the per-capture rows instead
    of asked again.
    """
    engine = CONTEXT.engine()
    found: list[Flag] = []
    if per_student is None:
        per_student = queries.series_by(queries.student_minutes(engine, session_id, since))
    whole = queries.class_minutes(engine, session_id, since) if timeline is None else queries.fold_minutes(timeline)
    captured = [] if whole.empty else list(whole["minute"].dt.to_pydatetime())
    for participant_id, series in per_student.items():
        found.extend(student_flags(series, CONTEXT.rules, participant_id, captured))
    if not whole.empty:
        found.extend(class_flags(queries.as_series(whole), CONTEXT.rules))
    return sorted(found, key=lambda f: f.since)
