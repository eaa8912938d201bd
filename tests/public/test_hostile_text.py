"""Text the database already holds cannot break a public page, feed, API answer or the export."""

from __future__ import annotations

import json
from xml.etree import ElementTree

import pytest
from sqlalchemy import select, update

from statuspage.catalog.models import Agency, Service
from statuspage.demo import load_demo_data
from statuspage.extensions import db
from statuspage.incidents.models import Incident, IncidentUpdate
from statuspage.maintenance.models import MaintenanceWindow
from statuspage.public.export import export_site, public_paths
from statuspage.reports.models import MonthlyReport, ReportRevision
from statuspage.characters import xml_safe

# Characters XML 1.0 cannot carry: C0 controls, a backspace, a noncharacter, and U+FFFF.
HOSTILE = "a\x01b\x08c\ufffed\uffffe\x1ff\x0bg"


def _spoil(value: str) -> str:
    return f"{HOSTILE} {value}"


# The report's free text (not its times, dates and codes).
REPORT_TEXT = {"summary", "people_affected", "duration", "transactions_lost", "root_cause",
               "resolution", "lessons", "apology", "text", "description", "owner",
               "contributing_factors", "went_well", "went_wrong", "who", "name", "role",
               "people", "process", "technology", "external"}  # fmt: skip


def _spoil_json(data):
    if isinstance(data, list):
        return [_spoil_json(item) for item in data]
    if isinstance(data, dict):
        return {key: _spoil_value(key, value) for key, value in data.items()}
    return data


def _spoil_value(key: str, value):
    if key == "five_whys":  # a list of answers
        return [_spoil(why) for why in value]
    return _spoil(value) if key in REPORT_TEXT else _spoil_json(value)


def _store_hostile_text() -> None:
    """Write the characters straight into the tables, as an old row or a direct import would."""
    session = db.session
    session.execute(update(Agency).values(name=Agency.name + HOSTILE))
    session.execute(update(Service).values(name=Service.name + HOSTILE))
    session.execute(update(Incident).values(title=Incident.title + HOSTILE))
    session.execute(
        update(IncidentUpdate).values(
            body=IncidentUpdate.body + HOSTILE,
            what_affected=HOSTILE,
            who_affected=HOSTILE,
            cause=HOSTILE,
            workaround=HOSTILE,
            help=HOSTILE,
        )
    )
    session.execute(
        update(MaintenanceWindow).values(
            title=MaintenanceWindow.title + HOSTILE,
            description=MaintenanceWindow.description + HOSTILE,
        )
    )
    # Published reports refuse ORM changes; Core statements reach the rows as an import would.
    revisions = session.execute(select(ReportRevision.id, ReportRevision.content)).all()
    for ident, content in revisions:
        session.execute(
            update(ReportRevision.__table__)
            .where(ReportRevision.__table__.c.id == ident)
            .values(content=json.dumps(_spoil_json(json.loads(content))))
        )
    session.execute(update(MonthlyReport.__table__).values(commentary=HOSTILE))
    session.commit()


@pytest.fixture
def hostile_site(app):
    load_demo_data()
    _store_hostile_text()
    assert revisions_exist() and db.session.scalar(select(MonthlyReport.id).limit(1))
    db.session.remove()
    return app


def revisions_exist() -> bool:
    return db.session.scalar(select(ReportRevision.id).limit(1)) is not None


def test_every_public_page_feed_and_api_answer_survives_stored_control_characters(
    hostile_site, client
):
    with hostile_site.test_request_context():
        paths = public_paths()
    paths += ["/history?month=2026-11", "/subscribe"]
    for path in paths:
        response = client.get(path)
        assert response.status_code == 200, path
        body = response.get_data()
        if path.endswith((".atom", ".rss")):
            root = ElementTree.fromstring(body)  # parses: every character is allowed in XML
            assert root is not None
        if path.endswith(".json"):
            json.loads(body)
        assert b"\x01" not in body and b"\x08" not in body, path
    assert any(p.endswith(".atom") for p in paths) and any(p.endswith(".ics") for p in paths)
    assert any(p.endswith(".csv") for p in paths)


def test_the_static_export_survives_stored_control_characters(hostile_site, tmp_path):
    result = export_site(hostile_site, tmp_path / "export")
    assert result.written > 50
    ElementTree.fromstring((tmp_path / "export" / "feed.atom").read_bytes())
    ElementTree.fromstring((tmp_path / "export" / "feed.rss").read_bytes())


def test_xml_safe_keeps_tab_newline_and_ordinary_text():
    assert xml_safe("Tab\tnew\nline é 😀") == "Tab\tnew\nline é 😀"
    assert xml_safe("carriage\r\nreturn") == "carriage\r\nreturn"
    assert xml_safe(HOSTILE) == "abcdefg"
    assert xml_safe("lone \ud800 surrogate") == "lone  surrogate"
