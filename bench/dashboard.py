"""Benchmark: the dashboard on a 3-hour session with 50 students at a 5 s interval (108,000 rows).

    python -m bench.dashboard [--repeats 7] [--db URL]

Times, in one process and side by side: each live-view callback (the whole refresh and its
parts) and building the report page; then the live view of a class being captured now (25
students, the last hour shown), refreshed after each new capture as a school's server does
for every class every few seconds. Prints medians.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table


def median_ms(fn, repeats: int) -> float:
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main() -> None:
    from bench.sessions import Episode, generate
    from dashboard import queries, report
    from dashboard.app import create_app
    from dashboard.data import CONTEXT, flags_for
    from db.engine import make_engine, upgrade

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--db", default=None, help="Use this database URL instead of a temporary SQLite file.")
    args = parser.parse_args()
    url = args.db or f"sqlite:///{Path(tempfile.mkdtemp(prefix='classmood-dash-')) / 'bench.db'}"
    upgrade(url)
    engine = make_engine(url)
    start = time.perf_counter()
    session_id = generate(
        engine,
        students=50,
        minutes=180,
        interval_s=5.0,
        status="running",
        episodes=(Episode(3, "sad", 60, 10), Episode(-1, "surprise", 120, 5)),
    )
    generated_s = time.perf_counter() - start
    create_app(url)  # registers the pages, which the imports below need
    from dashboard.pages import live
    from dashboard.pages import report as report_page

    db = CONTEXT.engine()
    with db.connect() as connection:
        from sqlalchemy import func, select

        from db.models import Observation

        rows = connection.execute(select(func.count()).select_from(Observation)).scalar()
    info = queries.session(db, session_id)
    measures = [
        ("live refresh (whole callback)", lambda: live.refresh(1, None, None)),
        ("  class timeline query (whole session)", lambda: queries.class_timeline(db, session_id)),
        ("  per-student minutes query (whole session)", lambda: queries.student_minutes(db, session_id)),
        ("  attention flags (whole session)", lambda: flags_for(session_id)),
        ("  latest states", lambda: queries.latest_states(db, session_id)),
        ("report page (layout)", lambda: report_page.layout(session_id)),
        ("report data only", lambda: report.build(session_id)),
    ]
    measures.append(("live refresh after each new capture (25 students)", live_after_capture(engine, args.repeats)))
    table = Table(title=f"Dashboard on {rows:,} observations ({info.name}), {engine.dialect.name}")
    table.add_column("what")
    table.add_column("median ms", justify="right")
    table.add_column("target", justify="right")
    for name, fn in measures:
        target = "300" if name.startswith("live") else "2000" if name.startswith("report page") else ""
        ms = fn if isinstance(fn, float) else median_ms(fn, args.repeats)
        table.add_row(name, f"{ms:.0f}", target)
    console = Console(width=120)
    console.print(table)
    console.print(f"(generating the session took {generated_s:.1f} s)")


def live_after_capture(engine, repeats: int) -> float:
    """Median ms of the live callback right after a capture is written, for a class 90 min in."""
    from agent.pipeline import CaptureResult, TileResult
    from bench.sessions import generate
    from core.labels import EMOTIONS
    from dashboard import queries
    from dashboard.data import CONTEXT
    from dashboard.pages import live
    from db.store import write_capture

    start = datetime.now(UTC) - timedelta(minutes=90)
    session_id = generate(engine, students=25, minutes=90, start=start, status="running", name="Live class")
    ids = {p["name"]: pid for pid, p in queries.participants(CONTEXT.engine(), session_id).items()}
    keys = {f"name:student{i}": ids[f"Student {i + 1:02d}"] for i in range(25)}
    rng = np.random.default_rng(1)
    times = []
    for _ in range(max(repeats, 10)):
        tiles = [
            TileResult((i * 10, 0, 9, 9), key, key, True, "face", (i * 10, 0, 5, 5),
                       tuple(float(p) for p in rng.dirichlet(np.ones(len(EMOTIONS)))), False)
            for i, key in enumerate(keys)
        ]  # fmt: skip
        write_capture(engine, session_id, CaptureResult(datetime.now(UTC), tiles, {}), keys)
        began = time.perf_counter()
        live.refresh(1, None, None)
        times.append(time.perf_counter() - began)
    return statistics.median(times[2:]) * 1000  # the first builds fill the caches


if __name__ == "__main__":
    main()
