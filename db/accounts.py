"""Dashboard accounts: add, list, remove, change a password, check a sign-in.

Passwords are hashed with argon2id (argon2-cffi's defaults, OWASP's first choice); a hash is
re-made with today's parameters at the next good sign-in when they have changed. Checking a
name that does not exist costs the same as a wrong password, so timing does not tell which
names are accounts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from db.models import ROLES, Account, ClassSession
from db.retention import record

MIN_PASSWORD = 10  # characters (NIST SP 800-63B asks at least 8)
HASHER = PasswordHasher()
_UNKNOWN_USER_HASH = HASHER.hash("no such account: spend the same time")


class AccountError(ValueError):
    """An account operation that cannot be done; one line for the user."""


@dataclass(frozen=True)
class User:
    """What the dashboard keeps of a signed-in account (never the hash)."""

    id: int
    username: str
    role: str

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"a password needs at least {MIN_PASSWORD} characters")


def add_account(engine: Engine, username: str, password: str, role: str = "teacher", actor: str | None = None) -> User:
    username = username.strip()
    if not username:
        raise AccountError("a username cannot be empty")
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}")
    check_password(password)
    try:
        with Session(engine) as db, db.begin():
            account = Account(username=username, password_hash=HASHER.hash(password), role=role, created_at=now())
            db.add(account)
            db.flush()
            record(db, actor, "account_add", username, {"role": role})
            return User(account.id, username, role)
    except IntegrityError:
        raise AccountError(f"an account named {username!r} exists already") from None


def list_accounts(engine: Engine) -> list[dict]:
    """Each account with how many sessions it owns."""
    owned = func.count(ClassSession.id)
    query = (
        select(Account.username, Account.role, Account.created_at, owned.label("sessions"))
        .outerjoin(ClassSession, ClassSession.owner_id == Account.id)
        .group_by(Account.id, Account.username, Account.role, Account.created_at)
        .order_by(Account.username)
    )
    with engine.connect() as db:
        return [dict(row) for row in db.execute(query).mappings()]


def remove_account(engine: Engine, username: str, actor: str | None = None) -> None:
    """Remove an account; its sessions stay (owned by no one: admins see them) until purged."""
    with Session(engine) as db, db.begin():
        account = db.scalars(select(Account).where(Account.username == username)).first()
        if account is None:
            raise AccountError(f"no account named {username!r}")
        db.delete(account)
        record(db, actor, "account_remove", username, {})


def set_password(engine: Engine, username: str, password: str, actor: str | None = None) -> None:
    check_password(password)
    with Session(engine) as db, db.begin():
        account = db.scalars(select(Account).where(Account.username == username)).first()
        if account is None:
            raise AccountError(f"no account named {username!r}")
        account.password_hash = HASHER.hash(password)
        record(db, actor, "account_password", username, {})


def verify(engine: Engine, username: str, password: str) -> User | None:
    """The account if the password is right, else None; the attempt goes to the audit table."""
    with Session(engine) as db, db.begin():
        account = db.scalars(select(Account).where(Account.username == username)).first()
        try:
            HASHER.verify(account.password_hash if account else _UNKNOWN_USER_HASH, password)
            ok = account is not None
        except (VerificationError, InvalidHashError):
            ok = False
        if ok and HASHER.check_needs_rehash(account.password_hash):
            account.password_hash = HASHER.hash(password)
        record(db, username or "?", "sign_in" if ok else "sign_in_failed", username or "?", {})
        return User(account.id, account.username, account.role) if ok else None


def find_user(engine: Engine, user_id: int) -> User | None:
    with Session(engine) as db:
        account = db.get(Account, user_id)
        return account and User(account.id, account.username, account.role)


def account_id(engine: Engine, username: str) -> int:
    """The id of a teacher's account (for the agent's --teacher)."""
    with Session(engine) as db:
        found = db.scalars(select(Account.id).where(Account.username == username)).first()
    if found is None:
        raise AccountError(f"no account named {username!r} (classmood users add {username})")
    return found


def accounts_exist(engine: Engine) -> bool:
    with Session(engine) as db:
        return db.scalars(select(Account.id).limit(1)).first() is not None


def accounts_at(url: str) -> bool:
    """Does the database at `url` hold an account? False where it has no tables yet, or (SQLite)
    no file: asking must not create one."""
    from sqlalchemy import inspect

    from db.engine import make_engine, missing_sqlite_file

    if missing_sqlite_file(url):
        return False
    engine = make_engine(url, create_dir=False)
    try:
        return "account" in inspect(engine).get_table_names() and accounts_exist(engine)
    finally:
        engine.dispose()


def now() -> datetime:
    return datetime.now(UTC)
