"""Creating accounts and signing in, with throttling per account and per address."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from sqlalchemy import delete, func, select

from .. import clock
from ..catalog.models import Agency
from ..extensions import db
from .models import LoginFailure, Membership, Role, User
from .passwords import MIN_PASSWORD_LENGTH, hash_password, needs_rehash, verify_password


class UserError(ValueError):
    pass


def normalise_email(email: str) -> str:
    return email.strip().lower()


def find_user(email: str) -> User | None:
    return db.session.scalars(select(User).where(User.email == normalise_email(email))).first()


def create_user(
    email: str,
    name: str,
    password: str,
    *,
    site_admin: bool = False,
    roles: dict[Agency, Role] | None = None,
) -> User:
    email = normalise_email(email)
    if "@" not in email:
        raise UserError(f"{email!r} is not an email address")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
    if find_user(email) is not None:
        raise UserError(f"a user with the email {email} already exists")
    user = User(
        email=email,
        name=name.strip() or email,
        password_hash=hash_password(password),
        is_site_admin=site_admin,
        created_at=clock.now(),
    )
    user.memberships = [
        Membership(agency_id=agency.id, role=int(role)) for agency, role in (roles or {}).items()
    ]
    db.session.add(user)
    db.session.commit()
    return user


@dataclass(frozen=True)
class SignIn:
    user: User | None
    throttled: bool = False

    @property
    def ok(self) -> bool:
        return self.user is not None


def is_throttled(email: str, address: str) -> bool:
    """Too many recent failures for this account or from this address."""
    config = current_app.config
    since = clock.now() - config["LOGIN_THROTTLE_WINDOW"]
    recent = select(func.count()).select_from(LoginFailure).where(LoginFailure.at >= since)
    by_account = db.session.scalar(recent.where(LoginFailure.email == normalise_email(email)))
    by_address = db.session.scalar(recent.where(LoginFailure.address == address))
    return (
        by_account >= config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]
        or by_address >= config["LOGIN_MAX_FAILURES_PER_ADDRESS"]
    )


def sign_in(email: str, password: str, address: str) -> SignIn:
    """Check a password; count the failure, or forget earlier failures on success."""
    email = normalise_email(email)
    if is_throttled(email, address):
        return SignIn(None, throttled=True)
    user = find_user(email)
    # Verify even for an unknown account so the answer takes the same time either way.
    password_ok = verify_password(user.password_hash if user else None, password)
    if user is None or not password_ok or not user.is_active:
        db.session.add(LoginFailure(email=email, address=address, at=clock.now()))
        db.session.commit()
        return SignIn(None)
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    db.session.execute(delete(LoginFailure).where(LoginFailure.email == email))
    db.session.commit()
    return SignIn(user)
