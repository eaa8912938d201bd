"""An API key of an agency, and the stored answers to idempotent requests.

A key acts through its own service-account ``User`` (``is_service_account``), who holds the
communications lead role in the key's agency only: operations are called with ``by=key.user``
as for a person, so permissions, approvals and separation of duties apply unchanged, and the
audit log names the key ("API key 'Grafana' (Department of Revenue)"). Only the SHA-256 of the
key is stored."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..types import UTCDateTime
from ..users.models import User

SCOPES = {
    "read": "Read the agency's page, components, incidents and maintenance",
    "incidents": "Open and update incidents",
    "maintenance": "Plan and update scheduled maintenance",
    "components": "Change the status of the agency's services (components)",
}


class ApiKey(db.Model):
    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    scopes: Mapped[list[str]] = mapped_column(JSON, default=list)
    # The first characters of the key ("sp_a1b2c3"), shown to tell keys apart; not a secret.
    prefix: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)  # SHA-256, hex
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    agency = relationship("Agency")
    user: Mapped[User] = relationship(foreign_keys=[user_id])
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    revoked_by: Mapped[User | None] = relationship(foreign_keys=[revoked_by_id])

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None

    @property
    def label(self) -> str:
        """How the audit log and the admin name the key."""
        return f"API key '{self.name}' ({self.agency.name})"

    def has_scopes(self, *scopes: str) -> bool:
        return set(scopes) <= set(self.scopes)

    def __repr__(self) -> str:
        return f"<ApiKey {self.id} {self.name!r}>"


class IdempotentRequest(db.Model):
    """The first answer to a POST sent with an ``Idempotency-Key`` header, replayed for a retry.
    ``status`` is None while the first request is still being answered."""

    __tablename__ = "idempotent_requests"
    __table_args__ = (UniqueConstraint("api_key_id", "idempotency_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    api_key_id: Mapped[int] = mapped_column(ForeignKey("api_keys.id", ondelete="CASCADE"))
    idempotency_key: Mapped[str] = mapped_column(String(255))
    request_hash: Mapped[str] = mapped_column(String(64))  # SHA-256 of method, path and body
    status: Mapped[int | None] = mapped_column(Integer)
    content_type: Mapped[str] = mapped_column(String(100), default="")
    body: Mapped[bytes] = mapped_column(LargeBinary, default=b"")
    headers: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
