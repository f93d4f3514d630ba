"""`classmood agent` and `classmood db`: set-up and teardown around agent.runner."""

from __future__ import annotations

import logging
import os
import secrets
import signal
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import click

from db.retention import DEFAULT_RETENTION_DAYS

logger = logging.getLogger(__name__)


def pid_file() -> Path:
    from platformdirs import user_state_dir

    return Path(user_state_dir("classmood", appauthor=False)) / "agent.pid"


def parse_region(text: str | None) -> tuple[int, int, int, int] | None:
    if text is None:
        return None
    try:
        x, y, w, h = (int(v) for v in text.split(","))
    except ValueError:
        raise click.BadParameter("expected X,Y,W,H (four integers)") from None
    if w <= 0 or h <= 0:
        raise click.BadParameter("width and height must be positive")
    return x, y, w, h


def parse_scripts(text: str | None) -> tuple[str, ...] | None:
    """--name-langs "Latin,Hangul" -> ("Latin", "Hangul"); Latin always comes first."""
    from agent.names import DEFAULT_SCRIPTS

    if not text:
        return None
    names = {s.casefold(): s for s in DEFAULT_SCRIPTS}
    chosen = [names.get(part.strip().casefold()) for part in text.split(",") if part.strip()]
    if None in chosen:
        raise click.BadParameter(f"scripts are {', '.join(DEFAULT_SCRIPTS)}", param_hint="--name-langs")
    return ("Latin", *[s for s in dict.fromkeys(chosen) if s != "Latin"])


def build_pipeline(
    model: Path | None,
    pseudonymize: bool,
    ocr: bool,
    scripts: tuple[str, ...] | None = None,
    roster=None,
    signals: str = "emotions",
    meeting_expert: Path | bool | None = None,
):
    """The capture pipeline; with signals "attention" the emotion model is never loaded."""
    from agent.identity import IdentityTracker
    from agent.pipeline import CapturePipeline
    from classmood.options import head_pose_reader
    from core.emotions import default_classifier
    from core.faces import default_detector

    names = None
    if ocr:
        from agent.names import NameReader

        names = NameReader(scripts) if scripts else NameReader()
    salt = secrets.token_hex(16) if pseudonymize else None
    attention_only = signals == "attention"
    classifier = None if attention_only else default_classifier(model, meeting_expert)
    poser = head_pose_reader(required=attention_only)
    return CapturePipeline(default_detector(), classifier, names, IdentityTracker(salt=salt, roster=roster), poser)


def run_agent(
    window: str | None,
    monitor: int | None,
    region: str | None,
    video: Path | None,
    images: Path | None,
    interval: float,
    db_url: str | None,
    session_name: str | None,
    keep_frames: Path | None,
    pseudonymize: bool,
    model: Path | None,
    ocr: bool = True,
    stop_event=None,
    name_langs: str | None = None,
    retention_days: int = DEFAULT_RETENTION_DAYS,
    teacher: str | None = None,
    roster=None,
    signals: str = "emotions",
    meeting_expert: str | None = None,
    alone: bool = False,
) -> int:
    """Run until done (offline sources) or stopped (live); returns the session id, owned by
    `teacher`'s account when given (what that teacher then sees on a signed-in dashboard).
    `roster`: the class list (core.roster.Roster) tags are matched to, stored with the session.
    `signals`: "attention" reads presence, camera and head pose only, and the session says so."""
    from agent.runner import Agent
    from agent.sources import ScreenSource, WindowSource, image_frames, video_frames
    from core.analyze import InputError
    from db import store
    from db.accounts import account_id
    from db.engine import make_engine, printable, upgrade, when_unlocked
    from db.retention import purge_expired

    chosen = [o for o in (window, monitor, region, video, images) if o is not None]
    if len(chosen) > 1:
        raise click.UsageError("choose one of --window, --monitor, --region, --video, --images")
    scripts = parse_scripts(name_langs)
    if images is not None and not images.is_dir():
        raise InputError(f"{images}: not a folder")
    if video is not None and not video.is_file():
        raise InputError(f"{video}: no such file")
    url = upgrade(db_url)
    engine = make_engine(url, ping=False)  # a refused write is kept and retried (agent.runner)
    owner_id = account_id(engine, teacher) if teacher else None
    interrupted = store.close_interrupted_sessions(engine)
    if interrupted:
        logger.info("closed %d session(s) left running by an interrupted agent", interrupted)
    expired = when_unlocked(lambda: purge_expired(engine, retention_days))
    if expired.sessions:
        logger.info("deleted %d session(s) older than %d days (--retention-days)", expired.sessions, retention_days)

    live = None
    if video is None and images is None:
        live = WindowSource(window) if window else ScreenSource(monitor or 1, parse_region(region))
    source_text = live.description if live else f"video {video}" if video else f"images {images}"
    if roster is not None and not ocr:
        raise click.UsageError("--roster matches the name tags; it cannot be used with --no-ocr")
    if signals == "attention" and (model is not None or meeting_expert is not None):
        raise click.UsageError(
            "--model and --meeting-expert are emotion models, which --signals attention does not load"
        )
    from classmood.options import meeting_expert_file

    expert = meeting_expert_file(meeting_expert, alone)
    pipeline = build_pipeline(model, pseudonymize, ocr, scripts, roster, signals, expert)
    name = session_name or f"Lecture {datetime.now():%Y-%m-%d %H:%M}"
    kept_at = str(keep_frames.resolve()) if keep_frames else None  # so that erase and purge find them
    session_id = when_unlocked(
        lambda: store.start_session(
            engine,
            name,
            source_text,
            interval,
            pseudonymize,
            {"keep_frames": kept_at, "detector": type(pipeline.detector).__name__, "signals": signals},
            owner_id,
            roster,
        )
    )
    agent = Agent(pipeline, engine, session_id, keep_frames)
    if stop_event is not None:
        agent.stop_event = stop_event
    status = StatusLine()
    _install_stop_handlers(agent)
    click.echo(f"session {session_id} '{name}' from {source_text} -> {printable(engine.url)}")
    ended = "ended"
    try:
        if live is not None:
            pid_file().parent.mkdir(parents=True, exist_ok=True)
            pid_file().write_text(str(os.getpid()))
            agent.run_live(live, interval, status.update)
        else:
            start = datetime.now(UTC)
            frames = video_frames(video, interval, start) if video else image_frames(images, interval, start)
            agent.run_offline(frames, status.update)
    except KeyboardInterrupt:
        pass
    except Exception:
        ended = "interrupted"
        raise
    finally:
        status.close(agent.stats)
        when_unlocked(lambda: store.end_session(engine, session_id, ended))
        if live is not None:
            live.close()
            pid_file().unlink(missing_ok=True)
        engine.dispose()
    return session_id


def _install_stop_handlers(agent) -> None:
    def stop(signum, _frame):
        agent.stop_event.set()

    if threading_is_main():
        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)


def threading_is_main() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


class StatusLine:
    """One line rewritten in place on a terminal; one line per change otherwise."""

    def __init__(self):
        self.tty = sys.stderr.isatty()
        self.last = ""

    def update(self, stats) -> None:
        line = stats.line()
        if line == self.last:
            return
        self.last = line
        if self.tty:
            sys.stderr.write("\r\033[K" + line)
            sys.stderr.flush()
        else:
            sys.stderr.write(line + "\n")

    def close(self, stats) -> None:
        if self.tty:
            sys.stderr.write("\n")
        sys.stderr.write(f"done: {stats.line()}\n")


def stop_agent(timeout: float = 20.0) -> str:
    path = pid_file()
    if not path.exists():
        return "no agent is running"
    pid = int(path.read_text().strip() or 0)
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        path.unlink(missing_ok=True)
        return f"agent {pid} was not running (stale pid file removed)"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return f"agent {pid} stopped"
        time.sleep(0.2)
    return f"agent {pid} did not stop within {timeout:.0f} s"
