"""Test data: keyword functions that build through the real operations."""

from __future__ import annotations

import itertools
import os
import re
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

from statuspage import clock
from statuspage.catalog.models import Agency, Service
from statuspage.extensions import db
from statuspage.incidents.models import (
    AffectedService,
    Impact,
    Incident,
    PriorityChange,
    Source,
    State,
)
from statuspage.incidents.operations import NewIncident, create_incident, publish_update
from statuspage.users.models import Role, User
from statuspage.users.operations import create_user

PASSWORD = "correct horse battery staple"
_counter = itertools.count(1)


def make_agency(name: str | None = None, slug: str | None = None) -> Agency:
    n = next(_counter)
    agency = Agency(
        name=name or f"Agency {n}", slug=slug or f"agency-{n}", description="", display_order=n
    )
    db.session.add(agency)
    db.session.commit()
    return agency


def make_service(
    agency: Agency, name: str | None = None, slug: str | None = None, tier: int = 1
) -> Service:
    n = next(_counter)
    service = Service(
        agency_id=agency.id,
        name=name or f"Service {n}",
        slug=slug or f"service-{n}",
        description="",
        tier=tier,
        display_order=n,
    )
    db.session.add(service)
    db.session.commit()
    return service


def make_user(
    agency: Agency | None = None,
    role: Role = Role.COMMUNICATIONS_LEAD,
    *,
    email: str | None = None,
    site_admin: bool = False,
) -> User:
    n = next(_counter)
    return create_user(
        email or f"user{n}@example.gov",
        f"User {n}",
        PASSWORD,
        site_admin=site_admin,
        roles={agency: role} if agency is not None else {},
    )


def make_incident(
    services: dict[Service, Impact] | list[Service],
    *,
    priority: int = 2,
    title: str = "Online filing unavailable",
    detected_at: datetime | None = None,
    made_public: bool = False,
    is_security: bool = False,
    by: User | None = None,
    updates: list[State] | tuple[State, ...] = (State.INVESTIGATING,),
) -> Incident:
    """An incident with the given updates posted a minute apart after detection."""
    if isinstance(services, list):
        services = {service: Impact.MAJOR_OUTAGE for service in services}
    detected_at = detected_at or clock.now() - timedelta(hours=1)
    agency = db.session.get(Agency, next(iter(services)).agency_id)
    with clock.pinned(detected_at):
        incident = create_incident(
            NewIncident(
                agency=agency,
                title=title,
                priority=priority,
                source=Source.MONITORING,
                detected_at=detected_at,
                affected=dict(services),
                made_public=made_public,
                is_security=is_security,
                impact_description="People cannot sign in.",
            ),
            by=by,
        )
    for minutes, status in enumerate(updates, start=1):
        with clock.pinned(detected_at + timedelta(minutes=minutes)):
            publish_update(incident, status=status, body=f"Update: {status.value}.", by=by)
    return incident


def csrf_token(client, path: str) -> str | None:
    """The CSRF token of the form at ``path``, when CSRF protection is on."""
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', client.get(path).text)
    return match.group(1) if match else None


def login(client, user: User, password: str = PASSWORD):
    data = {"email": user.email, "password": password}
    if token := csrf_token(client, "/admin/login"):
        data["csrf_token"] = token
    return client.post("/admin/login", data=data, follow_redirects=False)


def run_cli_in_parallel(
    args: list[str],
    *,
    database_url: str,
    instance: Path,
    smtp_port: int,
    processes: int = 2,
    timeout: float = 300,
) -> list[str]:
    """Run `statuspage ARGS` in several processes at once against one database and a real SMTP
    server; fail unless every one exits 0; return what each printed."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "STATUSPAGE_INSTANCE_PATH": str(instance),
        "SECRET_KEY": "x" * 32,
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": str(smtp_port),
    }
    command = [sys.executable, "-m", "statuspage.cli", *args]
    started = [
        subprocess.Popen(
            command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(processes)
    ]
    outputs = [process.communicate(timeout=timeout) for process in started]
    assert [process.returncode for process in started] == [0] * processes, outputs
    return [out for out, _ in outputs]


def make_past_incident(
    services: dict[Service, Impact],
    *,
    priority: int,
    detected_at: datetime,
    started_at: datetime | None = None,
    acknowledged_at: datetime | None = None,
    first_public_at: datetime | None = None,
    resolved_at: datetime | None = None,
    lowered: tuple[datetime, int] | None = None,
    title: str = "Past incident",
    made_public: bool = False,
) -> Incident:
    """An incident written straight into the history with exact times, for the monthly figures
    (the operations would stamp the clock's times instead). ``lowered`` is an approved
    de-escalation: when, and to which priority."""
    agency_id = next(iter(services)).agency_id
    final = lowered[1] if lowered else priority
    incident = Incident(
        ref=f"INC-{detected_at:%Y-%m%d}-{next(_counter):03d}",
        agency_id=agency_id,
        title=title,
        priority=final,
        made_public=made_public,
        state=State.RESOLVED.value if resolved_at else State.INVESTIGATING.value,
        source=Source.MONITORING.value,
        started_at=started_at,
        detected_at=detected_at,
        acknowledged_at=acknowledged_at,
        first_public_at=first_public_at,
        resolved_at=resolved_at,
        created_at=detected_at,
    )
    incident.affected = [
        AffectedService(service_id=service.id, impact=impact.value)
        for service, impact in services.items()
    ]
    incident.priority_changes = [
        PriorityChange(from_priority=None, to_priority=priority, changed_at=detected_at)
    ]
    if lowered:
        incident.priority_changes.append(
            PriorityChange(from_priority=priority, to_priority=final, changed_at=lowered[0])
        )
    db.session.add(incident)
    db.session.commit()
    return incident
