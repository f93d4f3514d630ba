"""The teacher's time zone: the database stores UTC; every page, chart and export shows times in
the zone the dashboard runs in (this computer's, or `--timezone`), and says which.

One zone per dashboard process, set by create_app, like the database it reads.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd

_zone: ZoneInfo | None = None


class ZoneError(ValueError):
    """Not a time zone name; one line for the user."""


def parse_zone(name: str | None) -> ZoneInfo:
    """An IANA zone name ("America/Santiago", "UTC"); None or "": this computer's zone."""
    if not name:
        import tzlocal

        local = tzlocal.get_localzone()
        return local if isinstance(local, ZoneInfo) else ZoneInfo(str(local))
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ZoneError(f"not a time zone: {name!r} (an IANA name such as Europe/Paris or America/Santiago)") from None


def use(name: str | None) -> ZoneInfo:
    global _zone
    _zone = parse_zone(name)
    return _zone


def zone() -> ZoneInfo:
    return _zone or use(None)


def local(value: datetime | None) -> datetime | None:
    """A stored time (UTC; SQLite gives it back without a zone) in the teacher's zone."""
    if value is None:
        return None
    if not isinstance(value, datetime):
        value = datetime.fromisoformat(str(value))
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    return aware.astimezone(zone())


def utc(value: datetime | None) -> datetime | None:
    """A time as the database compares it: aware, in UTC (SQLite keeps the wall time it is given)."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def local_series(values: pd.Series) -> pd.Series:
    """A column of stored times (text from SQLite, timestamps from PostgreSQL) in the teacher's zone."""
    times = pd.to_datetime(values.map(str), format="ISO8601", utc=True)
    return times.dt.tz_convert(zone())


def zone_text(when: datetime | None = None) -> str:
    """ "America/Santiago, UTC-03:00": said wherever times are shown."""
    offset = (when or datetime.now(UTC)).astimezone(zone()).strftime("%z")
    return f"{zone().key}, UTC{offset[:3]}:{offset[3:]}"


def stamp(value: datetime | None) -> str:
    """ISO 8601 with the offset, to the second, for exports."""
    moment = local(value)
    return "" if moment is None else moment.isoformat(timespec="seconds")


def span(start: datetime, end: datetime | None) -> str:
    """ "2026-12-06 12:57-13:42 (America/Santiago, UTC-03:00)": when a session ran, in words."""
    first, last = local(start), local(end)
    until = (
        "still running"
        if last is None
        else f"{last:%H:%M}"
        if last.date() == first.date()
        else f"{last:%Y-%m-%d %H:%M}"
    )
    return f"{first:%Y-%m-%d %H:%M}–{until} ({zone_text(start)})"
