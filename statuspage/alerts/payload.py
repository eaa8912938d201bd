"""Alertmanager's webhook body (payload version 4), read strictly: a field of the wrong type is
refused with where it is, before anything is looked up or changed. Fields we do not use are
ignored, as Alertmanager adds some over time (``notification_reason``...).

    {"version": "4", "groupKey": "...", "truncatedAlerts": 0, "status": "firing|resolved",
     "receiver": "...", "groupLabels": {...}, "commonLabels": {...}, "commonAnnotations": {...},
     "externalURL": "...", "alerts": [{"status": "firing|resolved", "labels": {...},
     "annotations": {...}, "startsAt": "<rfc3339>", "endsAt": "<rfc3339>",
     "generatorURL": "...", "fingerprint": "..."}, ...]}
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

MAX_ALERTS = 1000
MAX_GROUP_KEY = 10_000
MAX_LABEL = 2_000  # characters in one label or annotation value
STATUSES = ("firing", "resolved")


class PayloadError(ValueError):
    """The body is not an Alertmanager notification we can read (HTTP 400)."""


@dataclass(frozen=True)
class Alert:
    status: str
    labels: dict[str, str]
    annotations: dict[str, str]
    starts_at: datetime | None
    ends_at: datetime | None
    fingerprint: str
    generator_url: str

    @property
    def is_firing(self) -> bool:
        return self.status == "firing"


@dataclass(frozen=True)
class Notification:
    group_key: str
    status: str
    receiver: str
    group_labels: dict[str, str]
    common_labels: dict[str, str]
    common_annotations: dict[str, str]
    external_url: str
    truncated_alerts: int
    alerts: list[Alert] = field(default_factory=list)

    @property
    def is_firing(self) -> bool:
        return any(alert.is_firing for alert in self.alerts)


def _string(value, where: str, *, required: bool = False, limit: int = MAX_LABEL) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        raise PayloadError(f"{where} must be a string.")
    if required and not value.strip():
        raise PayloadError(f"{where} must not be empty.")
    if len(value) > limit:
        raise PayloadError(f"{where} is longer than {limit} characters.")
    return value


def _labels(value, where: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise PayloadError(f"{where} must be an object of names and string values.")
    return {_string(name, f"a name in {where}", limit=200): _string(text, f"{where}.{name}")
            for name, text in value.items()}  # fmt: skip


def _time(value, where: str) -> datetime | None:
    """RFC 3339; Go's zero time (an alert that has not ended) is None."""
    text = _string(value, where, limit=64)
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise PayloadError(f"{where} must be an RFC 3339 time.") from None
    if moment.tzinfo is None:
        raise PayloadError(f"{where} must be an RFC 3339 time with its offset.")
    return None if moment.year <= 1 else moment.astimezone(UTC)


def _status(value, where: str) -> str:
    if value not in STATUSES:
        raise PayloadError(f'{where} must be "firing" or "resolved".')
    return value


def _alert(value, where: str) -> Alert:
    if not isinstance(value, dict):
        raise PayloadError(f"{where} must be an object.")
    return Alert(
        status=_status(value.get("status"), f"{where}.status"),
        labels=_labels(value.get("labels"), f"{where}.labels"),
        annotations=_labels(value.get("annotations"), f"{where}.annotations"),
        starts_at=_time(value.get("startsAt"), f"{where}.startsAt"),
        ends_at=_time(value.get("endsAt"), f"{where}.endsAt"),
        fingerprint=_string(value.get("fingerprint"), f"{where}.fingerprint", limit=100),
        generator_url=_string(value.get("generatorURL"), f"{where}.generatorURL"),
    )


def read(body) -> Notification:
    """The notification in ``body`` (parsed JSON), or PayloadError saying what is wrong."""
    if not isinstance(body, dict):
        raise PayloadError("Send Alertmanager's webhook notification: a JSON object.")
    version = body.get("version")
    if version != "4":
        raise PayloadError(
            'Only Alertmanager\'s webhook payload version "4" is understood; '
            f"this one says {version!r}."
        )
    alerts = body.get("alerts")
    if not isinstance(alerts, list) or not alerts:
        raise PayloadError("alerts must be a list of at least one alert.")
    if len(alerts) > MAX_ALERTS:
        raise PayloadError(
            f"A group of at most {MAX_ALERTS} alerts is read; set max_alerts in the webhook "
            "configuration."
        )
    truncated = body.get("truncatedAlerts", 0)
    if not isinstance(truncated, int) or isinstance(truncated, bool) or truncated < 0:
        raise PayloadError("truncatedAlerts must be a whole number.")
    return Notification(
        group_key=_string(body.get("groupKey"), "groupKey", required=True, limit=MAX_GROUP_KEY),
        status=_status(body.get("status"), "status"),
        receiver=_string(body.get("receiver"), "receiver"),
        group_labels=_labels(body.get("groupLabels"), "groupLabels"),
        common_labels=_labels(body.get("commonLabels"), "commonLabels"),
        common_annotations=_labels(body.get("commonAnnotations"), "commonAnnotations"),
        external_url=_string(body.get("externalURL"), "externalURL"),
        truncated_alerts=truncated,
        alerts=[_alert(alert, f"alerts[{n}]") for n, alert in enumerate(alerts)],
    )
