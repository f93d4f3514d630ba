"""Who is looking: the signed-in user of a request (None in token mode) and the sessions they
may see. Below every page and query that asks, and below the sign-in code that sets it."""

from __future__ import annotations

from flask import g, has_request_context
from flask_login import current_user
from sqlalchemy import Engine

from dashboard import queries
from db.accounts import User


def viewer() -> User | None:
    """The signed-in user of this request; None where accounts are off (the per-run token)
    or outside a request (benchmarks, the report built by a command)."""
    if not has_request_context() or not g.get("accounts_on"):
        return None
    return current_user.user if current_user.is_authenticated else None


def owner_scope() -> int | None:
    """Whose sessions this request may see: a teacher's id, or None for all (admin, token mode)."""
    user = viewer()
    return None if user is None or user.is_admin else user.id


def may_see(engine: Engine, session_id: int) -> bool:
    """Is this session among those the request may see (the same rule as every page's query)?"""
    return queries.session(engine, session_id, owner_scope()) is not None
