"""Social media for each public update: an agency's accounts (added, turned on or off, removed,
each audited, never with its secret), the ready post per network, and direct posts to the accounts
that allow it by API (Mastodon, Bluesky) through the outbox: automatically for the priorities the
policy names (``social_media``), by a lead's "Post now" for the others."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, url_for
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from .. import audit, clock
from ..catalog.models import Agency
from ..extensions import db
from ..incidents.models import Impact, Incident, IncidentUpdate, State
from ..incidents.visibility import is_public
from ..markdown import render_markdown
from ..policy import current_policy
from ..subscriptions.models import Notification
from ..users.models import User
from . import secrets
from .compose import NETWORKS, Content, Post, compose
from .models import SocialAccount, SocialPost

CHANNEL = "social"
EVENT = "social_post"
DEFAULT_BLUESKY_PDS = "https://bsky.social"
ESSENCE_LIMIT = 600  # characters of the update kept before any network cuts it further


class SocialError(ValueError):
    """A change refused: the message says why, ``field`` names the form field."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


# --- what a post says -------------------------------------------------------------------------

HEADINGS = {
    State.INVESTIGATING.value: "Investigating a {impact}",
    State.IDENTIFIED.value: "Cause found ({impact})",
    State.MONITORING.value: "Fix in place, monitoring",
    State.RESOLVED.value: "Resolved",
    State.CLOSED.value: "Closed",
}


def incident_link(incident: Incident) -> str:
    """The incident's public page, absolute from SITE_URL (never the request's host)."""
    return current_app.config["SITE_URL"].rstrip("/") + url_for("public.incident", ref=incident.ref)


def content_for(incident: Incident, update: IncidentUpdate) -> Content:
    """Status in words, the services and agency, the update in short, the link, the hashtags."""
    from ..communications.templates import service_names

    worst = max((a.impact_enum for a in incident.affected), key=lambda i: i.severity,
                default=Impact.DEGRADED_PERFORMANCE)  # fmt: skip
    status = HEADINGS.get(update.status, "Update").format(impact=worst.label.lower())
    services = service_names(incident) or incident.title
    heading = f"{status}: {services} ({incident.agency.name})"
    essence = render_markdown(update.body).striptags()
    if update.status not in (State.RESOLVED.value, State.CLOSED.value) and update.workaround:
        essence += " Meanwhile: " + " ".join(update.workaround.split())
    if len(essence) > ESSENCE_LIMIT:
        essence = essence[:ESSENCE_LIMIT]
    return Content(
        heading=f"{heading} – {incident.title}" if services != incident.title else heading,
        essence=essence,
        link=incident_link(incident),
        hashtags=tuple(incident.agency.hashtags.split()),
    )


def ready_posts(incident: Incident, update: IncidentUpdate) -> list[Post]:
    """One post per network, each within that network's length rules."""
    content = content_for(incident, update)
    return [compose(network, content) for network in NETWORKS.values()]


# --- accounts ---------------------------------------------------------------------------------


@dataclass
class AccountDetails:
    network: str
    name: str
    base_url: str = ""
    handle: str = ""
    secret: str = ""  # the access token (Mastodon) or app password (Bluesky); never shown again


def add_account(agency: Agency, details: AccountDetails, *, by: User | None) -> SocialAccount:
    network = NETWORKS.get(details.network)
    if network is None:
        raise SocialError("Choose a network from the list.", "network")
    name = " ".join((details.name or "").split())
    if not name:
        raise SocialError("Enter the account's name as people know it, for example "
                          "@revenue@social.example.gov.", "name")  # fmt: skip
    if len(name) > 200:
        raise SocialError("Enter a name of at most 200 characters.", "name")
    base_url, handle, secret = "", "", ""
    if details.network == "mastodon":
        base_url = _server(details.base_url, "Enter the Mastodon server's address, for example "
                           "https://social.example.gov.")  # fmt: skip
        secret = _secret(details.secret, "Enter the account's access token (Preferences, "
                         "Development, your application: “Your access token”).")  # fmt: skip
    elif details.network == "bluesky":
        handle = (details.handle or "").strip().lstrip("@")
        if not handle or any(c.isspace() for c in handle) or len(handle) > 200:
            raise SocialError("Enter the Bluesky handle, for example revenue.bsky.social.",
                              "handle")  # fmt: skip
        base_url = _server(details.base_url or DEFAULT_BLUESKY_PDS, "")
        secret = _secret(details.secret, "Enter an app password for the account (Settings, "
                         "Privacy and security, App passwords).")  # fmt: skip
    account = SocialAccount(
        agency_id=agency.id, network=details.network, name=name, base_url=base_url,
        handle=handle, secret=secrets.encrypt(secret) if secret else "", enabled=True,
        created_at=clock.now(),
    )  # fmt: skip
    db.session.add(account)
    db.session.flush()
    audit.record(
        "social_account_added", actor=by, agency_id=agency.id, account=account.id,
        network=network.label, name=name,
        **({"server": base_url} if base_url else {}), **({"handle": handle} if handle else {}),
        **({"secret": "saved, encrypted (not recorded)"} if secret else {}),
    )  # fmt: skip
    db.session.commit()
    return account


def _server(url: str, missing: str) -> str:
    from ..subscriptions.operations import SubscriptionError, check_webhook_url

    url = (url or "").strip().rstrip("/")
    if not url:
        raise SocialError(missing, "base_url")
    if len(url) > 500:
        raise SocialError("Enter an address of at most 500 characters.", "base_url")
    try:
        return check_webhook_url(url)  # http(s), and only to public addresses
    except SubscriptionError as error:
        raise SocialError(error.message, "base_url") from None


def _secret(value: str, missing: str) -> str:
    value = (value or "").strip()
    if not value:
        raise SocialError(missing, "secret")
    if len(value) > 2000:
        raise SocialError("That is too long for a token or password.", "secret")
    return value


def set_account_enabled(account: SocialAccount, enabled: bool, *, by: User | None) -> bool:
    """Turn posting to an account on or off; False (nothing recorded) when it already was."""
    if account.enabled == enabled:
        return False
    audit.record("social_account_changed", actor=by, agency_id=account.agency_id,
                 account=account.id, name=account.name,
                 changes={"state": [_on_off(account.enabled), _on_off(enabled)]})  # fmt: skip
    account.enabled = enabled
    db.session.commit()
    return True


def remove_account(account: SocialAccount, *, by: User | None) -> None:
    """Forget the account and its secret; posts already made stay on their incidents."""
    audit.record("social_account_removed", actor=by, agency_id=account.agency_id,
                 account=account.id, network=account.network_label,
                 name=account.name)  # fmt: skip
    db.session.delete(account)
    db.session.commit()


def _on_off(enabled: bool) -> str:
    return "on" if enabled else "off"


def accounts_of(agency_id: int) -> list[SocialAccount]:
    return list(db.session.scalars(
        select(SocialAccount).where(SocialAccount.agency_id == agency_id)
        .order_by(SocialAccount.network, SocialAccount.name, SocialAccount.id)
    ))  # fmt: skip


# --- direct posts through the outbox -----------------------------------------------------------


def enqueue_update(incident: Incident, update: IncidentUpdate) -> None:
    """Called inside publish_update's transaction (and the closing note's): the priorities the
    policy names are posted to every enabled API account of the incident's agency."""
    if not (is_public(incident) and update.is_public):
        return
    if not current_policy()[incident.priority].social_media:
        return
    for account in accounts_of(incident.agency_id):
        if account.enabled and account.by_api:
            _enqueue(incident, update, account)


def _enqueue(incident: Incident, update: IncidentUpdate, account: SocialAccount) -> None:
    now = clock.now()
    insert = postgresql.insert if db.session.get_bind().dialect.name == "postgresql" else sqlite.insert
    db.session.execute(
        insert(Notification)
        .values(
            channel=CHANNEL, recipient_key=f"social:{account.id}", address=account.name[:254],
            incident_id=incident.id,
            event=EVENT, event_key=str(update.id), status="pending", attempts=0,
            next_attempt_at=now, last_error="", created_at=now,
        )
        .on_conflict_do_nothing()
    )  # fmt: skip


def _notification(update: IncidentUpdate, account: SocialAccount) -> Notification | None:
    return db.session.scalars(
        select(Notification).where(
            Notification.recipient_key == f"social:{account.id}",
            Notification.event == EVENT,
            Notification.event_key == str(update.id),
        )
    ).first()


def _posted(update: IncidentUpdate, account: SocialAccount) -> SocialPost | None:
    return db.session.scalars(
        select(SocialPost).where(
            SocialPost.update_id == update.id, SocialPost.account_id == account.id
        )
    ).first()


def post_now(incident: Incident, account: SocialAccount, *, by: User | None) -> str:
    """A lead posts the latest public update to one account (or tries a failed post again),
    through the outbox; audited with who asked. Returns "queued" or "retried"."""
    update = incident.latest_public_update
    if account.agency_id != incident.agency_id:
        raise SocialError("That account is not one of this incident's agency.")
    if not is_public(incident) or update is None:
        raise SocialError("Only a public incident's updates are posted: this one is not public.")
    if not account.by_api:
        raise SocialError(f"{account.network_label} accounts are copy-only: copy the ready post.")
    if not account.enabled:
        raise SocialError(f"{account.name} is turned off: turn it on first on the agency's "
                          "social media page.")  # fmt: skip
    if _posted(update, account):
        raise SocialError(f"This update is already posted to {account.name}.")
    row = _notification(update, account)
    if row is not None and row.status in ("pending", "sending"):
        raise SocialError(f"This update is already waiting to be posted to {account.name}.")
    outcome = "queued"
    if row is None:
        _enqueue(incident, update, account)
    else:  # failed (or skipped): try again from the start
        row.status, row.attempts, row.last_error = "pending", 0, ""
        row.next_attempt_at = clock.now()
        outcome = "retried"
    audit.record(
        "social_post_requested", actor=by, agency_id=incident.agency_id, incident=incident,
        network=account.network_label, account=account.name, update=update.id,
        **({"retry": "after a failure"} if outcome == "retried" else {}),
    )  # fmt: skip
    db.session.commit()
    return outcome


def record_post(account: SocialAccount, update: IncidentUpdate, text: str, remote_id: str,
                url: str) -> SocialPost:  # fmt: skip
    """The post made (the dispatcher calls this once the network answered); committed."""
    incident = update.incident
    post = SocialPost(
        incident_id=incident.id, update_id=update.id, account_id=account.id,
        network=account.network, account_name=account.name, text=text, remote_id=remote_id,
        url=url, posted_at=clock.now(),
    )  # fmt: skip
    db.session.add(post)
    audit.record("social_posted", actor=None, agency_id=incident.agency_id, incident=incident,
                 network=account.network_label, account=account.name, url=url)  # fmt: skip
    db.session.commit()
    return post


# --- what the admin incident page shows ----------------------------------------------------------


@dataclass
class DirectPost:
    """One API account and what became of the latest public update there."""

    account: SocialAccount
    state: str  # "posted", "pending", "failed", "not_posted", "off"
    url: str = ""
    error: str = ""
    attempts: int = 0


@dataclass
class Panel:
    update: IncidentUpdate | None
    posts: list[Post]
    direct: list[DirectPost]
    history: list[SocialPost]
    automatic: bool  # the policy posts this priority by itself


def panel(incident: Incident) -> Panel:
    update = incident.latest_public_update if is_public(incident) else None
    history = list(db.session.scalars(
        select(SocialPost).where(SocialPost.incident_id == incident.id)
        .order_by(SocialPost.posted_at.desc(), SocialPost.id.desc())
    ))  # fmt: skip
    automatic = current_policy()[incident.priority].social_media
    if update is None:
        return Panel(None, [], [], history, automatic)
    direct = []
    for account in accounts_of(incident.agency_id):
        if not account.by_api:
            continue
        posted = _posted(update, account)
        row = None if posted else _notification(update, account)
        if posted:
            direct.append(DirectPost(account, "posted", url=posted.url))
        elif row is not None and row.status in ("pending", "sending"):
            direct.append(DirectPost(account, "pending", error=row.last_error,
                                     attempts=row.attempts))  # fmt: skip
        elif row is not None:
            direct.append(DirectPost(account, "failed", error=row.last_error or row.status,
                                     attempts=row.attempts))  # fmt: skip
        else:
            direct.append(DirectPost(account, "not_posted" if account.enabled else "off"))
    return Panel(update, ready_posts(incident, update), direct, history, automatic)
