"""``key_required(*scopes)``: the declaration and the check of every API view.

    @api_v1.get("/pages/<page_id>/incidents")
    @key_required("read")
    def incidents(page_id): ...  # g.api_key, g.api_actor, g.agency

The key comes as ``Authorization: OAuth <key>`` (Statuspage's form), ``Authorization: Bearer
<key>`` or the ``api_key`` query parameter. In order: no key, an unknown or a revoked one -> 401;
a ``page_id`` that is not the key's agency's slug -> 404 (another agency's page is as unknown as a
missing one); a scope the key lacks -> 403; over the key's rate limit (``API_RATE_LIMIT``) ->
429 with Retry-After. Then ``g.api_key``, ``g.api_actor`` (the key's service account, to pass as
``by=``) and ``g.agency`` are set, and the key's last use is noted (at most once a minute).

The declaration is recorded on the view: the API blueprint does not start with a view that lacks
one (``check_declarations``), and tests/admin/test_permissions_walk.py walks every API route."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import wraps

from flask import current_app, g, request
from limits import parse_many
from sqlalchemy import or_, update

from .. import clock
from ..extensions import db, limiter
from .errors import api_error
from .models import SCOPES, ApiKey
from .operations import find_key

ATTRIBUTE = "api_permission"
LAST_USED_EVERY = timedelta(minutes=1)


class UndeclaredApiEndpoint(RuntimeError):
    """An API endpoint says nothing about the key it needs."""


@dataclass(frozen=True)
class ApiPermission:
    scopes: tuple[str, ...]

    def describe(self) -> str:
        return f"API key with {', '.join(self.scopes) or 'any'} scope"


def presented_key() -> str | None:
    header = request.headers.get("Authorization", "")
    kind, _, value = header.strip().partition(" ")
    if kind.lower() in ("oauth", "bearer") and value.strip():
        return value.strip()
    return request.args.get("api_key") or None


def _over_limit(key: ApiKey) -> int | None:
    """Counts this request against the key's limits; seconds to wait when one is spent."""
    config = current_app.config
    identity = (config.get("RATELIMIT_KEY_PREFIX", ""), "api-key", str(key.id))
    for item in parse_many(config["API_RATE_LIMIT"]):
        strategy = limiter.limiter
        if not strategy.hit(item, *identity):
            reset_at = strategy.get_window_stats(item, *identity).reset_time
            return max(1, math.ceil(reset_at - time.time()))
    return None


def _note_use(key: ApiKey) -> None:
    now = clock.now()
    if key.last_used_at is not None and now - key.last_used_at < LAST_USED_EVERY:
        return
    db.session.execute(
        update(ApiKey)
        .where(ApiKey.id == key.id)
        .where(or_(ApiKey.last_used_at.is_(None), ApiKey.last_used_at < now - LAST_USED_EVERY))
        .values(last_used_at=now)
    )
    db.session.commit()


def authenticate(scopes: tuple[str, ...], view_args: dict):
    """None when the request may go on (``g`` set), else the error response."""
    key = find_key(presented_key() or "")
    if key is None or key.revoked:
        return api_error(401, "Could not authenticate: the API key is missing, unknown or revoked.",
                         headers={"WWW-Authenticate": 'OAuth realm="api"'})  # fmt: skip
    if "page_id" in view_args and view_args["page_id"] != key.agency.slug:
        return api_error(404)
    missing = [scope for scope in scopes if not key.has_scopes(scope)]
    if missing:
        return api_error(403, f"This API key lacks the {', '.join(missing)} scope.")
    wait = _over_limit(key)
    if wait is not None:
        return api_error(429, headers={"Retry-After": str(wait)})
    g.api_key = key
    g.api_actor = key.user
    g.agency = key.agency
    _note_use(key)
    return None


def key_required(*scopes: str) -> Callable[[Callable], Callable]:
    unknown = set(scopes) - set(SCOPES)
    if unknown:
        raise ValueError(f"unknown scope {', '.join(sorted(unknown))}; one of {', '.join(SCOPES)}")
    permission = ApiPermission(tuple(scopes))

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def checked(*args, **kwargs):
            refused = authenticate(permission.scopes, kwargs)
            if refused is not None:
                return refused
            return view(*args, **kwargs)

        setattr(checked, ATTRIBUTE, permission)
        return checked

    return decorate


def declared(view: Callable) -> ApiPermission | None:
    return getattr(view, ATTRIBUTE, None)


def check_declarations(app, blueprint: str) -> None:
    """Every endpoint of the API blueprint declares the key it needs, or the app does not start."""
    problems = sorted(
        f"{rule.endpoint} declares no API key: add @key_required(...) under its route "
        "(from statuspage.api_keys.auth import key_required)"
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith(blueprint + ".")
        and declared(app.view_functions[rule.endpoint]) is None
    )
    if problems:
        raise UndeclaredApiEndpoint("; ".join(dict.fromkeys(problems)))
