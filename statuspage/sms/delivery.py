"""Sending one outbox row of the "sms" channel (outbox.CHANNEL_SENDERS): a code or an update.

A number that texted STOP, a code asked for again since, an update no longer public: skipped,
never sent. A number the provider will never reach: failed at once. Anything else (the provider
down, a 500): retried with the outbox's backoff."""

from __future__ import annotations

from datetime import datetime

from flask import current_app, url_for

from ..extensions import db
from ..incidents.models import Impact, IncidentUpdate, State
from ..incidents.visibility import is_public
from ..internal.messages import Skip
from ..subscriptions.messages import EventGone
from ..subscriptions.operations import SubscriptionError
from . import compose
from .models import SmsSubscriber
from .operations import (
    CODE_EVENT,
    UPDATE_EVENT,
    code_for_message,
    stop,
    subscriber_id_of,
    texted_services,
)
from .provider import Refused, current_provider

STOPPED = "The number texted STOP."


def send(row, now: datetime) -> None:
    subscriber = db.session.get(SmsSubscriber, subscriber_id_of(row.recipient_key))
    if subscriber is None:
        raise EventGone("the number was removed")
    if subscriber.stopped_at is not None:
        raise Skip(STOPPED)
    if row.event == CODE_EVENT:
        code = code_for_message(row.event_key)
        if code is None:
            raise Skip("A newer code was asked for, or this one expired.")
        body = compose.code_text(current_app.config["SITE_NAME"], code)
    elif row.event == UPDATE_EVENT:
        body = update_text(int(row.event_key))
    else:
        raise EventGone(f"unknown text message event {row.event}")
    number = subscriber.number
    try:
        current_provider().send(number, body)
    except Refused as refused:
        if refused.opted_out:  # STOP told to the carrier or provider rather than to us
            stop(number)
            raise Skip(f"{STOPPED} ({refused})") from None
        raise SubscriptionError(str(refused)) from None


def update_text(update_id: int) -> str:
    """The text for one public update: the services the policy texts about, their state in words,
    the incident's title and the update's essence, and the incident's public link."""
    update = db.session.get(IncidentUpdate, update_id)
    if update is None:
        raise EventGone(f"update {update_id} no longer exists")
    incident = update.incident
    if not is_public(incident):
        raise Skip("The incident is no longer public.")
    services = texted_services(incident)
    if update.status == State.RESOLVED:
        status = "resolved"
    else:
        texted = {service.id for service in services}
        impacts = [a.impact_enum for a in incident.affected if a.service_id in texted]
        worst = max(impacts, key=lambda impact: impact.severity, default=Impact.PARTIAL_OUTAGE)
        status = f"{worst.label.lower()}, {State(update.status).label.lower()}"
    return compose.update_text(
        agency=incident.agency.name,
        services=[service.name for service in services],
        status=status,
        title=incident.title,
        body=update.body,
        link=url_for("public.incident", ref=incident.ref, _external=True),
    )
