"""Accounts: creating and inviting users, roles per agency, deactivation, passwords (set from a
one-time link, changed, reset), signing in with throttling that never locks the real person out,
and the server-side sessions that every sign-out, password change and deactivation ends.

Every change made by a person writes the audit log in the same transaction."""

from __future__ import annotations

import hashlib
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, exists, select, update

from .. import audit, clock
from ..catalog.models import Agency
from ..extensions import db
from . import emails, tokens
from .models import LoginFailure, Membership, Role, User, UserSession
from .passwords import MIN_PASSWORD_LENGTH, hash_password, needs_rehash, verify_password

# How long an address the account has signed in from stays "known" (exempt from the per-account
# ceiling, so a crowd of strangers cannot lock the real person out from where they work).
KNOWN_ADDRESS_DAYS = 90
# Ended sessions are kept this long (they say where the account signed in from), then deleted.
SESSION_RECORD_DAYS = 90


class UserError(ValueError):
    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


def normalise_email(email: str) -> str:
    return email.strip().lower()


def find_user(email: str) -> User | None:
    return db.session.scalars(select(User).where(User.email == normalise_email(email))).first()


def _checked_email(email: str) -> str:
    email = normalise_email(email)
    local, at, domain = email.partition("@")
    if not (local and at and "." in domain) or any(c.isspace() for c in email) or len(email) > 254:
        raise UserError("Enter an email address in the right format, like name@example.gov.", "email")
    return email


def check_password(password: str, field: str = "password") -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"Enter a password of at least {MIN_PASSWORD_LENGTH} characters.", field)
    if len(password) > 1000:
        raise UserError("Enter a password of at most 1000 characters.", field)


def create_user(
    email: str,
    name: str,
    password: str,
    *,
    site_admin: bool = False,
    roles: dict[Agency, Role] | None = None,
) -> User:
    """A user with a password (the command line and the demo data; people are invited)."""
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


# --- administration: invitations, roles, deactivation ------------------------------------------


def _unusable_password() -> str:
    """A stored "hash" no password matches (argon2 hashes start with "$"); new on each invitation,
    so sending an invitation again retires the links sent before."""
    return "!invited:" + secrets.token_hex(16)


def invite_user(
    by: User,
    *,
    name: str,
    email: str,
    agency: Agency | None = None,
    role: Role | None = None,
    site_admin: bool = False,
) -> User:
    """A new account without a password, and an email with a one-time link to choose one."""
    email = _checked_email(email)
    if not name.strip():
        raise UserError("Enter the person's name.", "name")
    if site_admin and not by.is_site_admin:
        raise UserError("Only a site administrator can invite a site administrator.", "site_admin")
    if not site_admin and (agency is None or role is None):
        raise UserError("Choose an agency and a role.", "agency")
    if agency is not None and not by.can(Role.SERVICE_OWNER, agency.id):
        raise UserError("Choose one of your agencies.", "agency")
    if find_user(email) is not None:
        raise UserError(
            "An account already uses this address. Find it in the list of users and give it a "
            "role there (or ask a site administrator).",
            "email",
        )
    now = clock.now()
    user = User(
        email=email,
        name=name.strip(),
        password_hash=_unusable_password(),
        is_site_admin=site_admin,
        created_at=now,
        invited_at=now,
        active=True,
    )
    if agency is not None and role is not None:
        user.memberships = [Membership(agency_id=agency.id, role=int(role))]
    db.session.add(user)
    db.session.flush()
    audit.record(
        "user_invited", actor=by, agency_id=agency.id if agency else None,
        user=user.email, role=role.key if role else None, site_admin=site_admin,
    )  # fmt: skip
    emails.send_invitation(user)
    db.session.commit()
    return user


def resend_invitation(by: User, user: User) -> None:
    if user.has_password:
        raise UserError(f"{user.name} has accepted the invitation already.")
    if not user.active:
        raise UserError(f"{user.name} is deactivated: reactivate the account first.")
    user.password_hash = _unusable_password()  # the earlier links stop working
    user.invited_at = clock.now()
    audit.record("invitation_resent", actor=by, agency_id=_only_agency(user), user=user.email)
    emails.send_invitation(user)
    db.session.commit()


def _only_agency(user: User) -> int | None:
    """The agency an audit entry about this user belongs to, when there is exactly one."""
    ids = {m.agency_id for m in user.memberships}
    return ids.pop() if len(ids) == 1 else None


def _not_yourself(by: User, user: User) -> None:
    if by.id == user.id:
        raise UserError(
            "You cannot change your own access. Ask another service owner or a site administrator."
        )


def set_role(by: User, user: User, agency: Agency, role: Role) -> None:
    """Give the user a role in the agency, or change the one they have."""
    _not_yourself(by, user)
    if not by.can(Role.SERVICE_OWNER, agency.id):
        raise UserError("Choose one of your agencies.", "agency")
    membership = next((m for m in user.memberships if m.agency_id == agency.id), None)
    if membership is None:
        user.memberships.append(Membership(agency_id=agency.id, role=int(role)))
        audit.record("role_added", actor=by, agency_id=agency.id, user=user.email, role=role.key)
    elif membership.role != int(role):
        before = Role(membership.role)
        membership.role = int(role)
        audit.record(
            "role_changed", actor=by, agency_id=agency.id, user=user.email,
            before=before.key, after=role.key,
        )  # fmt: skip
    db.session.commit()


def remove_role(by: User, user: User, agency: Agency) -> None:
    _not_yourself(by, user)
    if not by.can(Role.SERVICE_OWNER, agency.id):
        raise UserError("Choose one of your agencies.", "agency")
    membership = next((m for m in user.memberships if m.agency_id == agency.id), None)
    if membership is None:
        raise UserError(f"{user.name} has no role in {agency.name}.")
    user.memberships.remove(membership)
    audit.record(
        "role_removed", actor=by, agency_id=agency.id, user=user.email,
        role=Role(membership.role).key,
    )  # fmt: skip
    db.session.commit()


def set_site_admin(by: User, user: User, site_admin: bool) -> None:
    _not_yourself(by, user)
    if not by.is_site_admin:
        raise UserError("Only a site administrator can do this.")
    if user.is_site_admin != site_admin:
        user.is_site_admin = site_admin
        audit.record(
            "site_admin_granted" if site_admin else "site_admin_removed",
            actor=by, agency_id=None, user=user.email,
        )  # fmt: skip
    db.session.commit()


def deactivate_user(by: User, user: User) -> None:
    """The account can no longer sign in, and every session it has ends at once."""
    _not_yourself(by, user)
    if not user.active:
        return
    user.active = False
    ended = end_sessions(user, reason="deactivated")
    audit.record(
        "user_deactivated", actor=by, agency_id=_only_agency(user), user=user.email,
        sessions_ended=ended,
    )  # fmt: skip
    db.session.commit()


def reactivate_user(by: User, user: User) -> None:
    _not_yourself(by, user)
    if user.active:
        return
    user.active = True
    audit.record("user_reactivated", actor=by, agency_id=_only_agency(user), user=user.email)
    db.session.commit()


# --- passwords ---------------------------------------------------------------------------------


def _set_password(user: User, password: str) -> None:
    user.password_hash = hash_password(password)
    user.invited_at = None


def accept_invitation(token: str, password: str) -> User:
    """Choose a password from an invitation link (which then stops working)."""
    user = tokens.read(tokens.INVITATION, token)
    check_password(password)
    _set_password(user, password)
    end_sessions(user, reason="password")
    audit.record("invitation_accepted", actor=user, agency_id=_only_agency(user))
    db.session.commit()
    return user


def request_password_reset(email: str) -> None:
    """Email a reset link to the account's address, or a note that there is no account to an
    address nobody uses. The same work and the same answer either way: nothing tells the person
    asking whether the address has an account."""
    address = _checked_email(email)
    user = find_user(address)
    if user is not None and not user.is_active:  # deactivated, or an API key's account
        user = None
    emails.send_password_reset(user, address, f"{clock.now().timestamp():.0f}-{secrets.token_hex(4)}")
    db.session.commit()


def reset_password(token: str, password: str) -> User:
    """Set a new password from a reset link; every session of the account ends."""
    user = tokens.read(tokens.PASSWORD_RESET, token)
    check_password(password)
    _set_password(user, password)
    ended = end_sessions(user, reason="password")
    audit.record("password_reset", actor=user, agency_id=None, sessions_ended=ended)
    db.session.commit()
    return user


def change_password(user: User, current: str, new: str, *, keep: UserSession | None) -> int:
    """The signed-in person changes their password; their other sessions end. Returns how many."""
    if not verify_password(user.password_hash, current):
        raise UserError("Your current password is not right.", "current_password")
    check_password(new)
    _set_password(user, new)
    ended = end_sessions(user, keep=keep, reason="password")
    audit.record("password_changed", actor=user, agency_id=None, sessions_ended=ended)
    db.session.commit()
    return ended


# --- sessions ----------------------------------------------------------------------------------


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(user: User, address: str, user_agent: str) -> tuple[str, UserSession]:
    """A new server-side session; returns the token for the cookie (only its hash is stored)."""
    now = clock.now()
    token = secrets.token_urlsafe(32)
    row = UserSession(
        user_id=user.id, token_hash=token_hash(token), created_at=now, last_seen_at=now,
        end_reason="", address=address[:64], user_agent=user_agent[:200],
    )  # fmt: skip
    db.session.add(row)
    user.last_sign_in_at = now
    # Old records go: ended or expired sessions past SESSION_RECORD_DAYS.
    db.session.execute(
        delete(UserSession).where(
            UserSession.user_id == user.id,
            UserSession.last_seen_at < now - timedelta(days=SESSION_RECORD_DAYS),
        )
    )
    db.session.commit()
    return token, row


def live_session(token: str, user_id: int) -> UserSession | None:
    """The session this cookie token names, if it still runs (not ended, not idle too long, not
    older than PERMANENT_SESSION_LIFETIME, the account active); ending it here if it timed out.
    Its last-seen time is moved on at most once a minute."""
    row = db.session.scalars(
        select(UserSession).where(UserSession.token_hash == token_hash(token))
    ).first()
    if row is None or row.user_id != user_id or row.ended_at is not None:
        return None
    config = current_app.config
    now = clock.now()
    reason = None
    if now - row.last_seen_at >= timedelta(minutes=config["SESSION_IDLE_MINUTES"]):
        reason = "idle"
    elif now - row.created_at >= config["PERMANENT_SESSION_LIFETIME"]:
        reason = "expired"
    elif not row.user.is_active:
        reason = "deactivated"
    if reason is not None:
        row.ended_at, row.end_reason = now, reason
        db.session.commit()
        return None
    if now - row.last_seen_at >= timedelta(minutes=1):
        db.session.execute(
            update(UserSession).where(UserSession.id == row.id).values(last_seen_at=now)
        )
        db.session.commit()
    return row


def end_session(row: UserSession, reason: str = "signed_out") -> None:
    """Sign out of one session (the cookie it was given stops working)."""
    db.session.execute(
        update(UserSession)
        .where(UserSession.id == row.id, UserSession.ended_at.is_(None))
        .values(ended_at=clock.now(), end_reason=reason)
    )
    db.session.commit()


def end_sessions(user: User, *, keep: UserSession | None = None, reason: str = "ended") -> int:
    """End every running session of the user (but ``keep``), in the caller's transaction: call it
    from any operation that changes how the person signs in (a password, a second factor,
    deactivation), then commit. Returns how many ended."""
    query = update(UserSession).where(
        UserSession.user_id == user.id, UserSession.ended_at.is_(None)
    )
    if keep is not None:
        query = query.where(UserSession.id != keep.id)
    result = db.session.execute(query.values(ended_at=clock.now(), end_reason=reason[:20]))
    return result.rowcount or 0


def sign_out_everywhere(user: User) -> int:
    ended = end_sessions(user, reason="everywhere")
    audit.record("signed_out_everywhere", actor=user, agency_id=None, sessions_ended=ended)
    db.session.commit()
    return ended


def running_sessions(user: User) -> list[UserSession]:
    idle = timedelta(minutes=current_app.config["SESSION_IDLE_MINUTES"])
    return list(
        db.session.scalars(
            select(UserSession)
            .where(
                UserSession.user_id == user.id,
                UserSession.ended_at.is_(None),
                UserSession.last_seen_at > clock.now() - idle,
            )
            .order_by(UserSession.last_seen_at.desc())
        )
    )


# --- signing in --------------------------------------------------------------------------------


@dataclass(frozen=True)
class SignIn:
    user: User | None
    # Minutes to wait before trying again, when too many attempts failed.
    wait_minutes: int | None = None

    @property
    def ok(self) -> bool:
        return self.user is not None

    @property
    def throttled(self) -> bool:
        return self.wait_minutes is not None


def until_below(at, condition, limit: int, since: datetime) -> datetime | None:
    """When fewer than ``limit`` recent failures will match: the moment the limit-th most recent
    leaves the window (None when fewer than ``limit`` match now). ``at`` is the failure table's
    time column (password failures here, second-factor code failures in factors.py)."""
    if limit <= 0:
        return None
    limit_th = db.session.scalar(
        select(at)
        .where(at >= since, condition)
        .order_by(at.desc())
        .offset(limit - 1)
        .limit(1)
    )
    return None if limit_th is None else limit_th + current_app.config["LOGIN_THROTTLE_WINDOW"]


def _known_address(email: str, address: str, now: datetime) -> bool:
    """The account has signed in from this address lately."""
    return bool(
        db.session.scalar(
            select(
                exists().where(
                    UserSession.user_id == User.id,
                    User.email == email,
                    UserSession.address == address,
                    UserSession.created_at >= now - timedelta(days=KNOWN_ADDRESS_DAYS),
                )
            )
        )
    )


def throttled_until(email: str, address: str) -> datetime | None:
    """When this account may next be tried from this address, if not now.

    Three counts over LOGIN_THROTTLE_WINDOW: this account from this address (a few guesses), this
    address on any account (a guesser trying many accounts), and this account from anywhere (a
    high ceiling that bounds guessing from many addresses; the addresses the account has signed in
    from lately are exempt, so strangers cannot lock the real person out)."""
    config = current_app.config
    now = clock.now()
    since = now - config["LOGIN_THROTTLE_WINDOW"]
    email = normalise_email(email)
    ends = [
        until_below(
            LoginFailure.at,
            (LoginFailure.email == email) & (LoginFailure.address == address),
            config["LOGIN_MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS"],
            since,
        ),
        until_below(
            LoginFailure.at,
            LoginFailure.address == address,
            config["LOGIN_MAX_FAILURES_PER_ADDRESS"],
            since,
        ),
    ]
    ceiling = until_below(
        LoginFailure.at,
        LoginFailure.email == email,
        config["LOGIN_MAX_FAILURES_PER_ACCOUNT"],
        since,
    )
    if ceiling is not None and not _known_address(email, address, now):
        ends.append(ceiling)
    ends = [end for end in ends if end is not None and end > now]
    return max(ends) if ends else None


def sign_in(email: str, password: str, address: str) -> SignIn:
    """Check a password (step one of signing in); count a failure, or forget this address's
    failures for the account on success. The caller starts the session."""
    email = normalise_email(email)
    now = clock.now()
    until = throttled_until(email, address)
    if until is not None:
        return SignIn(None, wait_minutes=max(1, math.ceil((until - now).total_seconds() / 60)))
    user = find_user(email)
    # Verify even for an unknown account (or one without a password yet) so the answer takes the
    # same time either way.
    password_ok = verify_password(user.password_hash if user else None, password)
    if user is None or not password_ok or not user.is_active:
        window = current_app.config["LOGIN_THROTTLE_WINDOW"]
        db.session.execute(delete(LoginFailure).where(LoginFailure.at < now - window))
        db.session.add(LoginFailure(email=email[:254], address=address[:64], at=now))
        db.session.commit()
        return SignIn(None)
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    db.session.execute(
        delete(LoginFailure).where(LoginFailure.email == email, LoginFailure.address == address)
    )
    db.session.commit()
    return SignIn(user)
