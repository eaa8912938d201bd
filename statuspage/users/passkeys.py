"""Passkeys (WebAuthn, through py_webauthn): registering one, signing in with one (on its own, or
as the second factor after a password), naming and removing them.

The browser side is statuspage/static/passkeys.js; the views keep each ceremony's challenge in
the signed session cookie and give it back here with the browser's answer."""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import select
from webauthn import (
    base64url_to_bytes,
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import bytes_to_base64url
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from .. import audit, clock
from ..extensions import db
from .factors import _forget_recovery_codes_without_factor, _make_recovery_codes, recovery_codes_left
from .models import Passkey, User, UserSession
from .operations import UserError, end_sessions

MAX_PASSKEYS = 20


@dataclass(frozen=True)
class Ceremony:
    """Where the ceremony happens: the relying party id (a host name) and the page's origin."""

    rp_id: str
    origin: str


def user_handle(user: User) -> bytes:
    """WebAuthn's user.id: opaque and stable (never the email, never the database id)."""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"webauthn-user:{user.id}".encode(), hashlib.sha256).digest()


def _descriptors(passkeys: list[Passkey]) -> list[PublicKeyCredentialDescriptor]:
    known = {t.value for t in AuthenticatorTransport}
    return [
        PublicKeyCredentialDescriptor(
            id=base64url_to_bytes(p.credential_id),
            transports=[AuthenticatorTransport(t) for t in p.transports.split(",") if t in known],
        )
        for p in passkeys
    ]


def _in_page(options: str) -> str:
    """JSON safe inside the page's <script type="application/json"> (names are typed by people)."""
    return options.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _of(user: User) -> list[Passkey]:
    return list(db.session.scalars(select(Passkey).where(Passkey.user_id == user.id)))


# --- registering -------------------------------------------------------------------------------


def registration_options(user: User, ceremony: Ceremony) -> tuple[str, bytes]:
    """The options for navigator.credentials.create (JSON) and the challenge to keep."""
    options = generate_registration_options(
        rp_id=ceremony.rp_id,
        rp_name=current_app.config["SITE_NAME"],
        user_id=user_handle(user),
        user_name=user.email,
        user_display_name=user.name,
        # A discoverable credential, so the passkey alone can sign in (no email typed first).
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED,
            user_verification=UserVerificationRequirement.REQUIRED,
        ),
        exclude_credentials=_descriptors(_of(user)),
    )
    return _in_page(options_to_json(options)), options.challenge


def _credential(answer: str | None) -> dict:
    try:
        credential = json.loads(answer or "")
    except ValueError:
        credential = None
    if not isinstance(credential, dict):
        raise UserError(
            "Your browser did not give a passkey. Passkeys need JavaScript; try again, or use "
            "another browser or device.",
            "credential",
        )
    return credential


def add_passkey(
    user: User,
    name: str,
    answer: str | None,
    *,
    challenge: bytes | None,
    ceremony: Ceremony,
    keep: UserSession | None,
) -> list[str]:
    """Keep the passkey the browser made (after checking it answers our challenge, for our site).
    Ends the person's other sessions. Returns new recovery codes when they had none."""
    name = name.strip()
    if not name:
        raise UserError("Give the passkey a name, like “Work laptop”.", "name")
    if len(name) > 100:
        raise UserError("Enter a name of at most 100 characters.", "name")
    credential = _credential(answer)
    if challenge is None:
        raise UserError("This page was open too long. Try adding the passkey again.", "credential")
    if len(_of(user)) >= MAX_PASSKEYS:
        raise UserError(f"You have {MAX_PASSKEYS} passkeys. Remove one first.", "name")
    try:
        verified = verify_registration_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=ceremony.rp_id,
            expected_origin=ceremony.origin,
            require_user_verification=True,
        )
    except (WebAuthnException, ValueError, KeyError, TypeError):
        raise UserError(
            "The passkey could not be checked. Try adding it again.", "credential"
        ) from None
    credential_id = bytes_to_base64url(verified.credential_id)
    if db.session.scalar(select(Passkey.id).where(Passkey.credential_id == credential_id)):
        raise UserError("This passkey is registered already.", "credential")
    transports = credential.get("response", {}).get("transports") or []
    passkey = Passkey(
        user_id=user.id,
        name=name,
        credential_id=credential_id,
        public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
        transports=",".join(str(t) for t in transports if isinstance(t, str))[:200],
        created_at=clock.now(),
    )
    db.session.add(passkey)
    ended = end_sessions(user, keep=keep, reason="second_factor")
    audit.record(
        "second_factor_added", actor=user, agency_id=None,
        factor="passkey", name=name, sessions_ended=ended,
    )  # fmt: skip
    codes = _make_recovery_codes(user) if recovery_codes_left(user) == 0 else []
    db.session.commit()
    return codes


def remove_passkey(user: User, passkey: Passkey, *, keep: UserSession | None) -> int:
    if passkey.user_id != user.id:
        raise UserError("That passkey is not yours.")
    db.session.delete(passkey)
    ended = end_sessions(user, keep=keep, reason="second_factor")
    audit.record(
        "second_factor_removed", actor=user, agency_id=None,
        factor="passkey", name=passkey.name, sessions_ended=ended,
    )  # fmt: skip
    _forget_recovery_codes_without_factor(user)
    db.session.commit()
    return ended


# --- signing in --------------------------------------------------------------------------------


def authentication_options(ceremony: Ceremony, user: User | None = None) -> tuple[str, bytes]:
    """Options for navigator.credentials.get: for a known person (the second factor) their
    passkeys; for nobody yet (signing in with a passkey alone) any passkey for this site."""
    options = generate_authentication_options(
        rp_id=ceremony.rp_id,
        allow_credentials=_descriptors(_of(user)) if user is not None else None,
        user_verification=UserVerificationRequirement.REQUIRED,
    )
    return _in_page(options_to_json(options)), options.challenge


def verify_passkey(
    answer: str | None, *, challenge: bytes | None, ceremony: Ceremony, user: User | None = None
) -> User:
    """The active user whose passkey gave this answer (and, when ``user`` is given, only theirs);
    UserError otherwise. The passkey must have verified the person (a PIN or biometrics), so on
    its own it is two factors."""
    refused = UserError("That passkey was not accepted. Try again, or sign in another way.")
    credential = _credential(answer)
    if challenge is None:
        raise UserError("This page was open too long. Try again.")
    credential_id = credential.get("id") or credential.get("rawId")
    passkey = (
        db.session.scalars(select(Passkey).where(Passkey.credential_id == credential_id)).first()
        if isinstance(credential_id, str)
        else None
    )
    if passkey is None or (user is not None and passkey.user_id != user.id):
        raise refused
    owner = db.session.get(User, passkey.user_id)
    if owner is None or not owner.is_active:
        raise refused
    try:
        verified = verify_authentication_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=ceremony.rp_id,
            expected_origin=ceremony.origin,
            credential_public_key=passkey.public_key,
            credential_current_sign_count=passkey.sign_count,
            require_user_verification=True,
        )
    except (WebAuthnException, ValueError, KeyError, TypeError):
        raise refused from None
    passkey.sign_count = verified.new_sign_count
    passkey.last_used_at = clock.now()
    db.session.commit()
    return owner
