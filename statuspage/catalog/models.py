"""Agencies and services, with tier and display order."""

from __future__ import annotations

from sqlalchemy import Boolean, CheckConstraint, Float, ForeignKey, Integer, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db

# Monthly availability a service promises when it sets no target of its own, by tier.
TIER_AVAILABILITY_TARGETS = {1: 99.9, 2: 99.5, 3: 99.0, 4: 98.0}


class Agency(db.Model):
    __tablename__ = "agencies"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    display_order: Mapped[int] = mapped_column(Integer, default=0)
    # Added to every social media post about the agency's incidents: "#TaxDay #Outage".
    hashtags: Mapped[str] = mapped_column(String(300), default="", server_default="")

    services: Mapped[list[Service]] = relationship(
        back_populates="agency", order_by="(Service.display_order, Service.name)"
    )

    def __repr__(self) -> str:
        return f"<Agency {self.slug}>"


class Service(db.Model):
    __tablename__ = "services"
    __table_args__ = (CheckConstraint("tier BETWEEN 1 AND 4", name="tier_range"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    tier: Mapped[int] = mapped_column(Integer, default=2)
    display_order: Mapped[int] = mapped_column(Integer, default=0)
    # The share of each month without a major outage the agency promises, in percent; None: the
    # tier's default.
    availability_target: Mapped[float | None] = mapped_column(Float)
    # A heading the admin lists the service under (e.g. "Payments"); empty: none. The public
    # pages list services by agency only, as the product describes them.
    group_name: Mapped[str] = mapped_column(String(100), default="", server_default="")
    # Its monitoring status follows its Alertmanager alerts (alerts/rules.py): shown to staff,
    # and carried as the impact of the draft incident the alerts open.
    follows_monitoring: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    agency: Mapped[Agency] = relationship(back_populates="services")

    @property
    def target_availability(self) -> float:
        return self.availability_target or TIER_AVAILABILITY_TARGETS[self.tier]

    def __repr__(self) -> str:
        return f"<Service {self.slug}>"
