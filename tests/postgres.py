"""A throwaway PostgreSQL server for the tests (Debian's postgresql binaries, trust auth)."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from tests.waiting import free_port


def find_bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return candidates[-1] if candidates else None


_SERVERS: dict[str, tuple[list[str], str, Path, str, Path]] = {}  # url -> what restart() needs


@contextmanager
def postgres_server():
    """Yields a SQLAlchemy URL; raises RuntimeError with the reason when it cannot start."""
    initdb, pg_ctl = find_bin("initdb"), find_bin("pg_ctl")
    if not initdb or not pg_ctl:
        raise RuntimeError("PostgreSQL server binaries (Debian package postgresql) are not installed")
    folder = Path(tempfile.mkdtemp(prefix="classmood-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:  # postgres refuses to run as root
        shutil.chown(folder, "postgres", "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    data, port = folder / "data", free_port()
    run = dict(check=True, capture_output=True, text=True)
    try:
        subprocess.run([*as_user, initdb, "-D", str(data), "-A", "trust", "-U", "postgres"], **run)
        options = f"-p {port} -k {folder} -h 127.0.0.1 -F"
        subprocess.run(
            [*as_user, pg_ctl, "-D", str(data), "-o", options, "-w", "-l", str(folder / "log"), "start"], **run
        )
    except subprocess.CalledProcessError as exc:
        shutil.rmtree(folder, ignore_errors=True)
        raise RuntimeError(f"could not start PostgreSQL: {exc.stderr.strip()[:300]}") from None
    url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    _SERVERS[url] = (as_user, pg_ctl, data, options, folder)
    try:
        time.sleep(0.2)
        yield url
    finally:
        _SERVERS.pop(url, None)
        subprocess.run([*as_user, pg_ctl, "-D", str(data), "-m", "immediate", "stop"], capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)


def restart(url: str, down_s: float) -> None:
    """Stop a server started by postgres_server() (fast shutdown: open connections are cut),
    keep it down for `down_s` seconds, start it again."""
    as_user, pg_ctl, data, options, folder = _SERVERS[url]
    subprocess.run([*as_user, pg_ctl, "-D", str(data), "-m", "fast", "-w", "stop"], check=True, capture_output=True)
    time.sleep(down_s)
    subprocess.run(
        [*as_user, pg_ctl, "-D", str(data), "-o", options, "-w", "-l", str(folder / "log"), "start"],
        check=True,
        capture_output=True,
    )
