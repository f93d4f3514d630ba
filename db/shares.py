"""Share links: a session's aggregate view for people without an account, for a few days.

A link's secret is random (32 bytes); the table keeps its SHA-256 only. A link names the
share_link row, not the session id, so a deleted session's link opens nothing, whatever
session later gets that id; each link can be revoked on its own; a session's deletion takes
its links with it.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from db.models import ShareLink
from db.retention import record

SHARE_DAYS = 7


class LinkExpired(LookupError):
    """The link was valid once; it is past its date."""


@dataclass(frozen=True)
class Link:
    id: int
    session_id: int
    created_by: str
    created_at: datetime
    expires_at: datetime
    revoked: bool


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "replace")).hexdigest()


def create_link(engine: Engine, session_id: int, actor: str, days: int = SHARE_DAYS) -> str:
    """A new link's secret (shown once: only its digest is kept)."""
    secret = secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    with Session(engine) as db, db.begin():
        db.add(
            ShareLink(
                session_id=session_id,
                secret_hash=digest(secret),
                created_by=actor,
                created_at=now,
                expires_at=now + timedelta(days=days),
            )
        )
        record(db, actor, "share_link", f"session {session_id}", {"days": days})
    return secret


def session_of(engine: Engine, secret: str) -> int | None:
    """The session a link opens; None for no such link (or a revoked one); LinkExpired past its date."""
    with Session(engine) as db:
        link = db.scalars(select(ShareLink).where(ShareLink.secret_hash == digest(secret))).first()
        if link is None or link.revoked_at is not None:
            return None
        expires = link.expires_at if link.expires_at.tzinfo else link.expires_at.replace(tzinfo=UTC)
        if expires <= datetime.now(UTC):
            raise LinkExpired(secret)
        return link.session_id


def links_of(engine: Engine, session_id: int) -> list[Link]:
    with Session(engine) as db:
        rows = db.scalars(select(ShareLink).where(ShareLink.session_id == session_id).order_by(ShareLink.id)).all()
        return [
            Link(r.id, r.session_id, r.created_by, r.created_at, r.expires_at, r.revoked_at is not None) for r in rows
        ]


def revoke_link(engine: Engine, session_id: int, link_id: int, actor: str) -> bool:
    """Revoke one link of this session; False when the session has no such link."""
    with Session(engine) as db, db.begin():
        done = db.execute(
            update(ShareLink)
            .where(ShareLink.id == link_id, ShareLink.session_id == session_id, ShareLink.revoked_at.is_(None))
            .values(revoked_at=datetime.now(UTC))
        ).rowcount
        if done:
            record(db, actor, "share_revoke", f"session {session_id}", {"link": link_id})
    return bool(done)
