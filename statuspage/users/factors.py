"""Second factors: an authenticator app (TOTP, RFC 6238) and recovery codes; who must have one;
and the throttle on guessing codes. Passkeys are in ``passkeys.py``.

Adding or removing a factor ends the person's other sessions and writes the audit log, in one
transaction, like a password change."""

from __future__ import annotations

import hmac
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import pyotp
import segno
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from sqlalchemy import delete, exists, func, select, update

from .. import audit, clock
from ..extensions import db
from .models import CodeFailure, Passkey, RecoveryCode, Role, TotpFactor, User, UserSession
from .operations import KNOWN_ADDRESS_DAYS, UserError, end_sessions, until_below

# Recovery codes are hashed with argon2id like passwords, at OWASP's lightest recommended cost
# (19 MiB, one pass): a code is 10 random characters (about 49 bits), not a person's choice, and
# signing in may check all ten.
_code_hasher = PasswordHasher(time_cost=1, memory_cost=19456, parallelism=1)

RECOVERY_CODE_COUNT = 10
# No 0/o, 1/l/i: a code is read off paper and typed.
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
# Codes from one step either side of now are accepted (a phone's clock a little off).
TOTP_DRIFT_STEPS = 1


# --- who needs one -----------------------------------------------------------------------------


def _requirement_names() -> set[str]:
    return {name.strip().lower() for name in current_app.config["REQUIRE_SECOND_FACTOR_FOR"]}


def second_factor_required(user: User) -> bool:
    """REQUIRE_SECOND_FACTOR_FOR names "site_admin" and role keys; a role means that role or a
    higher one in any agency."""
    names = _requirement_names()
    if not names:
        return False
    if user.is_site_admin and "site_admin" in names:
        return True
    lowest = min((Role.from_key(n) for n in names if n != "site_admin"), default=None)
    return lowest is not None and any(m.role >= lowest for m in user.memberships)


def confirmed_totp(user: User) -> TotpFactor | None:
    return db.session.scalars(
        select(TotpFactor).where(TotpFactor.user_id == user.id, TotpFactor.confirmed_at.isnot(None))
    ).first()


def passkeys_of(user: User) -> list[Passkey]:
    return list(
        db.session.scalars(
            select(Passkey).where(Passkey.user_id == user.id).order_by(Passkey.created_at, Passkey.id)
        )
    )


def has_second_factor(user: User) -> bool:
    """An authenticator app that is on, or a passkey (recovery codes alone are not a factor)."""
    return bool(
        db.session.scalar(
            select(
                exists().where(TotpFactor.user_id == user.id, TotpFactor.confirmed_at.isnot(None))
                | exists().where(Passkey.user_id == user.id)
            )
        )
    )


def needs_setup(user: User) -> bool:
    """Must add a second factor before doing anything else."""
    return second_factor_required(user) and not has_second_factor(user)


def recovery_codes_left(user: User) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(RecoveryCode)
        .where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
    )


# --- the authenticator app ---------------------------------------------------------------------


def pending_totp(user: User) -> TotpFactor:
    """The secret being set up (made on first asking, kept until confirmed or replaced)."""
    factor = db.session.scalars(select(TotpFactor).where(TotpFactor.user_id == user.id)).first()
    if factor is not None and factor.confirmed_at is not None:
        raise UserError("Your authenticator app is already on. Remove it first to set up another.")
    if factor is None:
        factor = TotpFactor(user_id=user.id, secret=pyotp.random_base32(), created_at=clock.now())
        db.session.add(factor)
        db.session.commit()
    return factor


def provisioning_uri(user: User, factor: TotpFactor) -> str:
    return pyotp.TOTP(factor.secret).provisioning_uri(
        name=user.email, issuer_name=current_app.config["SITE_NAME"]
    )


def qr_code(uri: str) -> str:
    """The otpauth URI as a QR code, an SVG data URI made here (no request leaves the page)."""
    return segno.make(uri, error="m").svg_data_uri(scale=5, dark="#0b0c0c", light="#ffffff")


def spaced(secret: str) -> str:
    """The key in groups of four, as typed by hand."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def _matching_step(factor: TotpFactor, code: str, at: datetime) -> int | None:
    """The time step the code belongs to (now, or one either side), if any and not used before."""
    totp = pyotp.TOTP(factor.secret)
    now_step = totp.timecode(at)
    for step in range(now_step - TOTP_DRIFT_STEPS, now_step + TOTP_DRIFT_STEPS + 1):
        if factor.last_step is not None and step <= factor.last_step:
            continue  # that code (or an older one) was used already: no replays
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _claim_step(factor: TotpFactor, step: int) -> bool:
    """Mark the step used, unless a request at the same moment used it (or a later one) first."""
    claimed = db.session.execute(
        update(TotpFactor)
        .where(
            TotpFactor.id == factor.id,
            TotpFactor.last_step.is_(None) | (TotpFactor.last_step < step),
        )
        .values(last_step=step)
    )
    return claimed.rowcount == 1


def _digits(code: str) -> str:
    return "".join(code.split())


def confirm_totp(user: User, code: str, *, address: str, keep: UserSession | None) -> list[str]:
    """Turn the authenticator app on with a first code from it. Returns new recovery codes when
    the person had none (shown once), else an empty list."""
    factor = pending_totp(user)
    _refuse_while_throttled(user, address)
    step = _matching_step(factor, _digits(code), clock.now())
    if step is None:
        _count_failure(user, address)
        raise UserError(
            "That code is not right. Enter the 6-digit code your app shows now.", "code"
        )
    factor.confirmed_at = clock.now()
    factor.last_step = step
    ended = end_sessions(user, keep=keep, reason="second_factor")
    audit.record(
        "second_factor_added", actor=user, agency_id=None,
        factor="authenticator app", sessions_ended=ended,
    )  # fmt: skip
    codes = _make_recovery_codes(user) if recovery_codes_left(user) == 0 else []
    db.session.commit()
    return codes


def remove_totp(user: User, *, keep: UserSession | None) -> int:
    """Turn the authenticator app off; returns how many other sessions ended."""
    factor = confirmed_totp(user)
    if factor is None:
        raise UserError("Your authenticator app is not on.")
    db.session.delete(factor)
    ended = end_sessions(user, keep=keep, reason="second_factor")
    audit.record(
        "second_factor_removed", actor=user, agency_id=None,
        factor="authenticator app", sessions_ended=ended,
    )  # fmt: skip
    _forget_recovery_codes_without_factor(user)
    db.session.commit()
    return ended


# --- recovery codes ----------------------------------------------------------------------------


def _new_code() -> str:
    raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(10))
    return f"{raw[:5]}-{raw[5:]}"


def _normal_code(code: str) -> str:
    return "".join(c for c in code.lower() if c.isalnum())


def _make_recovery_codes(user: User) -> list[str]:
    """New codes replace any left (in the caller's transaction)."""
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    now = clock.now()
    codes = [_new_code() for _ in range(RECOVERY_CODE_COUNT)]
    for code in codes:
        db.session.add(
            RecoveryCode(user_id=user.id, code_hash=_code_hasher.hash(_normal_code(code)), created_at=now)
        )
    return codes


def new_recovery_codes(user: User) -> list[str]:
    """A fresh set of recovery codes (the old ones stop working); shown once."""
    if not has_second_factor(user):
        raise UserError("Add an authenticator app or a passkey first; recovery codes go with one.")
    codes = _make_recovery_codes(user)
    audit.record("recovery_codes_made", actor=user, agency_id=None, count=len(codes))
    db.session.commit()
    return codes


def _forget_recovery_codes_without_factor(user: User) -> None:
    db.session.flush()
    if not has_second_factor(user):
        db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))


def _code_matches(code_hash: str, typed: str) -> bool:
    try:
        return _code_hasher.verify(code_hash, typed)
    except (VerificationError, InvalidHashError):
        return False


def _use_recovery_code(user: User, code: str) -> bool:
    typed = _normal_code(code)
    if len(typed) != 10:
        return False
    unused = db.session.scalars(
        select(RecoveryCode).where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
    ).all()
    for row in unused:
        if _code_matches(row.code_hash, typed):
            row.used_at = clock.now()
            audit.record(
                "recovery_code_used", actor=user, agency_id=None, codes_left=len(unused) - 1
            )
            return True
    return False


# --- checking a code when signing in -----------------------------------------------------------


@dataclass(frozen=True)
class CodeCheck:
    ok: bool
    wait_minutes: int | None = None
    recovery_code_used: bool = False

    @property
    def throttled(self) -> bool:
        return self.wait_minutes is not None


def check_code(user: User, code: str, address: str) -> CodeCheck:
    """A code from the authenticator app (6 digits) or a recovery code, throttled per account like
    the password; a wrong one is counted, a right one forgets this address's failures."""
    now = clock.now()
    until = code_throttled_until(user, address)
    if until is not None:
        return CodeCheck(False, wait_minutes=max(1, math.ceil((until - now).total_seconds() / 60)))
    digits = _digits(code)
    ok = used_recovery = False
    if digits.isdigit() and len(digits) == 6:
        factor = confirmed_totp(user)
        step = _matching_step(factor, digits, now) if factor is not None else None
        ok = step is not None and _claim_step(factor, step)
    elif _use_recovery_code(user, code):
        ok = used_recovery = True
    if not ok:
        _count_failure(user, address)
        return CodeCheck(False)
    db.session.execute(
        delete(CodeFailure).where(CodeFailure.user_id == user.id, CodeFailure.address == address)
    )
    db.session.commit()
    return CodeCheck(True, recovery_code_used=used_recovery)


# --- the throttle ------------------------------------------------------------------------------


def _count_failure(user: User, address: str) -> None:
    now = clock.now()
    window = current_app.config["LOGIN_THROTTLE_WINDOW"]
    db.session.rollback()  # nothing half-done is kept with the failure
    db.session.execute(delete(CodeFailure).where(CodeFailure.at < now - window))
    db.session.add(CodeFailure(user_id=user.id, address=address[:64], at=now))
    db.session.commit()


def code_throttled_until(user: User, address: str) -> datetime | None:
    """When a code may next be tried for this account from this address, if not now. Counted as
    passwords are (users/operations.throttled_until): per account and address, and per account
    from anywhere with the addresses it signed in from lately exempt. Whoever gets here knows
    the password, so the per-account ceiling is low (SECOND_FACTOR_MAX_FAILURES_PER_ACCOUNT)."""
    config = current_app.config
    now = clock.now()
    since = now - config["LOGIN_THROTTLE_WINDOW"]
    ends = [
        until_below(
            CodeFailure.at,
            (CodeFailure.user_id == user.id) & (CodeFailure.address == address),
            config["LOGIN_MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS"],
            since,
        )
    ]
    ceiling = until_below(
        CodeFailure.at,
        CodeFailure.user_id == user.id,
        config["SECOND_FACTOR_MAX_FAILURES_PER_ACCOUNT"],
        since,
    )
    if ceiling is not None and not _known_address(user, address, now):
        ends.append(ceiling)
    ends = [end for end in ends if end is not None and end > now]
    return max(ends) if ends else None


def _known_address(user: User, address: str, now: datetime) -> bool:
    return bool(
        db.session.scalar(
            select(
                exists().where(
                    UserSession.user_id == user.id,
                    UserSession.address == address,
                    UserSession.created_at >= now - timedelta(days=KNOWN_ADDRESS_DAYS),
                )
            )
        )
    )


def _refuse_while_throttled(user: User, address: str) -> None:
    until = code_throttled_until(user, address)
    if until is not None:
        minutes = max(1, math.ceil((until - clock.now()).total_seconds() / 60))
        raise UserError(
            f"Too many wrong codes. Try again in {minutes} minute{'s' if minutes != 1 else ''}.",
            "code",
        )
