"""Idempotency-Key: a retried POST is answered with the first answer instead of being done
twice. No POST of the API exists in this part, so the decorator is tried on a small route the
test adds to the app (the same decorators an API view uses)."""

from __future__ import annotations

import itertools

import pytest
from flask import jsonify, request
from sqlalchemy import select

from statuspage import clock
from statuspage.api_keys.auth import key_required
from statuspage.api_keys.idempotency import idempotent
from statuspage.api_keys.models import IdempotentRequest
from statuspage.api_keys.operations import create_key
from statuspage.extensions import db
from statuspage.users.models import Role
from tests.factories import make_agency, make_user

PATH = "/api/v1/test-only/things"


@pytest.fixture
def done(app):
    """What the route did: one entry per time its body really ran."""
    ran: list[dict] = []
    numbers = itertools.count(1)

    @key_required("incidents")
    @idempotent
    def make_thing():
        body = request.get_json(silent=True) or {}
        if body.get("fail"):
            ran.append(body)
            return jsonify({"error": "down"}), 503
        thing = {"id": next(numbers), "name": body.get("name")}
        ran.append(thing)
        return jsonify(thing), 201, {"Location": f"{PATH}/{thing['id']}"}

    app.add_url_rule(PATH, "make_thing", make_thing, methods=["POST"])
    return ran


@pytest.fixture
def keys(app):
    agency = make_agency()
    owner = make_user(agency, Role.SERVICE_OWNER)
    _, first = create_key(agency, "Script", {"incidents"}, by=owner)
    _, second = create_key(agency, "Other script", {"incidents"}, by=owner)
    return first, second


def post(client, key, body, idempotency_key=None):
    headers = {"Authorization": f"OAuth {key}"}
    if idempotency_key is not None:
        headers["Idempotency-Key"] = idempotency_key
    return client.post(PATH, json=body, headers=headers)


def test_a_retry_with_the_same_key_and_body_gets_the_first_answer(client, done, keys):
    first = post(client, keys[0], {"name": "outage"}, "retry-1")
    again = post(client, keys[0], {"name": "outage"}, "retry-1")
    assert first.status_code == again.status_code == 201
    assert first.get_json() == again.get_json() == {"id": 1, "name": "outage"}
    assert again.headers["Location"] == first.headers["Location"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert len(done) == 1


def test_the_same_key_with_another_body_is_422_and_nothing_done(client, done, keys):
    post(client, keys[0], {"name": "outage"}, "retry-1")
    changed = post(client, keys[0], {"name": "something else"}, "retry-1")
    assert changed.status_code == 422
    assert "different request" in changed.get_json()["error"]
    assert len(done) == 1


def test_without_the_header_every_post_runs(client, done, keys):
    post(client, keys[0], {"name": "outage"})
    post(client, keys[0], {"name": "outage"})
    assert len(done) == 2


def test_idempotency_keys_are_per_api_key(client, done, keys):
    post(client, keys[0], {"name": "outage"}, "retry-1")
    other = post(client, keys[1], {"name": "outage"}, "retry-1")
    assert other.status_code == 201 and other.get_json()["id"] == 2
    assert len(done) == 2


def test_a_request_still_being_answered_is_409(client, done, keys):
    post(client, keys[0], {"name": "outage"}, "retry-1")
    row = db.session.scalars(select(IdempotentRequest)).one()
    db.session.add(IdempotentRequest(
        api_key_id=row.api_key_id, idempotency_key="in-flight", request_hash=row.request_hash,
        status=None, content_type="", body=b"", headers={}, created_at=clock.now(),
    ))  # fmt: skip
    db.session.commit()
    db.session.execute(
        IdempotentRequest.__table__.update()
        .where(IdempotentRequest.idempotency_key == "in-flight")
        .values(request_hash=_hash_of(row))
    )
    db.session.commit()
    busy = post(client, keys[0], {"name": "outage"}, "in-flight")
    assert busy.status_code == 409 and "being answered" in busy.get_json()["error"]
    assert len(done) == 1


def _hash_of(row: IdempotentRequest) -> str:
    return row.request_hash  # the same method, path and body as the first request


def test_a_server_error_is_not_kept_so_the_retry_runs(client, done, keys):
    failed = post(client, keys[0], {"name": "outage", "fail": True}, "retry-1")
    assert failed.status_code == 503
    assert db.session.scalars(select(IdempotentRequest)).all() == []
    again = post(client, keys[0], {"name": "outage", "fail": True}, "retry-1")
    assert again.status_code == 503 and len(done) == 2


def test_an_answer_is_kept_for_a_day(client, done, keys):
    start = clock.now()
    with clock.pinned(start):
        post(client, keys[0], {"name": "outage"}, "retry-1")
    with clock.pinned(start + __import__("datetime").timedelta(hours=25)):
        later = post(client, keys[0], {"name": "outage"}, "retry-1")
    assert later.status_code == 201 and later.get_json()["id"] == 2
    assert len(db.session.scalars(select(IdempotentRequest)).all()) == 1


def test_a_refused_key_never_reaches_the_stored_answers(client, done, keys):
    post(client, keys[0], {"name": "outage"}, "retry-1")
    stranger = client.post(PATH, json={"name": "outage"},
                           headers={"Idempotency-Key": "retry-1"})  # fmt: skip
    assert stranger.status_code == 401 and "outage" not in stranger.get_data(as_text=True)


def test_an_overlong_idempotency_key_is_400(client, done, keys):
    response = post(client, keys[0], {"name": "outage"}, "k" * 300)
    assert response.status_code == 400 and "Idempotency-Key" in response.get_json()["error"]
    assert done == []
