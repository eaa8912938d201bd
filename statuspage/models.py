"""Imports every model so the metadata (and Alembic) see all tables."""

from .catalog.models import Agency, Service
from .incidents.models import AffectedService, Incident, IncidentUpdate, PriorityChange
from .users.models import LoginFailure, Membership, User

__all__ = [
    "AffectedService",
    "Agency",
    "Incident",
    "IncidentUpdate",
    "LoginFailure",
    "Membership",
    "PriorityChange",
    "Service",
    "User",
]
