"""The tables the agent writes and the dashboard reads.

class_session 1-n participant, class_session 1-n capture 1-n observation n-1 participant;
account 1-n class_session (the teacher who owns it).
One observation per tile per capture: a face with its 7 probabilities, or the reason there
is none (camera off, no face found), because absence is a signal too. audit_event records who
purged, exported or erased what, and when (data about minors is answerable for).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from core.labels import EMOTIONS

PROBABILITY_COLUMNS = tuple(f"p_{name}" for name in EMOTIONS)  # Observation.p_angry, ...
STATES = ("face", "no_face", "camera_off")
ROLES = ("teacher", "admin")


class Base(DeclarativeBase):
    pass


class Account(Base):
    """Who may sign in to the dashboard: a teacher sees their own sessions, an admin all."""

    __tablename__ = "account"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))  # argon2id, never the password
    role: Mapped[str] = mapped_column(String(10))  # one of ROLES
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # What a sign-in cookie names: random, never reused, replaced at sign-out and password change.
    login_key: Mapped[str | None] = mapped_column(String(64), unique=True, index=True)


class ClassSession(Base):
    __tablename__ = "class_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The teacher whose agent recorded it; NULL before accounts existed (then admins only).
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(300))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(20), default="running")  # running | ended | interrupted
    interval_s: Mapped[float] = mapped_column(Float)
    pseudonymized: Mapped[bool] = mapped_column(Boolean, default=False)
    settings: Mapped[dict] = mapped_column(JSON, default=dict)

    participants: Mapped[list[Participant]] = relationship(back_populates="session")


class Participant(Base):
    """A student, known by the name on their tile (or its salted hash), else by a tile track."""

    __tablename__ = "participant"
    __table_args__ = (UniqueConstraint("session_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("class_session.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(200))
    display_name: Mapped[str] = mapped_column(String(200))
    named: Mapped[bool] = mapped_column(Boolean, default=False)  # False: tracked by position only
    # With a class list: True when the name is the list's, False when the tag matched nobody
    listed: Mapped[bool | None] = mapped_column(Boolean)
    # A teacher said this participant is another one (db.corrections.merge): their rows moved there
    merged_into: Mapped[int | None] = mapped_column(ForeignKey("participant.id", ondelete="SET NULL"))
    first_seen: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_seen: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    session: Mapped[ClassSession] = relationship(back_populates="participants")


class ClassListEntry(Base):
    """One student of the class list a session was run with (`--roster`): the session's own
    copy, exported and erased with it."""

    __tablename__ = "class_list_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("class_session.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    student_id: Mapped[str | None] = mapped_column(String(64))


class NameCorrection(Base):
    """A teacher's correction of who a tag is: the agent's key `from_key` is shown as `to_name`
    and joins the participant keyed `to_key` (itself, for a rename). It holds for the rest of the
    session, and is carried into the same teacher's next session with the same class list."""

    __tablename__ = "name_correction"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("class_session.id", ondelete="CASCADE"), index=True)
    from_key: Mapped[str] = mapped_column(String(200))
    to_key: Mapped[str] = mapped_column(String(200))
    to_name: Mapped[str] = mapped_column(String(200))
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Capture(Base):
    __tablename__ = "capture"
    __table_args__ = (Index("ix_capture_session_time", "session_id", "taken_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("class_session.id", ondelete="CASCADE"))
    taken_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    tiles_found: Mapped[int] = mapped_column(Integer, default=0)
    faces_found: Mapped[int] = mapped_column(Integer, default=0)
    grab_ms: Mapped[float | None] = mapped_column(Float)
    tiles_ms: Mapped[float | None] = mapped_column(Float)
    ocr_ms: Mapped[float | None] = mapped_column(Float)
    detect_ms: Mapped[float | None] = mapped_column(Float)
    classify_ms: Mapped[float | None] = mapped_column(Float)
    write_ms: Mapped[float | None] = mapped_column(Float)
    total_ms: Mapped[float | None] = mapped_column(Float)
    error: Mapped[str | None] = mapped_column(Text)


class Observation(Base):
    __tablename__ = "observation"
    __table_args__ = (
        Index("ix_observation_session_time", "session_id", "observed_at"),
        Index("ix_observation_participant_time", "participant_id", "observed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    capture_id: Mapped[int] = mapped_column(ForeignKey("capture.id", ondelete="CASCADE"), index=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("class_session.id", ondelete="CASCADE"))
    participant_id: Mapped[int] = mapped_column(ForeignKey("participant.id", ondelete="CASCADE"))
    observed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    state: Mapped[str] = mapped_column(String(12))  # one of STATES
    tile_x: Mapped[int | None] = mapped_column(Integer)
    tile_y: Mapped[int | None] = mapped_column(Integer)
    face_x: Mapped[int | None] = mapped_column(Integer)
    face_y: Mapped[int | None] = mapped_column(Integer)
    face_w: Mapped[int | None] = mapped_column(Integer)
    face_h: Mapped[int | None] = mapped_column(Integer)
    p_angry: Mapped[float | None] = mapped_column(Float)
    p_disgust: Mapped[float | None] = mapped_column(Float)
    p_fear: Mapped[float | None] = mapped_column(Float)
    p_happy: Mapped[float | None] = mapped_column(Float)
    p_sad: Mapped[float | None] = mapped_column(Float)
    p_surprise: Mapped[float | None] = mapped_column(Float)
    p_neutral: Mapped[float | None] = mapped_column(Float)
    top_emotion: Mapped[str | None] = mapped_column(String(10))
    # The calibrated reading is a guess (under the model's uncertain_below); it is shown, but
    # kept out of the means the attention flags use. NULL: no face, or an older row.
    uncertain: Mapped[bool | None] = mapped_column(Boolean)
    # Head pose in degrees (core.head_pose: yaw > 0 turned to the student's right, pitch > 0 up)
    # and "screen"/"away" after the student's own baseline and hysteresis (agent.attention).
    # NULL: no face, or an older row.
    yaw: Mapped[float | None] = mapped_column(Float)
    pitch: Mapped[float | None] = mapped_column(Float)
    looking: Mapped[str | None] = mapped_column(String(6))


class AuditEvent(Base):
    """One thing done to the data on someone's request: a purge, an export, an erasure."""

    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_event_at", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(200))  # the signed-in user, or the OS user of a command
    action: Mapped[str] = mapped_column(String(40))  # purge | export | erase | delete_session
    target: Mapped[str] = mapped_column(String(300))  # what it was done to (a cut-off date, a student)
    detail: Mapped[dict] = mapped_column(JSON, default=dict)  # counts of rows, never the rows themselves


class ShareLink(Base):
    """A link to one session's aggregate view (no names) that works without a sign-in until it
    expires or is revoked. Only a digest of the link's secret is stored: the database cannot
    hand the link out again, a leaked table opens nothing."""

    __tablename__ = "share_link"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("class_session.id", ondelete="CASCADE"), index=True)
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)  # sha256 hex of the secret in the URL
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
