"""`classmood db | users | student`: the database, the dashboard's accounts, and access and erasure requests."""

from __future__ import annotations

import json
from pathlib import Path

import click

from classmood.options import (
    db_url_option,
    new_password,
    owner_of,
    student_teacher_option,
    upgraded_engine,
)


@click.group()
def db() -> None:
    """Database maintenance."""


@db.command("upgrade")
@db_url_option
def db_upgrade(db_url) -> None:
    """Create or migrate the database schema to the latest version."""
    from db.engine import printable, upgrade

    url = upgrade(db_url)
    click.echo(f"database is up to date: {printable(url)}")


@db.command("purge")
@click.option("--older-than", "age", required=True, help="Delete sessions started longer ago than this: 30d, 12w, 48h.")
@db_url_option
def db_purge(age: str, db_url) -> None:
    """Delete old sessions with their observations, captures and participants."""
    from datetime import UTC, datetime

    from db.retention import parse_age, purge_older_than

    cutoff = datetime.now(UTC) - parse_age(age)
    removed = purge_older_than(upgraded_engine(db_url), cutoff)
    click.echo(
        f"purged {removed.sessions} session(s) started before {cutoff:%Y-%m-%d %H:%M} UTC: "
        f"{removed.observations} observations, {removed.captures} captures, {removed.participants} participants"
    )


@click.group()
def users() -> None:
    """Dashboard accounts: teachers see their own sessions, admins all. Once one exists, the
    dashboard asks everyone to sign in."""


@users.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(["teacher", "admin"]), default="teacher", show_default=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin.")
@db_url_option
def users_add(name: str, role: str, password_stdin: bool, db_url) -> None:
    """Add an account (the password is asked twice, or read from stdin)."""
    from db.accounts import add_account

    user = add_account(upgraded_engine(db_url), name, new_password(password_stdin), role)
    click.echo(f"added {user.role} {user.username!r}")


@users.command("list")
@db_url_option
def users_list(db_url) -> None:
    """Accounts, their roles and how many sessions each owns."""
    from db.accounts import list_accounts

    for row in list_accounts(upgraded_engine(db_url)):
        click.echo(
            f"{row['username']}\t{row['role']}\t{row['sessions']} session(s)\tsince {row['created_at']:%Y-%m-%d}"
        )


@users.command("remove")
@click.argument("name")
@db_url_option
def users_remove(name: str, db_url) -> None:
    """Remove an account; its sessions stay, seen by admins only, until purged."""
    from db.accounts import remove_account

    remove_account(upgraded_engine(db_url), name)
    click.echo(f"removed {name!r}")


@users.command("passwd")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin.")
@db_url_option
def users_passwd(name: str, password_stdin: bool, db_url) -> None:
    """Set a new password for an account."""
    from db.accounts import set_password

    set_password(upgraded_engine(db_url), name, new_password(password_stdin))
    click.echo(f"password of {name!r} changed")


@click.group()
def student() -> None:
    """Access and erasure requests: every row of one student, in every session."""


@student.command("export")
@click.argument("name")
@db_url_option
@click.option("--out", type=click.Path(path_type=Path), default=None, help="Write the JSON here (default: stdout).")
@student_teacher_option
def student_export(name: str, db_url, out: Path | None, teacher) -> None:
    """Everything stored about NAME, as JSON (any spelling the agent stored, "..." included)."""
    from db.retention import export_student

    engine = upgraded_engine(db_url)
    found = export_student(engine, name, owner=owner_of(engine, teacher))
    text = json.dumps(found, indent=2, ensure_ascii=False)
    if out is None:
        click.echo(text)
    else:
        out.write_text(text, encoding="utf-8")
        observations = sum(len(s["observations"]) for s in found["sessions"])
        click.echo(f"{len(found['sessions'])} session(s), {observations} observations -> {out}")


@student.command("erase")
@click.argument("name")
@db_url_option
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@student_teacher_option
def student_erase(name: str, db_url, yes: bool, teacher) -> None:
    """Delete every observation and participant row of NAME, in every session (of --teacher)."""
    from db.retention import erase_student

    if not yes:
        click.confirm(f"Erase every row of {name!r}? This cannot be undone", abort=True)
    engine = upgraded_engine(db_url)
    removed = erase_student(engine, name, owner=owner_of(engine, teacher))
    click.echo(
        f"erased {removed.participants} participant row(s), {removed.observations} observations and "
        f"{removed.list_entries} class-list line(s) of {name!r}"
    )
