"""A lead whose session times out while writing loses nothing: what they sent is kept, given back
after signing in again, and sent only when they press the button."""

import re
from datetime import timedelta
from html import unescape

import pytest
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from statuspage import clock
from statuspage.extensions import db
from statuspage.incidents.models import IncidentUpdate
from statuspage.users.held_posts import HeldPost
from statuspage.users.models import Role
from tests.factories import csrf_token, login, make_agency, make_incident, make_service, make_user

BODY = "We have found the cause: a certificate expired at 3 AM.\n\nPaper forms still work."


@pytest.fixture
def setting(app):
    agency = make_agency()
    lead = make_user(agency, Role.COMMUNICATIONS_LEAD, email="lead@example.gov")
    other = make_user(agency, Role.COMMUNICATIONS_LEAD, email="other@example.gov")
    incident = make_incident([make_service(agency)], priority=2)
    return {"lead": lead, "other": other, "ref": incident.ref}


def bodies() -> list[str]:
    db.session.expire_all()
    return list(db.session.scalars(select(IncidentUpdate.body)))


def publish(client, ref: str, token: str):
    return client.post(
        f"/admin/incidents/{ref}/updates",
        data={"status": "identified", "body": BODY, "action": "publish", "csrf_token": token},
    )


def timed_out_post(client, setting, pinned_now):
    login(client, setting["lead"])
    # The form's token, taken when the lead opened the page (a stand-in when CSRF is off).
    token = csrf_token(client, f"/admin/incidents/{setting['ref']}") or "not-checked"
    with clock.pinned(pinned_now + timedelta(minutes=45)):  # idle: the session has run out
        response = publish(client, setting["ref"], token)
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith("/admin/login?next=/admin/held/")
    return location.split("next=")[1]


@pytest.mark.parametrize("app_config", [{}, {"WTF_CSRF_ENABLED": True}], ids=["", "csrf"])
def test_the_text_is_kept_given_back_after_signing_in_and_sent_with_one_button(
    client, setting, pinned_now
):
    before = bodies()
    held = timed_out_post(client, setting, pinned_now)
    assert bodies() == before  # nothing went out while signed out
    with clock.pinned(pinned_now + timedelta(minutes=50)):
        page = client.get("/admin/login").text
        assert "What you were sending is kept: sign in to send it." in page
        signed_in = login(client, setting["lead"])
        page = client.get(held)
    assert page.status_code == 200
    assert "a certificate expired at 3 AM." in page.text  # shown to read before sending
    action = re.search(r'<form method="post" action="([^"]+)" class="narrow held-post">', page.text).group(1)
    assert action == f"/admin/incidents/{setting['ref']}/updates"
    fields = [(unescape(n), unescape(v)) for n, v in
              re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page.text)]
    kept = {name: value for name, value in fields if name != "csrf_token"}
    assert kept == {"status": "identified", "body": BODY, "action": "publish"}
    assert "not-checked" not in page.text  # the old token (a secret) is never kept
    with clock.pinned(pinned_now + timedelta(minutes=51)):
        sent = client.post(action, data=MultiDict(fields))  # "Send it now"
    assert sent.status_code == 302 and signed_in.status_code == 302
    assert bodies() == [*before, BODY]


def test_only_the_person_whose_session_ran_out_gets_it_back_and_only_for_two_hours(
    client, setting, pinned_now
):
    held = timed_out_post(client, setting, pinned_now)
    someone_else = client.application.test_client()
    with clock.pinned(pinned_now + timedelta(minutes=50)):
        login(someone_else, setting["other"])
        assert someone_else.get(held).status_code == 404
    later = client.application.test_client()
    with clock.pinned(pinned_now + timedelta(hours=3)):
        login(later, setting["lead"])
        answer = later.get(held)
        assert answer.status_code == 404 and "Nothing kept" in answer.text


def test_a_post_after_signing_out_is_not_kept(client, setting):
    login(client, setting["lead"])
    client.post("/admin/logout")
    response = publish(client, setting["ref"], "not-checked")
    assert "/admin/held/" not in response.headers["Location"]
    assert db.session.scalars(select(HeldPost)).all() == []
