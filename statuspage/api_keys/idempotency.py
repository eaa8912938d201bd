"""``idempotent``: a POST sent again with the same ``Idempotency-Key`` header is answered with
the first answer instead of being done twice (a retried call opens one incident, not two).

    @api_v1.post("/pages/<page_id>/incidents")
    @key_required("incidents")
    @idempotent
    def create_incident(page_id): ...

Keys are per API key and kept for ``KEEP_FOR``. The same Idempotency-Key with another method,
path or body -> 422; a retry while the first is still being answered -> 409 (the unique
constraint decides which of two concurrent requests runs). An answer of 500 or more is not kept,
so the client may retry it."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import timedelta
from functools import wraps

from flask import Response, g, make_response, request
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from .. import clock
from ..extensions import db
from .errors import api_error
from .models import IdempotentRequest

HEADER = "Idempotency-Key"
KEEP_FOR = timedelta(hours=24)
MAX_KEY_LENGTH = 255
REPLAYED_HEADERS = ("Location",)


def _fingerprint() -> str:
    digest = hashlib.sha256()
    for part in (request.method.encode(), request.path.encode(), request.get_data(cache=True)):
        digest.update(len(part).to_bytes(8, "big") + part)
    return digest.hexdigest()


def _replay(row: IdempotentRequest) -> Response:
    response = Response(row.body, status=row.status, content_type=row.content_type or None)
    for name, value in (row.headers or {}).items():
        response.headers[name] = value
    response.headers["Idempotent-Replayed"] = "true"
    return response


def _answer_for_existing(row: IdempotentRequest, fingerprint: str) -> Response:
    if row.request_hash != fingerprint:
        return api_error(
            422, f"This {HEADER} was used for a different request; use a new key for a new request."
        )
    if row.status is None:
        return api_error(409)
    return _replay(row)


def _find(api_key_id: int, value: str) -> IdempotentRequest | None:
    return db.session.scalars(
        select(IdempotentRequest).where(
            IdempotentRequest.api_key_id == api_key_id,
            IdempotentRequest.idempotency_key == value,
            IdempotentRequest.created_at >= clock.now() - KEEP_FOR,
        )
    ).first()


def idempotent(view: Callable) -> Callable:
    @wraps(view)
    def once(*args, **kwargs):
        value = request.headers.get(HEADER, "").strip()
        if not value:
            return view(*args, **kwargs)
        if len(value) > MAX_KEY_LENGTH:
            return api_error(
                400, f"The {HEADER} header is longer than {MAX_KEY_LENGTH} characters."
            )
        key_id = g.api_key.id
        fingerprint = _fingerprint()
        now = clock.now()
        existing = _find(key_id, value)
        if existing is not None:
            return _answer_for_existing(existing, fingerprint)
        # Forget this API key's expired answers, then claim the key for this request.
        db.session.execute(
            delete(IdempotentRequest).where(
                IdempotentRequest.api_key_id == key_id,
                IdempotentRequest.created_at < now - KEEP_FOR,
            )
        )
        claim = IdempotentRequest(
            api_key_id=key_id, idempotency_key=value, request_hash=fingerprint, status=None,
            content_type="", body=b"", headers={}, created_at=now,
        )  # fmt: skip
        db.session.add(claim)
        try:
            db.session.commit()
        except IntegrityError:  # another request with this key got there first
            db.session.rollback()
            existing = _find(key_id, value)
            return _answer_for_existing(existing, fingerprint) if existing else api_error(409)
        claim_id = claim.id
        try:
            response = make_response(view(*args, **kwargs))
        except BaseException:
            db.session.rollback()
            _release(claim_id)
            raise
        if response.status_code >= 500:
            db.session.rollback()
            _release(claim_id)
            return response
        row = db.session.get(IdempotentRequest, claim_id)
        if row is not None:
            row.status = response.status_code
            row.content_type = response.content_type or ""
            row.body = response.get_data()
            row.headers = {
                h: response.headers[h] for h in REPLAYED_HEADERS if h in response.headers
            }
            db.session.commit()
        return response

    return once


def _release(claim_id: int) -> None:
    db.session.execute(delete(IdempotentRequest).where(IdempotentRequest.id == claim_id))
    db.session.commit()
