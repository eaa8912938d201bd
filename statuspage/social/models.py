"""An agency's social media accounts, and the posts made to them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..catalog.models import Agency
from ..extensions import db
from ..types import UTCDateTime


class SocialAccount(db.Model):
    """One account of an agency on one network. Mastodon and Bluesky accounts hold what posting
    needs (the token or app password encrypted, see social/secrets.py); the others (X, Facebook,
    Threads) are copy-only: the admin shows a ready post to paste."""

    __tablename__ = "social_accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    network: Mapped[str] = mapped_column(String(20))  # a key of social.compose.NETWORKS
    name: Mapped[str] = mapped_column(String(200))  # how people know it: "@revenue@social.gov"
    # Mastodon: the instance's base URL; Bluesky: the PDS's (https://bsky.social by default).
    base_url: Mapped[str] = mapped_column(String(500), default="")
    handle: Mapped[str] = mapped_column(String(200), default="")  # Bluesky: the login handle
    secret: Mapped[str] = mapped_column(Text, default="")  # encrypted token / app password
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    agency: Mapped[Agency] = relationship()

    @property
    def by_api(self) -> bool:
        from .compose import NETWORKS

        return NETWORKS[self.network].by_api

    @property
    def network_label(self) -> str:
        from .compose import NETWORKS

        return NETWORKS[self.network].label


class SocialPost(db.Model):
    """A post made by the app to an account: what it said and where it is. Kept when the account
    is removed (then without it), so the incident's record stays whole."""

    __tablename__ = "social_posts"
    __table_args__ = (UniqueConstraint("update_id", "account_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), index=True
    )
    update_id: Mapped[int] = mapped_column(ForeignKey("incident_updates.id", ondelete="CASCADE"))
    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("social_accounts.id", ondelete="SET NULL")
    )
    network: Mapped[str] = mapped_column(String(20))
    account_name: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    remote_id: Mapped[str] = mapped_column(String(300))  # status id, or the record's at:// URI
    url: Mapped[str] = mapped_column(String(500))
    posted_at: Mapped[datetime] = mapped_column(UTCDateTime)

    account: Mapped[SocialAccount | None] = relationship()
