"""Users, their per-agency roles, their signed-in sessions and the record of failed sign-ins."""

from __future__ import annotations

import enum
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .. import clock
from ..extensions import db
from ..types import UTCDateTime


class Role(enum.IntEnum):
    """Per-agency roles; a higher role can do everything a lower one can."""

    VIEWER = 10
    COMMUNICATIONS_LEAD = 20
    SERVICE_MANAGER = 30
    SERVICE_OWNER = 40

    @property
    def label(self) -> str:
        return self.name.replace("_", " ").capitalize()

    @property
    def key(self) -> str:
        return self.name.lower()

    @classmethod
    def from_key(cls, key: str) -> Role:
        try:
            return cls[key.strip().upper().replace("-", "_").replace(" ", "_")]
        except KeyError:
            raise ValueError(f"unknown role {key!r}; choose one of {', '.join(r.key for r in cls)}")


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    is_site_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    # The latest invitation sent (the account has no password until it is accepted).
    invited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_sign_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # An API key's account (api_keys/models.py): it acts through the API only, never signs in
    # (no password, reset, single sign-on or passkey), is told nothing and is not listed among
    # people.
    is_service_account: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="user", cascade="all, delete-orphan"
    )

    @property
    def is_active(self) -> bool:  # Flask-Login reads this; signing in in any way checks it
        return self.active and not self.is_service_account

    @property
    def has_password(self) -> bool:
        """False while an invitation waits to be accepted (the hash is an unusable marker)."""
        return self.password_hash.startswith("$")

    @property
    def manages_users(self) -> bool:
        """Site admins manage every user; a service owner the users of their agencies."""
        return self.is_site_admin or any(
            m.role >= Role.SERVICE_OWNER for m in self.memberships
        )

    def role_in(self, agency_id: int) -> Role | None:
        """The user's role in an agency, or None; site admins act as service owners everywhere."""
        if self.is_site_admin:
            return Role.SERVICE_OWNER
        for membership in self.memberships:
            if membership.agency_id == agency_id:
                return Role(membership.role)
        return None

    def can(self, role: Role, agency_id: int) -> bool:
        held = self.role_in(agency_id)
        return held is not None and held >= role

    def __repr__(self) -> str:
        return f"<User {self.email}>"


class Membership(db.Model):
    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("user_id", "agency_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id", ondelete="CASCADE"))
    role: Mapped[int] = mapped_column()

    user: Mapped[User] = relationship(back_populates="memberships")
    agency = relationship("Agency")

    @property
    def role_label(self) -> str:
        return Role(self.role).label

    @property
    def role_key(self) -> str:
        return Role(self.role).key


class UserSession(db.Model):
    """One signed-in session. The cookie holds a random token, this row its SHA-256: a session
    ends on the server (sign out, password change, deactivation, idle, sign out everywhere), and a
    copied cookie is worth nothing after that."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # signed_out, everywhere, idle, expired, password, deactivated, or what end_sessions was told
    end_reason: Mapped[str] = mapped_column(String(20), default="")
    address: Mapped[str] = mapped_column(String(64))
    user_agent: Mapped[str] = mapped_column(String(200), default="")

    user: Mapped[User] = relationship()


class LoginFailure(db.Model):
    """One failed sign-in; counted per account and address, per address, and per account (a high
    ceiling) to slow guessing without letting a stranger lock the real person out."""

    __tablename__ = "login_failures"
    __table_args__ = (Index("ix_login_failures_email_address", "email", "address"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), index=True)
    address: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class TotpFactor(db.Model):
    """An authenticator app (RFC 6238 TOTP). On once a first code confirmed it; until then the
    row holds the secret being set up. ``last_step`` is the newest time step a code was accepted
    for, so a code cannot be used twice."""

    __tablename__ = "totp_factors"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    secret: Mapped[str] = mapped_column(String(64))  # base32
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_step: Mapped[int | None] = mapped_column(Integer)


class RecoveryCode(db.Model):
    """A single-use code for when the other factors are out of reach; only its argon2 hash is
    kept (shown once, when made)."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Passkey(db.Model):
    """A WebAuthn credential: a passkey signs in on its own, or is the second factor."""

    __tablename__ = "passkeys"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    credential_id: Mapped[str] = mapped_column(String(1400), unique=True)  # base64url
    public_key: Mapped[bytes] = mapped_column(LargeBinary)
    sign_count: Mapped[int] = mapped_column(Integer, default=0)
    transports: Mapped[str] = mapped_column(String(200), default="")  # comma-separated
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CodeFailure(db.Model):
    """One wrong second-factor code (authenticator or recovery), counted like LoginFailure."""

    __tablename__ = "code_failures"
    __table_args__ = (Index("ix_code_failures_user_address", "user_id", "address"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    address: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
