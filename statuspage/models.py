"""Imports every model so the metadata (and Alembic) see all tables."""

from .audit import AuditEntry
from .catalog.models import Agency, Service
from .communications.models import JargonTerm, UpdateTemplate
from .incidents.models import (
    AffectedService,
    Approval,
    Incident,
    IncidentUpdate,
    MissedDeadline,
    PriorityChange,
    Reminder,
)
from .internal.models import Contact, IncidentNote, IncidentRole, ServiceDependency
from .maintenance.models import MaintenanceWindow
from .publication import SiteState
from .reports.models import (
    MonthlyReport,
    PostIncidentReport,
    PreventiveAction,
    ReportRevision,
)
from .subscriptions.models import Notification, Subscriber, SubscriberScope, Webhook
from .users.models import LoginFailure, Membership, User

__all__ = [
    "AffectedService",
    "Agency",
    "Approval",
    "AuditEntry",
    "Contact",
    "IncidentNote",
    "IncidentRole",
    "ServiceDependency",
    "Incident",
    "IncidentUpdate",
    "JargonTerm",
    "LoginFailure",
    "MaintenanceWindow",
    "Membership",
    "MissedDeadline",
    "MonthlyReport",
    "Notification",
    "PostIncidentReport",
    "PreventiveAction",
    "PriorityChange",
    "Reminder",
    "ReportRevision",
    "Service",
    "SiteState",
    "Subscriber",
    "SubscriberScope",
    "UpdateTemplate",
    "User",
    "Webhook",
]
