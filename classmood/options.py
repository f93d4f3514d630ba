"""Options and checks that several commands share: the database, the class, the dashboard's rules and zone."""

from __future__ import annotations

import math
import os
import sys
from pathlib import Path

import click

from db.retention import DEFAULT_RETENTION_DAYS

db_url_option = click.option(
    "--db", "db_url", default=None, help="SQLAlchemy URL (default: SQLite in the user data folder)."
)


def upgraded_engine(db_url: str | None):
    """An engine on the database at `db_url` (or the default), its schema brought up to date."""
    from db.engine import make_engine, upgrade

    return make_engine(upgrade(db_url))


data_option = click.option(
    "--data",
    type=click.Path(path_type=Path),
    default=lambda: os.environ.get("CLASSMOOD_FER2013"),
    required=True,
    help="FER2013 CSV (.csv or .csv.gz); defaults to $CLASSMOOD_FER2013.",
)


def model_file_option(help: str):
    """--model FILE: an existing model file the command writes into."""
    return click.option(
        "--model", type=click.Path(path_type=Path, dir_okay=False, exists=True), required=True, help=help
    )


def parse_rules(pairs: tuple[str, ...]):
    """--rule negative_minutes=5 --rule absent_minutes=3 ... -> FlagRules (unknown names refused)."""
    from dataclasses import fields

    from core.flags import FlagRules

    known = {f.name: f.type for f in fields(FlagRules)}
    values = {}
    for pair in pairs:
        name, _, value = pair.partition("=")
        if name not in known or not value:
            raise click.BadParameter(f"{pair!r}: expected NAME=VALUE with NAME one of {', '.join(known)}")
        values[name] = int(value) if known[name] in ("int", int) else float(value)
    return FlagRules(**values)


def read_zone_option(_ctx, _param, value: str | None) -> str | None:
    """--timezone NAME, checked before anything starts."""
    from dashboard.clock import ZoneError, parse_zone

    try:
        parse_zone(value)
    except ZoneError as exc:
        raise click.BadParameter(str(exc)) from None
    return value


timezone_option = click.option(
    "--timezone",
    default=None,
    callback=read_zone_option,
    help="Show times in this zone, e.g. America/Santiago (default: this computer's zone). The database keeps UTC.",
)


rule_option = click.option(
    "--rule",
    "rules",
    multiple=True,
    metavar="NAME=VALUE",
    help="Change a flag threshold, e.g. --rule absent_minutes=3 (repeatable).",
)


signals_option = click.option(
    "--signals",
    type=click.Choice(["emotions", "attention"]),
    default="emotions",
    show_default=True,
    help="attention: presence, camera, face seen and looking at the screen only; the emotion model is not "
    "loaded and no expression is read, stored or shown.",
)


def head_pose_reader(required: bool):
    """The head pose model, or None with a one-line warning when it cannot be used and only
    emotions were asked for; with --signals attention it is required."""
    from core.head_pose import HeadPoseReader, PoseModelError

    try:
        return HeadPoseReader()
    except PoseModelError as exc:
        if required:
            raise click.ClickException(str(exc)) from None
        click.echo(f"Warning: {exc}; head pose and looking are not read", err=True)
        return None


def check_interval(seconds: float) -> None:
    """Seconds between captures: a positive, finite number (nan, inf, 0 and -1 are refused)."""
    if not (math.isfinite(seconds) and 0 < seconds <= 86400):
        raise click.BadParameter("must be a number of seconds between 0 and 86400", param_hint="--interval")


def access_mode(url: str, host: str) -> tuple[bool, str | None]:
    """(accounts on, per-run token): sign-in once the database has an account; before that,
    a per-run token, and loopback only."""
    from dashboard.access import check_host, run_token
    from db.accounts import accounts_at

    if accounts_at(url):
        return True, None
    check_host(host)
    return False, run_token()


def address(host: str, port: int, token: str | None) -> str:
    return f"http://{host}:{port}/" + (f"?token={token}" if token else "")


retention_option = click.option(
    "--retention-days",
    type=click.IntRange(min=0, max=36500),
    default=DEFAULT_RETENTION_DAYS,
    show_default=True,
    help="Sessions older than this are deleted at start-up (0: keep everything).",
)


teacher_option = click.option(
    "--teacher",
    envvar="CLASSMOOD_TEACHER",
    default=None,
    help="The account this class belongs to (classmood users add); only they and admins see it. "
    "Default: $CLASSMOOD_TEACHER.",
)


def read_roster_option(_ctx, _param, value: Path | None):
    """--roster FILE, read before anything starts: a list that cannot be used stops the command."""
    if value is None:
        return None
    from core.roster import RosterError, read_roster

    try:
        return read_roster(value)
    except RosterError as exc:
        raise click.BadParameter(str(exc)) from None


roster_option = click.option(
    "--roster",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    callback=read_roster_option,
    help="The class list: UTF-8 text, one name per line, or a CSV with a 'name' (and 'id') column. "
    "Each name tag is matched to it (student numbers, names cut short, OCR slips); a tag that "
    "matches nobody clearly is kept as read.",
)


def new_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


student_teacher_option = click.option(
    "--teacher", default=None, help="Only in this teacher's sessions (default: every session in the database)."
)


def owner_of(engine, teacher: str | None) -> int | None:
    from db.accounts import account_id

    return account_id(engine, teacher) if teacher else None


def meeting_expert_option(command):
    """--meeting-expert FILE and --no-meeting-expert: which network reads degraded faces."""
    command = click.option(
        "--no-meeting-expert",
        "alone",
        is_flag=True,
        help="Read every face with the model alone, the meeting expert off (faster; worse on small and dim faces).",
    )(command)
    return click.option(
        "--meeting-expert",
        "meeting_expert",
        is_flag=False,
        flag_value="shipped",
        default=None,
        help="Read small, video-coded, blurred or dim faces with this meeting expert (default: the one the"
        " model file names; the shipped model names core/assets/emotion_cnn_meeting.keras).",
    )(command)


def meeting_expert_file(value: str | None, alone: bool = False) -> Path | bool | None:
    """The expert options as EmotionClassifier takes them: False (none), None (the one the model
    file names), or the file given ("shipped": the shipped expert)."""
    if alone:
        if value is not None:
            raise click.UsageError("--meeting-expert and --no-meeting-expert contradict each other")
        return False
    if value is None:
        return None
    from core.model import MEETING_EXPERT

    return MEETING_EXPERT if value == "shipped" else Path(value)


def class_options(command):
    """The options `run` and `agent` share: how names are read and kept, the model, the class."""
    for option in reversed(
        (
            click.option("--pseudonymize", is_flag=True, help="Store a salted hash instead of each name."),
            click.option(
                "--name-langs",
                default=None,
                help="Scripts of the students' names, e.g. Latin,Hangul,Hebrew (Tesseract script models;"
                " default: every installed one, tried only when a Latin reading is unsure).",
            ),
            click.option(
                "--model", type=click.Path(path_type=Path), default=None, help="Model file (default: the shipped one)."
            ),
            meeting_expert_option,
            retention_option,
            teacher_option,
            roster_option,
            signals_option,
        )
    ):
        command = option(command)
    return command
