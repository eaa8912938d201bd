"""Creating and revoking API keys. Each key is a random token shown once; only its SHA-256 is
kept (a 32-byte random key needs no slow hash). Both changes write the audit log, naming the key
and its scopes, never the key itself."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select

from .. import audit, clock
from ..catalog.models import Agency
from ..extensions import db
from ..users.models import Membership, Role, User
from .models import SCOPES, ApiKey

PREFIX = "sp_"  # every key starts so, which tells secret scanners and people what it is
NAME_LENGTH = 100


class ApiKeyError(ValueError):
    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def check_scopes(scopes) -> list[str]:
    """The scopes in a fixed order; an unknown one or none at all is refused."""
    scopes = {str(scope).strip().lower() for scope in scopes}
    unknown = sorted(scopes - set(SCOPES))
    if unknown:
        raise ApiKeyError(
            f"Unknown scope {', '.join(unknown)}: choose from {', '.join(SCOPES)}.", "scopes"
        )
    if not scopes:
        raise ApiKeyError("Choose at least one scope.", "scopes")
    return [scope for scope in SCOPES if scope in scopes]


def create_key(
    agency: Agency, name: str, scopes: set[str], *, by: User | None
) -> tuple[ApiKey, str]:
    """A new key of the agency and the key itself (shown once: only its hash is kept). ``by`` is
    None from the command line."""
    name = " ".join(name.split())
    if not name:
        raise ApiKeyError("Enter a name that says what uses the key, like 'Grafana'.", "name")
    if len(name) > NAME_LENGTH:
        raise ApiKeyError(f"Enter a name of at most {NAME_LENGTH} characters.", "name")
    ordered = check_scopes(scopes)
    if by is not None and not by.can(Role.SERVICE_OWNER, agency.id):
        raise ApiKeyError("Only the agency's service owners can create its API keys.")
    token = PREFIX + secrets.token_urlsafe(32)
    now = clock.now()
    account = User(
        email=f"api-key-{secrets.token_hex(8)}@api-keys.invalid",
        name=f"API key '{name}' ({agency.name})",
        password_hash="!api-key",  # no password matches (argon2 hashes start with "$")
        is_site_admin=False,
        is_service_account=True,
        active=True,
        created_at=now,
    )
    account.memberships = [Membership(agency_id=agency.id, role=int(Role.COMMUNICATIONS_LEAD))]
    key = ApiKey(
        agency_id=agency.id, name=name, scopes=ordered, prefix=token[:9], key_hash=key_hash(token),
        user=account, created_by_id=by.id if by else None, created_at=now,
    )  # fmt: skip
    db.session.add_all([account, key])
    db.session.flush()
    audit.record(
        "api_key_created", actor=by, agency_id=agency.id, key=key.label, key_id=key.id,
        scopes=ordered,
    )  # fmt: skip
    db.session.commit()
    return key, token


def revoke_key(key: ApiKey, *, by: User | None) -> bool:
    """The key stops working at once. False when it was revoked already."""
    if key.revoked:
        return False
    if by is not None and not by.can(Role.SERVICE_OWNER, key.agency_id):
        raise ApiKeyError("Only the agency's service owners can revoke its API keys.")
    key.revoked_at = clock.now()
    key.revoked_by_id = by.id if by else None
    key.user.active = False
    audit.record(
        "api_key_revoked", actor=by, agency_id=key.agency_id, key=key.label, key_id=key.id,
        scopes=list(key.scopes),
    )  # fmt: skip
    db.session.commit()
    return True


def find_key(token: str) -> ApiKey | None:
    """The key this token is, revoked or not (None for an unknown one)."""
    if not token or len(token) > 200:
        return None
    return db.session.scalars(select(ApiKey).where(ApiKey.key_hash == key_hash(token))).first()


def keys_of(agency_ids: list[int]) -> list[ApiKey]:
    return list(
        db.session.scalars(
            select(ApiKey)
            .where(ApiKey.agency_id.in_(agency_ids))
            .order_by(ApiKey.revoked_at.is_not(None), ApiKey.created_at.desc(), ApiKey.id.desc())
        )
    )
