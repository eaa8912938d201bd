"""Subscribing, confirming, changing and leaving; and writing the outbox rows for an event in the
transaction that publishes it."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from sqlalchemy import String, cast, delete, literal, or_, select
from sqlalchemy.dialects import postgresql, sqlite

from .. import audit, clock
from ..catalog.models import Agency, Service
from ..extensions import db
from ..incidents.models import Incident, IncidentUpdate
from ..incidents.visibility import is_public
from ..policy import EmailSubscribers, current_policy
from ..sms import operations as sms
from ..social import operations as social
from . import webhooks
from .models import Notification, Subscriber, SubscriberScope, SubscriptionAddition, Webhook
from .tokens import CONFIRM_MAX_AGE, read_addition_token, read_confirm_token, read_manage_token


class SubscriptionError(ValueError):
    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass
class Choice:
    """What a subscriber follows: everything, or some agencies and services."""

    everything: bool = False
    agency_ids: set[int] = field(default_factory=set)
    service_ids: set[int] = field(default_factory=set)

    def check(self) -> None:
        if self.is_empty:
            raise SubscriptionError(
                "Choose everything, or at least one agency or service.", "services"
            )

    @property
    def is_empty(self) -> bool:
        return not (self.everything or self.agency_ids or self.service_ids)


def still_to_add(have: Choice, wanted: Choice, agency_of: dict[int, int]) -> Choice:
    """What of ``wanted`` is not covered yet by ``have``: nothing once everything is followed, and
    no service whose whole agency is (``agency_of``: service id -> its agency's id)."""
    if have.everything:
        return Choice()
    if wanted.everything:
        return Choice(everything=True)
    return Choice(
        agency_ids=wanted.agency_ids - have.agency_ids,
        service_ids={
            service_id
            for service_id in wanted.service_ids - have.service_ids
            if agency_of.get(service_id) not in have.agency_ids
        },
    )


def normalise_address(email: str) -> str:
    """A deliverable-looking address in canonical form, or a clear message."""
    if any(c in (email or "") for c in "\r\n"):
        raise SubscriptionError("Enter an email address without line breaks.", "email")
    try:
        return validate_email((email or "").strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        raise SubscriptionError(
            "Enter an email address in the right format, like name@example.com.", "email"
        ) from None


def request_subscription(email: str, choice: Choice) -> None:
    """Start a subscription, or add to one. The outcome never tells whether the address was known
    (the answer on screen is the same; only the email differs): a new or unconfirmed address gets
    a confirmation link for everything asked so far; a confirmed one an email asking it to
    confirm adding what it does not get yet (or, when it has it all, a link to manage it). A
    sign-up only ever adds: removing is done on the manage page."""
    address = normalise_address(email)
    choice.check()
    now = clock.now()
    subscriber = db.session.scalars(select(Subscriber).where(Subscriber.email == address)).first()
    if subscriber is None:
        subscriber = Subscriber(email=address, everything=False, created_at=now)
        db.session.add(subscriber)
    if subscriber.confirmed_at is None:
        _add_choice(subscriber, choice)
        db.session.flush()
        enqueue_personal(subscriber, "confirmation")
    else:
        have = Choice(subscriber.everything, subscriber.agency_ids, subscriber.service_ids)
        wanted = still_to_add(have, choice, _agencies_of(choice.service_ids))
        if wanted.is_empty:
            enqueue_personal(subscriber, "manage_link")
        else:
            # Links older than a confirmation link lives have nothing left to confirm.
            db.session.execute(
                delete(SubscriptionAddition).where(
                    SubscriptionAddition.subscriber_id == subscriber.id,
                    SubscriptionAddition.created_at < now - CONFIRM_MAX_AGE,
                )
            )
            addition = SubscriptionAddition(
                subscriber_id=subscriber.id,
                everything=wanted.everything,
                agency_ids=sorted(wanted.agency_ids),
                service_ids=sorted(wanted.service_ids),
                created_at=now,
            )
            db.session.add(addition)
            db.session.flush()
            enqueue_personal(subscriber, "add_choices", event_key=str(addition.id))
    db.session.commit()


def addition_from_token(token: str) -> tuple[Subscriber, SubscriptionAddition]:
    """The subscriber and the choices a "confirm adding" link is about, or a clear message."""
    subscriber_id, email, addition_id = read_addition_token(token)
    subscriber = db.session.get(Subscriber, subscriber_id)
    if subscriber is None or subscriber.email != email:
        raise SubscriptionError("This address is not subscribed any more. Subscribe again.")
    addition = db.session.get(SubscriptionAddition, addition_id)
    if addition is None or addition.subscriber_id != subscriber.id:
        raise SubscriptionError("This link has expired. Sign up again to get a new one.")
    return subscriber, addition


def confirm_addition(subscriber: Subscriber, addition: SubscriptionAddition) -> None:
    """Add the choices a confirmed subscriber asked for by signing up again (the link in the
    "confirm adding" email). Nothing they had is dropped; following the link twice adds once."""
    if addition.applied_at is None:
        # Agencies and services removed since the email was sent are left out.
        agency_ids = set(
            db.session.scalars(select(Agency.id).where(Agency.id.in_(addition.agency_ids)))
        )
        service_ids = set(
            db.session.scalars(select(Service.id).where(Service.id.in_(addition.service_ids)))
        )
        _add_choice(subscriber, Choice(addition.everything, agency_ids, service_ids))
        addition.applied_at = clock.now()
        db.session.commit()


def _agencies_of(service_ids: set[int]) -> dict[int, int]:
    if not service_ids:
        return {}
    rows = db.session.execute(
        select(Service.id, Service.agency_id).where(Service.id.in_(service_ids))
    )
    return {service_id: agency_id for service_id, agency_id in rows}


def subscriber_from_confirm_token(token: str) -> Subscriber:
    subscriber_id, email = read_confirm_token(token)
    subscriber = db.session.get(Subscriber, subscriber_id)
    if subscriber is None or subscriber.email != email:
        raise SubscriptionError("This confirmation link is no longer valid. Subscribe again.")
    return subscriber


def confirm_subscription(token: str) -> Subscriber:
    subscriber = subscriber_from_confirm_token(token)
    if subscriber.confirmed_at is None:
        subscriber.confirmed_at = clock.now()
        db.session.commit()
    return subscriber


def subscriber_from_manage_token(token: str) -> Subscriber:
    subscriber_id, email = read_manage_token(token)
    subscriber = db.session.get(Subscriber, subscriber_id)
    if subscriber is None or subscriber.email != email:
        raise SubscriptionError("This address is not subscribed any more.")
    return subscriber


def change_subscription(subscriber: Subscriber, choice: Choice) -> None:
    choice.check()
    _set_choice(subscriber, choice)
    db.session.commit()


def unsubscribe(subscriber: Subscriber) -> None:
    """Forget the address entirely, with anything still waiting to be sent to it."""
    db.session.execute(delete(Notification).where(Notification.subscriber_id == subscriber.id))
    db.session.delete(subscriber)
    db.session.commit()


def _add_choice(subscriber: Subscriber, choice: Choice) -> None:
    """Follow ``choice`` as well as what the subscriber follows already. The agencies and services
    stay beside "everything", so unticking it later on the manage page leaves them."""
    subscriber.everything = subscriber.everything or choice.everything
    agency_ids, service_ids = subscriber.agency_ids, subscriber.service_ids
    subscriber.scopes += [
        SubscriberScope(agency_id=agency_id) for agency_id in sorted(choice.agency_ids - agency_ids)
    ] + [
        SubscriberScope(service_id=service_id)
        for service_id in sorted(choice.service_ids - service_ids)
    ]


def _set_choice(subscriber: Subscriber, choice: Choice) -> None:
    subscriber.everything = choice.everything
    subscriber.scopes = (
        []
        if choice.everything
        else [SubscriberScope(agency_id=agency_id) for agency_id in sorted(choice.agency_ids)]
        + [SubscriberScope(service_id=service_id) for service_id in sorted(choice.service_ids)]
    )


# --- the outbox --------------------------------------------------------------------------------


def _insert():
    return (
        postgresql.insert if db.session.get_bind().dialect.name == "postgresql" else sqlite.insert
    )


def enqueue_personal(subscriber: Subscriber, event: str, event_key: str | None = None) -> None:
    """A confirmation, "confirm adding" or manage-link email for one address (sent again on each
    request; ``event_key`` names what it is about, when it is about more than the address)."""
    now = clock.now()
    db.session.execute(
        _insert()(Notification)
        .values(
            channel="email",
            recipient_key=f"subscriber:{subscriber.id}",
            subscriber_id=subscriber.id,
            event=event,
            event_key=event_key or f"{subscriber.id}:{now.isoformat()}:{secrets.token_hex(4)}",
            status="pending",
            attempts=0,
            next_attempt_at=now,
            last_error="",
            created_at=now,
        )
        .on_conflict_do_nothing()
    )


def _fan_out(
    event: str, event_key: str, agency_ids: list[int], service_ids: list[int], email: bool
):
    """Outbox rows for every confirmed subscriber of these services (and every webhook in scope),
    written by the database in one statement each: seconds for 1,000,000 subscribers."""
    now = clock.now()
    insert = _insert()
    constants = {
        "event": literal(event),
        "event_key": literal(event_key),
        "status": literal("pending"),
        "attempts": literal(0),
        "next_attempt_at": literal(now, Notification.next_attempt_at.type),
        "last_error": literal(""),
        "created_at": literal(now, Notification.created_at.type),
    }
    if email:
        # EXISTS, not id IN (SELECT ...): PostgreSQL hashes an IN list only while it fits in
        # work_mem; past that (1,000,000 subscribers) it scanned the list once per subscriber.
        follows = (
            select(SubscriberScope.id)
            .where(
                SubscriberScope.subscriber_id == Subscriber.id,
                or_(
                    SubscriberScope.agency_id.in_(agency_ids),
                    SubscriberScope.service_id.in_(service_ids),
                ),
            )
            .exists()
        )
        subscribers = select(
            literal("email").label("channel"),
            (literal("subscriber:") + cast(Subscriber.id, String)).label("recipient_key"),
            Subscriber.id.label("subscriber_id"),
            *(value.label(name) for name, value in constants.items()),
        ).where(
            Subscriber.confirmed_at.is_not(None),
            or_(Subscriber.everything.is_(True), follows),
        )
        columns = ["channel", "recipient_key", "subscriber_id", *constants]
        db.session.execute(
            insert(Notification).from_select(columns, subscribers).on_conflict_do_nothing()
        )
    webhooks = select(
        literal("webhook").label("channel"),
        (literal("webhook:") + cast(Webhook.id, String)).label("recipient_key"),
        Webhook.id.label("webhook_id"),
        *(value.label(name) for name, value in constants.items()),
    ).where(
        Webhook.active.is_(True),
        or_(Webhook.agency_id.is_(None), Webhook.agency_id.in_(agency_ids)),
    )
    columns = ["channel", "recipient_key", "webhook_id", *constants]
    db.session.execute(insert(Notification).from_select(columns, webhooks).on_conflict_do_nothing())


def enqueue_update(incident: Incident, update: IncidentUpdate) -> None:
    """Called inside publish_update's transaction: the notifications commit with the update."""
    if not is_public(incident):
        return
    rule = current_policy()[incident.priority].email_subscribers
    _fan_out(
        "incident_update",
        str(update.id),
        incident.agency_ids,
        [a.service_id for a in incident.affected],
        email=rule is not EmailSubscribers.NO,
    )
    sms.enqueue_update(incident, update)
    social.enqueue_update(incident, update)


def enqueue_report(incident: Incident, revision) -> None:
    """A published post-incident report (or its correction) to the incident's subscribers."""
    rule = current_policy()[incident.priority].email_subscribers
    _fan_out(
        "report",
        str(revision.id),
        incident.agency_ids,
        [a.service_id for a in incident.affected],
        email=rule is not EmailSubscribers.NO,
    )


def enqueue_maintenance(window) -> None:
    """A maintenance notice (new, changed or cancelled) to the subscribers of its services."""
    _fan_out(
        "maintenance",
        f"{window.id}:{window.sequence}",
        [window.agency_id],
        [service.id for service in window.services],
        email=True,
    )


# --- webhooks ----------------------------------------------------------------------------------


def check_webhook_url(url: str) -> str:
    """http(s) only, and only to public internet addresses (unless allowed, in tests), so a
    webhook cannot be pointed at our own network. The name is resolved here and again at each
    send (webhooks.post), which connects to the very address it checked."""
    url = (url or "").strip()
    try:
        _scheme, host, _port, _path = webhooks.parse(url)
    except ValueError as error:
        raise SubscriptionError(str(error), "url") from None
    if current_app.config.get("WEBHOOKS_ALLOW_PRIVATE"):
        return url
    try:
        webhooks.resolve(url)
    except webhooks.AddressRefused as refused:
        raise SubscriptionError(str(refused), "url") from None
    except (OSError, UnicodeError):  # socket.gaierror, or a name that is not valid IDNA
        raise SubscriptionError(f"The host {host} cannot be found.", "url") from None
    return url


def add_webhook(name: str, url: str, agency_id: int | None, *, by=None) -> Webhook:
    """A partner's endpoint, audited (never with its secret)."""
    if not (name or "").strip():
        raise SubscriptionError("Enter a name.", "name")
    webhook = Webhook(
        name=name.strip(),
        url=check_webhook_url(url),
        secret=secrets.token_hex(32),
        agency_id=agency_id,
        active=True,
        created_at=clock.now(),
    )
    db.session.add(webhook)
    db.session.flush()
    audit.record("webhook_added", actor=by, agency_id=agency_id, webhook=webhook.id,
                 name=webhook.name, url=webhook.url)  # fmt: skip
    db.session.commit()
    return webhook


def set_webhook_active(webhook: Webhook, active: bool, *, by=None) -> None:
    """Turn a webhook on or off, audited; nothing is recorded when it already is."""
    if webhook.active == active:
        return
    audit.record("webhook_changed", actor=by, agency_id=webhook.agency_id, webhook=webhook.id,
                 name=webhook.name,
                 changes={"state": [_on_off(webhook.active), _on_off(active)]})  # fmt: skip
    webhook.active = active
    db.session.commit()


def _on_off(active: bool) -> str:
    return "on" if active else "off"


def subscriber_counts() -> dict[int, int]:
    """Confirmed subscribers who hear about each service (directly, by agency, or everything)."""
    from sqlalchemy import func

    everything = db.session.scalar(
        select(func.count()).where(
            Subscriber.confirmed_at.is_not(None), Subscriber.everything.is_(True)
        )
    )
    counts: dict[int, int] = {}
    for service_id, agency_id in db.session.execute(select(Service.id, Service.agency_id)):
        follows = select(SubscriberScope.subscriber_id).where(
            or_(SubscriberScope.service_id == service_id, SubscriberScope.agency_id == agency_id)
        )
        counts[service_id] = everything + db.session.scalar(
            select(func.count(func.distinct(Subscriber.id))).where(
                Subscriber.confirmed_at.is_not(None),
                Subscriber.everything.is_(False),
                Subscriber.id.in_(follows),
            )
        )
    return counts
