"""Pages: each agency is a Statuspage page, its slug the page id. A key sees its own agency's
page only."""

from __future__ import annotations

from flask import current_app, g, jsonify, url_for
from sqlalchemy import func, select

from ..api_keys.auth import key_required
from ..audit import AuditEntry
from ..catalog.models import Agency
from ..extensions import db
from . import api_v1


def _time(value) -> str | None:
    return value.isoformat(timespec="milliseconds").replace("+00:00", "Z") if value else None


def page_json(agency: Agency) -> dict:
    """Statuspage's page object for an agency (fields we have no counterpart for are empty)."""
    site = current_app.config["SITE_URL"].rstrip("/")
    path = url_for("public.agency", slug=agency.slug)
    created, updated = db.session.execute(
        select(func.min(AuditEntry.at), func.max(AuditEntry.at)).where(
            AuditEntry.agency_id == agency.id
        )
    ).one()
    return {
        "id": agency.slug,
        "created_at": _time(created),
        "updated_at": _time(updated or created),
        "name": agency.name,
        "page_description": agency.description,
        "headline": "",
        "branding": "basic",
        "subdomain": agency.slug,
        "domain": None,
        "url": site + path,
        "support_url": None,
        "hidden_from_search": False,
        "allow_page_subscribers": True,
        "allow_incident_subscribers": False,
        "allow_email_subscribers": True,
        "allow_sms_subscribers": False,
        "allow_rss_atom_feeds": True,
        "allow_webhook_subscribers": True,
        "notifications_from_email": current_app.config["MAIL_FROM"],
        "notifications_email_footer": None,
        "activity_score": 0,
        "twitter_username": None,
        "viewers_must_be_team_members": False,
        "ip_restrictions": None,
        "city": None,
        "state": None,
        "country": None,
        "time_zone": current_app.config["SITE_TIMEZONE"],
    }


@api_v1.get("/pages")
@key_required("read")
def pages():
    return jsonify([page_json(g.agency)])


@api_v1.get("/pages/<page_id>")
@key_required("read")
def page(page_id):
    return jsonify(page_json(g.agency))
