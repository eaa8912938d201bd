"""Imports every model so the metadata (and Alembic) see all tables."""

from .alerts.models import AlertGroup, AlertGroupService  # noqa: F401
from .api_keys.models import ApiKey, IdempotentRequest  # noqa: F401
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
from .press.models import PressStatement, TalkingPoints  # noqa: F401
from .publication import SiteState
from .reports.models import (
    MonthlyReport,
    PostIncidentReport,
    PreventiveAction,
    ReportRevision,
)
from .sms.models import SmsScope, SmsSubscriber  # noqa: F401
from .subscriptions.models import Notification, Subscriber, SubscriberScope, Webhook
from .social.models import SocialAccount, SocialPost  # noqa: F401
from .subscriptions.models import SubscriptionAddition  # noqa: F401
from .users.held_posts import HeldPost
from .users.models import (
    CodeFailure,
    LoginFailure,
    Membership,
    Passkey,
    RecoveryCode,
    TotpFactor,
    User,
)

__all__ = [
    "AffectedService",
    "Agency",
    "Approval",
    "AuditEntry",
    "CodeFailure",
    "Contact",
    "HeldPost",
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
    "Passkey",
    "PostIncidentReport",
    "PreventiveAction",
    "PriorityChange",
    "RecoveryCode",
    "Reminder",
    "ReportRevision",
    "Service",
    "SiteState",
    "Subscriber",
    "SubscriberScope",
    "TotpFactor",
    "UpdateTemplate",
    "User",
    "Webhook",
]
