"""An agency (a Statuspage page) with services, a key with every scope, and a way to tell that
a refused request changed nothing."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import func, select

from statuspage.api_keys.operations import create_key
from statuspage.extensions import db
from statuspage.users.models import Role
from tests.factories import make_agency, make_service, make_user

ALL_SCOPES = {"read", "incidents", "maintenance", "components"}
# Tables a refused request may still touch: the key's last use, the idempotency claims, and the
# public version derived from commits (as in tests/admin/test_permissions_walk.py).
BOOKKEEPING = {"api_keys", "idempotent_requests", "site_state"}


@dataclass
class Page:
    agency: object
    filing: object  # tier 1
    payments: object  # tier 2
    archive: object  # tier 4
    key: str
    owner: object

    @property
    def slug(self) -> str:
        return self.agency.slug

    def headers(self, key: str | None = None) -> dict:
        return {"Authorization": f"OAuth {key or self.key}"}


@pytest.fixture
def page(app) -> Page:
    agency = make_agency("Department of Revenue", slug="revenue")
    filing = make_service(agency, "Tax filing", slug="tax-filing", tier=1)
    payments = make_service(agency, "Tax payments", slug="tax-payments", tier=2)
    archive = make_service(agency, "Records archive", slug="records-archive", tier=4)
    owner = make_user(agency, Role.SERVICE_OWNER)
    _, key = create_key(agency, "Chat bot", ALL_SCOPES, by=owner)
    return Page(agency, filing, payments, archive, key, owner)


def row_counts() -> dict[str, int]:
    """How many rows each table holds (but the bookkeeping ones)."""
    return {
        table.name: db.session.scalar(select(func.count()).select_from(table))
        for table in db.metadata.sorted_tables
        if table.name not in BOOKKEEPING
    }


def table_contents() -> dict[str, list]:
    """Every row of every table (but the bookkeeping ones), to tell that nothing changed."""
    db.session.expire_all()
    return {
        table.name: sorted(map(repr, db.session.execute(select(table)).all()))
        for table in db.metadata.sorted_tables
        if table.name not in BOOKKEEPING
    }
