"""Benchmark: a school on one PostgreSQL. Many agents write, signed-in teachers watch, the server restarts.

    python -m bench.school [--agents 30] [--students 25] [--users 20] [--seconds 180] [--down 10]

Starts a throwaway PostgreSQL (as the tests do) and the real dashboard server with accounts.
Each agent is the product's `agent.runner.Agent` (its write path, its buffer for captures the
database cannot take) fed by a replayed pipeline: 25 tiles a capture with fresh probabilities,
so the benchmark measures the database and the dashboard, not the vision. Every `--interval`
seconds each agent captures; `--users` teachers, signed in over HTTP, ask the live view's
Dash callback every 3 s (the page's own refresh) for their own class. Midway the database is
stopped for `--down` seconds and started again.

Prints one table: captures taken / written / lost, write p50 and p95 (the capture's
transaction, outside the outage), live-view callback p50 and p95 (outside the outage), and
what the outage did.
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import queue
import re
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import requests
from rich.console import Console
from rich.table import Table

from agent.pipeline import CaptureResult, TileResult
from core.labels import EMOTIONS
from tests.waiting import live_refresh_body

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "a school benchmark password"
REFRESH_S = 3.0  # dashboard.pages.live.REFRESH_MS


class ReplayPipeline:
    """Stands in for the vision: each capture, the same students with new probabilities."""

    def __init__(self, students: int, seed: int):
        self.students, self.rng = students, np.random.default_rng(seed)

    def process(self, frame, taken_at, timings=None) -> CaptureResult:
        tiles = []
        for i in range(self.students):
            if self.rng.random() < 0.1:
                tiles.append(TileResult((i * 10, 0, 9, 9), f"name:s{i}", f"Student {i}", True, "camera_off"))
                continue
            probs = tuple(float(p) for p in self.rng.dirichlet(np.ones(len(EMOTIONS))))
            tiles.append(
                TileResult(
                    (i * 10, 0, 9, 9), f"name:s{i}", f"Student {i}", True, "face", (i * 10, 0, 5, 5), probs, False
                )
            )
        return CaptureResult(taken_at, tiles, timings if timings is not None else {})


@dataclass
class Measures:
    writes_ms: list[float] = field(default_factory=list)
    live_ms: list[float] = field(default_factory=list)
    live_failed_outside: int = 0
    live_failed_during: int = 0
    taken: int = 0
    most_buffered: int = 0
    outage: tuple[float, float] = (float("inf"), float("inf"))
    lock: threading.Lock = field(default_factory=threading.Lock)

    def during_outage(self, start: float, end: float) -> bool:
        # a request or write that overlaps the outage (with 2 s for the pool to reconnect)
        return start < self.outage[1] + 2.0 and end > self.outage[0]


@dataclass
class AgentRun:
    """What one agent saw: its captures, the writes it made with nothing waiting before them
    as (start, end, ms) on the system-wide monotonic clock, its largest backlog."""

    session_id: int = 0
    taken: int = 0
    writes: list[tuple[float, float, float]] = field(default_factory=list)
    most_buffered: int = 0


def run_agent(url: str, owner: int, number: int, args, stop) -> AgentRun:
    from agent.runner import Agent
    from db import store
    from db.engine import make_engine

    logging.getLogger("agent.runner").setLevel(logging.ERROR)  # the outage's retries are counted, not printed
    engine = make_engine(url, ping=False)  # as agent.cli makes it
    run = AgentRun(store.start_session(engine, f"Class {number}", "bench", args.interval, False, {}, owner))
    agent = Agent(ReplayPipeline(args.students, number), engine, run.session_id)
    frame = np.zeros((4, 4, 3), np.uint8)
    next_at = time.monotonic() + (number % 10) * args.interval / 10  # agents do not start in step
    while not stop.is_set():
        stop.wait(max(0.0, next_at - time.monotonic()))
        if stop.is_set():
            break
        next_at += args.interval
        backlog = len(agent.pending)
        start = time.perf_counter()
        agent.handle(datetime.now(UTC), frame, {})
        end = time.perf_counter()
        run.taken += 1
        run.most_buffered = max(run.most_buffered, len(agent.pending))
        if backlog == 0 and not agent.pending:
            run.writes.append((start, end, (end - start) * 1000))
    agent.drain(patience_s=120)
    store.end_session(engine, run.session_id)
    engine.dispose()
    return run


def agent_process(url: str, owner: int, number: int, args, stop, results) -> None:
    """An agent in a process of its own, as on a teacher's computer (threads would share one
    interpreter lock, and each agent's write would wait for the others' Python work)."""
    results.put(run_agent(url, owner, number, args, stop))


def start_agents(url: str, owners: list[int], args) -> tuple[list, object, object]:
    """(workers, stop event, result queue): processes by default, threads with --threads."""
    if args.threads:
        stop, results = threading.Event(), queue.SimpleQueue()
        make = threading.Thread
    else:
        context = multiprocessing.get_context("fork")  # before any thread of ours starts
        stop, results = context.Event(), context.Queue()
        make = context.Process
    workers = [
        make(target=agent_process, args=(url, owners[i], i, args, stop, results), daemon=True)
        for i in range(args.agents)
    ]
    for worker in workers:
        worker.start()
    return workers, stop, results


def watch(base: str, username: str, stop: threading.Event, measures: Measures) -> None:
    browser = requests.Session()
    token = re.search(r'name="csrf_token" value="([^"]+)"', browser.get(base + "/login").text).group(1)
    browser.post(base + "/login", data={"username": username, "password": PASSWORD, "csrf_token": token})
    body = live_refresh_body(browser.get(base + "/_dash-dependencies", timeout=30).json())
    while not stop.wait(REFRESH_S):
        headers = {"X-CSRFToken": browser.cookies.get("_csrf_token", "")}
        start = time.perf_counter()
        try:
            reply = browser.post(base + "/_dash-update-component", json=body, headers=headers, timeout=30)
            ok = reply.ok
            if ok:  # as the browser does: the page now shows this capture's parts
                body["state"][1]["value"] = reply.json()["response"]["live-shown"]["data"]
        except (requests.RequestException, ValueError, KeyError):
            ok = False
        end = time.perf_counter()
        with measures.lock:
            during = measures.during_outage(start, end)
            if ok and not during:
                measures.live_ms.append((end - start) * 1000)
            elif not ok:
                if during:
                    measures.live_failed_during += 1
                else:
                    measures.live_failed_outside += 1


def start_dashboard(url: str, port: int) -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "classmood", "dashboard", "--db", url, "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            if requests.get(base + "/login", timeout=2).ok:
                return process, base
        except requests.RequestException:
            time.sleep(0.5)
    process.kill()
    raise SystemExit("the dashboard did not start")


def percentile(values: list[float], q: float) -> str:
    return f"{np.percentile(values, q):.0f}" if values else "-"


def main() -> None:
    from sqlalchemy import func, select
    from sqlalchemy.orm import Session

    from db.accounts import add_account
    from db.engine import make_engine, upgrade
    from db.models import Capture
    from tests.postgres import postgres_server, restart
    from tests.waiting import free_port

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=30)
    parser.add_argument("--students", type=int, default=25)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--interval", type=float, default=5.0)
    parser.add_argument("--seconds", type=float, default=180.0)
    parser.add_argument("--down", type=float, default=10.0, help="Seconds PostgreSQL stays stopped midway.")
    parser.add_argument("--threads", action="store_true", help="Run the agents as threads of this process.")
    args = parser.parse_args()
    console = Console(width=120)
    with postgres_server() as url:
        upgrade(url)
        engine = make_engine(url)
        owners = [add_account(engine, f"teacher{i}", PASSWORD).id for i in range(args.agents)]
        process, base = start_dashboard(url, free_port())
        engine.dispose()  # no connection crosses into the agents' processes
        agents, stop, results = start_agents(url, owners, args)
        measures = Measures()
        time.sleep(args.interval)  # every teacher's session exists before they look
        users = [
            threading.Thread(target=watch, args=(base, f"teacher{i}", stop, measures), daemon=True)
            for i in range(min(args.users, args.agents))
        ]
        for thread in users:
            thread.start()
        console.print(
            f"{args.agents} agents, {len(users)} teachers watching; PostgreSQL stops at {args.seconds / 2:.0f} s"
        )
        time.sleep(max(0.0, args.seconds / 2 - args.interval))
        down_at = time.perf_counter()
        measures.outage = (down_at, down_at + args.down)
        restart(url, args.down)
        measures.outage = (down_at, time.perf_counter())
        time.sleep(args.seconds / 2)
        stop.set()
        runs = [results.get(timeout=240) for _ in agents]
        for worker in agents + users:
            worker.join(timeout=180)
        process.terminate()
        measures.taken = sum(r.taken for r in runs)
        measures.most_buffered = max(r.most_buffered for r in runs)
        writes = [w for r in runs for w in r.writes]
        measures.writes_ms = [ms for a, b, ms in writes if not measures.during_outage(a, b)]
        with Session(engine) as db:
            written = db.scalar(select(func.count()).select_from(Capture))
        engine.dispose()

    table = Table(
        title=f"School on one PostgreSQL: {args.agents} agents x {args.students} students every "
        f"{args.interval:g} s, {len(users)} signed-in teachers on the live view, {args.seconds:.0f} s"
    )
    for column in ("measure", "value", "target"):
        table.add_column(column, justify="right" if column != "measure" else "left")
    lost = measures.taken - written
    table.add_row("captures taken / written / lost", f"{measures.taken} / {written} / {lost}", "0 lost")
    table.add_row(
        "write ms p50 / p95",
        f"{percentile(measures.writes_ms, 50)} / {percentile(measures.writes_ms, 95)}",
        "p95 <= 50",
    )
    table.add_row(
        "live-view callback ms p50 / p95",
        f"{percentile(measures.live_ms, 50)} / {percentile(measures.live_ms, 95)}",
        "p95 <= 500",
    )
    table.add_row(
        "live-view requests answered / failed", f"{len(measures.live_ms)} / {measures.live_failed_outside}", ""
    )
    outage = measures.outage[1] - measures.outage[0]
    table.add_row("PostgreSQL down (restart), s", f"{outage:.1f}", "")
    table.add_row("  captures held by the agents at most", str(measures.most_buffered), "")
    table.add_row("  live-view requests failed meanwhile", str(measures.live_failed_during), "")
    console.print(table)


if __name__ == "__main__":
    main()
