"""Benchmark: the dashboard on a 3-hour session with 50 students at a 5 s interval (108,000 rows).

    python -m bench.dashboard [--repeats 7] [--db URL]

Times, in one process and side by side: each live-view callback (the whole refresh and its
parts) and building the report page. Prints medians.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

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
    table = Table(title=f"Dashboard on {rows:,} observations ({info.name}), {engine.dialect.name}")
    table.add_column("what")
    table.add_column("median ms", justify="right")
    table.add_column("target", justify="right")
    for name, fn in measures:
        target = "300" if name.startswith("live") else "2000" if name.startswith("report page") else ""
        table.add_row(name, f"{median_ms(fn, args.repeats):.0f}", target)
    console = Console(width=120)
    console.print(table)
    console.print(f"(generating the session took {generated_s:.1f} s)")


if __name__ == "__main__":
    main()
