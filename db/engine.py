"""Where the database is, and how to open it: SQLite (WAL) by default, any SQLAlchemy URL."""

from __future__ import annotations

import os
import time
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

ROOT = Path(__file__).resolve().parents[1]
BUSY_TIMEOUT_S = 3.0  # a writer waits this long for a lock before the agent queues the capture


class DatabaseError(RuntimeError):
    """The database cannot be opened or migrated; one line for the user."""


def default_url() -> str:
    """$CLASSMOOD_DB, else classmood.db in the user's data directory."""
    if os.environ.get("CLASSMOOD_DB"):
        return os.environ["CLASSMOOD_DB"]
    from platformdirs import user_data_dir

    folder = Path(user_data_dir("classmood", appauthor=False))
    return f"sqlite:///{folder / 'classmood.db'}"


def missing_sqlite_file(url: str) -> bool:
    """A SQLite URL whose file does not exist yet (asking it anything would create it)."""
    parsed = make_url(url)
    return parsed.get_backend_name() == "sqlite" and bool(parsed.database) and not Path(parsed.database).exists()


def make_engine(url: str | None = None, create_dir: bool = True, ping: bool = True) -> Engine:
    """An engine for `url` (the default SQLite file when None). `ping` checks a pooled server
    connection before each use (a round trip): the dashboard wants that after a database
    restart; the agent does not, it keeps a capture the database refused and writes it later."""
    url = url or default_url()
    parsed = parse_url(url)
    try:
        if parsed.get_backend_name() == "sqlite":
            if parsed.database and parsed.database != ":memory:" and create_dir:
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_S})
            event.listen(engine, "connect", _sqlite_pragmas)
            return engine
        return create_engine(url, pool_pre_ping=ping)
    except (NoSuchModuleError, ImportError) as exc:
        where = printable(parsed)
        raise DatabaseError(f"no database driver for {where}: {exc}") from None
    except OSError as exc:
        raise DatabaseError(f"cannot create the database's folder: {exc}") from None


def parse_url(url: str) -> URL:
    """The SQLAlchemy URL, or a one-line DatabaseError that shows what one looks like."""
    try:
        return make_url(url)
    except ArgumentError:
        raise DatabaseError(
            f"not a database URL: {url!r} (e.g. sqlite:////home/me/classmood.db or "
            "postgresql+psycopg://user:password@host/classmood)"
        ) from None


def printable(url: str | URL) -> str:
    """The URL as it may be shown (terminal, logs): the password masked."""
    return (url if isinstance(url, URL) else parse_url(url)).render_as_string(hide_password=True)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    """WAL lets the dashboard read while the agent writes; the busy timeout rides out short locks."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
    cursor.close()


def alembic_config(url: str):
    from alembic.config import Config

    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "db" / "migrations"))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str | None = None, revision: str = "head") -> str:
    """Bring the schema up to `revision` (idempotent); returns the URL used."""
    url = url or default_url()
    _migrate(url, "upgrade", revision)
    return url


def downgrade(url: str, revision: str = "base") -> None:
    _migrate(url, "downgrade", revision)


def when_unlocked(action, patience_s: float = 60.0):
    """action(), retried while another writer (the dashboard, a backup) holds the lock."""
    from sqlalchemy.exc import OperationalError

    deadline = time.monotonic() + patience_s
    while True:
        try:
            return action()
        except OperationalError as exc:
            if "locked" not in str(exc.orig) or time.monotonic() > deadline:
                raise
            time.sleep(1.0)


def _migrate(url: str, direction: str, revision: str) -> None:
    """Run Alembic on our own connection, so SQLite gets the same pragmas as everywhere else.

    A database locked by another writer is waited for, not failed on.
    """
    from alembic import command

    engine = make_engine(url)

    def migrate() -> None:
        with engine.begin() as connection:
            config = alembic_config(url)
            config.attributes["connection"] = connection
            getattr(command, direction)(config, revision)

    try:
        when_unlocked(migrate)
    except Exception as exc:
        where = printable(url)
        raise DatabaseError(f"cannot {direction} {where}: {exc}") from None
    finally:
        engine.dispose()
