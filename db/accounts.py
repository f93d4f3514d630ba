"""Dashboard accounts: add, list, remove, change a password, check a sign-in.

Passwords are hashed with argon2id (argon2-cffi's defaults, OWASP's first choice); a hash is
re-made with today's parameters at the next good sign-in when they have changed. Checking a
name that does not exist costs the same as a wrong password, so timing does not tell which
names are accounts.
"""

from __future__ import annotations

import secrets
import unicodedata
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
    login_key: str = ""  # what the sign-in cookie names (db.models.Account.login_key)

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


COMMON_PASSWORDS = frozenset(
    {"1234567890", "12345678901", "123456789012", "qwertyuiop", "password123", "passwordpassword"}
)


def check_password(password: str) -> None:
    """NIST SP 800-63B: long enough, and not a known-bad one (blank, one repeated character, a
    run of digits, a keyboard row)."""
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"a password needs at least {MIN_PASSWORD} characters")
    if not password.strip() or len(set(password)) < 3 or password.isdigit() or password.lower() in COMMON_PASSWORDS:
        raise AccountError("this password is too easy to guess: use a few words or a password manager")


def same_name(username: str) -> str:
    """How account names compare: "Admin", " admin " and "admin" are one account."""
    return unicodedata.normalize("NFKC", username).strip().casefold()


def account_named(db: Session, username: str) -> Account | None:
    wanted = same_name(username)
    if not wanted or len(wanted) > Account.__table__.c.username.type.length:
        return None
    return next((a for a in db.scalars(select(Account)) if same_name(a.username) == wanted), None)


def add_account(engine: Engine, username: str, password: str, role: str = "teacher", actor: str | None = None) -> User:
    username = unicodedata.normalize("NFC", username).strip()
    if not username:
        raise AccountError("a username cannot be empty")
    if len(username) > Account.__table__.c.username.type.length:
        raise AccountError(f"a username has at most {Account.__table__.c.username.type.length} characters")
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}")
    check_password(password)
    try:
        with Session(engine) as db, db.begin():
            if account_named(db, username) is not None:
                raise IntegrityError("same name", None, ValueError())
            account = Account(
                username=username,
                password_hash=HASHER.hash(password),
                role=role,
                created_at=now(),
                login_key=new_login_key(),
            )
            db.add(account)
            db.flush()
            record(db, actor, "account_add", username, {"role": role})
            return user_of(account)
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
        account = account_named(db, username)
        if account is None:
            raise AccountError(f"no account named {username!r}")
        db.delete(account)
        record(db, actor, "account_remove", username, {})


def set_password(engine: Engine, username: str, password: str, actor: str | None = None) -> None:
    check_password(password)
    with Session(engine) as db, db.begin():
        account = account_named(db, username)
        if account is None:
            raise AccountError(f"no account named {username!r}")
        account.password_hash = HASHER.hash(password)
        account.login_key = new_login_key()  # every sign-in with the old password ends
        record(db, actor, "account_password", username, {})


def end_sign_ins(engine: Engine, login_key: str) -> None:
    """Sign-out: the account gets a new key, so every cookie naming the old one (this browser's,
    a copy of it, another device's) no longer signs in."""
    with Session(engine) as db, db.begin():
        account = db.scalars(select(Account).where(Account.login_key == login_key)).first()
        if account is not None:
            account.login_key = new_login_key()


def verify(engine: Engine, username: str, password: str) -> User | None:
    """The account if the password is right, else None; the attempt goes to the audit table."""
    with Session(engine) as db, db.begin():
        account = account_named(db, username)
        try:
            HASHER.verify(account.password_hash if account else _UNKNOWN_USER_HASH, password)
            ok = account is not None
        except (VerificationError, InvalidHashError):
            ok = False
        if ok and HASHER.check_needs_rehash(account.password_hash):
            account.password_hash = HASHER.hash(password)
        record(db, username or "?", "sign_in" if ok else "sign_in_failed", username or "?", {})
        return user_of(account) if ok else None


def find_user(engine: Engine, login_key: str) -> User | None:
    """The account a sign-in cookie names, if that sign-in has not been ended."""
    if not login_key:
        return None
    with Session(engine) as db:
        account = db.scalars(select(Account).where(Account.login_key == login_key)).first()
        return account and user_of(account)


def user_of(account: Account) -> User:
    return User(account.id, account.username, account.role, account.login_key or "")


def new_login_key() -> str:
    return secrets.token_hex(32)


def account_id(engine: Engine, username: str) -> int:
    """The id of a teacher's account (for the agent's --teacher)."""
    with Session(engine) as db:
        found = account_named(db, username)
    if found is None:
        raise AccountError(f"no account named {username!r} (classmood users add {username})")
    return found.id


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
