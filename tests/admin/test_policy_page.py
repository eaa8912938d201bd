"""The policy in force, read-only for every signed-in staff member, with overrides marked."""

import re
from html import unescape

import pytest

from statuspage.extensions import db
from statuspage.policy import DEFAULT_TABLE
from statuspage.users.models import Role
from tests.conftest import FreshContextClient, _empty_tables, make_app
from tests.factories import login, make_agency, make_user

MARK = "(from policy.toml)"


def rows(html: str) -> dict[str, list[str]]:
    """Each table row by its header cell: the cells' text, tags removed."""
    found = {}
    for row in re.findall(r"<tr>(.*?)</tr>", html, flags=re.S):
        header = re.search(r'<th scope="row">(.*?)</th>', row, flags=re.S)
        if header:
            cells = re.findall(r"<td>(.*?)</td>", row, flags=re.S)
            found[unescape(header.group(1))] = [
                unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in cells
            ]
    return found


@pytest.fixture
def instance(migrated, tmp_path, monkeypatch):
    """An app whose instance folder is this test's, with a policy.toml the test writes first."""
    monkeypatch.setenv("STATUSPAGE_INSTANCE_PATH", str(tmp_path))
    made = []

    def start(policy_toml: str | None):
        if policy_toml is not None:
            (tmp_path / "policy.toml").write_text(policy_toml)
        app = make_app(migrated)
        app.test_client_class = FreshContextClient
        context = app.app_context()
        context.push()
        made.append(context)
        client = app.test_client()
        login(client, make_user(make_agency(), Role.VIEWER))
        return client

    yield start
    for context in made:
        db.session.remove()
        _empty_tables()
        db.engine.dispose()
        context.pop()


# A row written before default_impact, closure_notice and the channels were added: those keep the
# default.
LATER_KEYS = ("default_impact", "closure_notice", "sms_up_to_tier", "social_media",
              "media_statement")  # fmt: skip
P2_OVERRIDE = {key: value for key, value in DEFAULT_TABLE["P2"].items()
               if key not in LATER_KEYS}  # fmt: skip
P2_OVERRIDE.update(acknowledge="10 minutes", update_cadence="1 hour")


def override_text() -> str:
    return (
        "[P2]\n" + "\n".join(f'{k} = "{v}"' for k, v in P2_OVERRIDE.items())
        + '\n[rules]\nreminder_before = "10 minutes"\n'
        + '[notify.P3]\nservice_manager = "30 minutes"\n'
        + '[targets]\nrecurrence_rate_below = "12.5%"\n'
    )  # fmt: skip


def test_every_staff_member_reads_the_default_policy(instance, tmp_path):
    response = instance(None).get("/admin/policy")
    assert response.status_code == 200
    html = unescape(response.get_data(as_text=True))
    assert f"there is no <code>{tmp_path / 'policy.toml'}</code> overriding them" in html
    assert MARK not in html.split("<h2")[1]  # nothing in the tables is marked
    table = rows(html)
    assert table["P1 Critical"] == [
        "5 minutes", "15 minutes", "every 30 minutes", "1 hour", "4 hours", "mandatory",
        "within 48 hours of resolution", "within 5 business days", "yes", "service owner",
        "public once its first public update is posted", "major outage", "yes",
        "services of tiers 1-2", "yes", "yes, approved before release",
    ]  # fmt: skip
    assert table["P3 Medium"][13:] == ["no", "no", "no"]
    assert table["P3 Medium"][1:3] == ["no deadline", "every 1 day"]
    assert table["P3 Medium"][5] == "only if recurring (3+ in 30 days on the same service)"
    assert table["P3 Medium"][10] == (
        "public only when a lead makes it public with a message for citizens"
    )
    assert table["P4 Low"][0] == "4 business hours"
    assert table["P4 Low"][10] == "never public (reply to the reporter directly)"
    assert table["A security incident is never below"] == ["P2"]
    assert table["P1"] == [
        "Service owner at once; Agency CIO at once; Chief Digital Officer at once; On call at once"
    ]
    assert table["P2"] == ["Service manager at once; Service owner within 15 minutes; "
                           "On call at once"]  # fmt: skip
    assert table["P4"] == ["Service owner in the daily summary"]
    assert table["Security incidents at P1"] == ["Legal at once; Public relations at once"]
    assert table["Leadership briefings while it lasts"] == ["P1 every 30 minutes"]
    assert table["Nobody acknowledged: one level up"] == ["P1 after 30 minutes; P2 after 1 hour"]
    assert table["The ladder, one level up each time"] == [
        "Service manager → Service owner → Agency CIO → Chief Digital Officer"
    ]


def test_values_from_policy_toml_are_marked_with_the_file(instance, tmp_path):
    html = unescape(instance(override_text()).get("/admin/policy").get_data(as_text=True))
    assert f"set in <code>{tmp_path / 'policy.toml'}</code>" in html
    table = rows(html)
    # A [P2] table replaces the whole row: every value in it comes from the file.
    assert table["P2 High"][0] == f"10 minutes {MARK}"
    assert table["P2 High"][2] == f"every 1 hour {MARK}"
    assert table["P2 High"][3] == f"4 hours {MARK}"
    assert all(cell.endswith(MARK) for cell in table["P2 High"][:11])
    # Keys the row left out (added to the policy later) keep the default, unmarked.
    assert table["P2 High"][11:] == [
        "partial outage", "yes", "services of tiers 1-2", "no", "yes, approved before release"
    ]
    assert not any(MARK in cell for cell in table["P1 Critical"])
    assert table["Reminders before each deadline"] == [f"10 minutes {MARK}"]
    assert table["Resolved incidents close after"] == ["24 hours"]
    assert table["Recurrence (same service and cause)"] == [f"below 12.5% of incidents {MARK}"]
    assert table["SLA compliance (acknowledged and resolved in time)"] == ["at least 95%"]
    assert table["P3"] == [f"Service manager within 30 minutes {MARK}"]
    assert table["P1"] == [
        "Service owner at once; Agency CIO at once; Chief Digital Officer at once; On call at once"
    ]


def test_a_policy_toml_changed_after_start_up_is_pointed_out(instance, tmp_path):
    client = instance(override_text())
    (tmp_path / "policy.toml").write_text('[rules]\nreminder_before = "20 minutes"\n')
    html = unescape(client.get("/admin/policy").get_data(as_text=True))
    assert "has changed since the site started: restart the site to apply it" in html
    # The values in force stay those the site started with; the marks follow the file.
    assert rows(html)["P2 High"][0] == "10 minutes"
    assert rows(html)["Reminders before each deadline"] == [f"10 minutes {MARK}"]
    (tmp_path / "policy.toml").write_text("[rules\n")
    html = unescape(client.get("/admin/policy").get_data(as_text=True))
    assert "cannot be read now" in html and MARK not in html.split("<h2")[1]
