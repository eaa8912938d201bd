"""Single sign-on with OpenID Connect, against a small real provider this test runs on 127.0.0.1
(discovery, JWKS with an RSA key made here, /authorize, /token with a signed ID token). The app's
Authlib client talks to it over HTTP, as it would to a real one."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from urllib.parse import urlencode, urlsplit

import pytest
import requests
from joserfc import jwt
from joserfc.jwk import RSAKey
from sqlalchemy import func, select
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from statuspage.extensions import db
from statuspage.users.models import Role, User
from statuspage.users.operations import deactivate_user
from tests.factories import make_agency, make_user

CLIENT_ID = "status-page"
CLIENT_SECRET = "a-client-secret-for-tests"


class Provider:
    """An OpenID Connect provider that signs in whoever ``person`` says, and checks what a real
    one checks: the client, the redirect address, PKCE (S256) and the one-time code."""

    def __init__(self):
        self.key = RSAKey.generate_key(2048, parameters={"kid": "test-key", "use": "sig"})
        self.person = {"sub": "1001", "email": "lead@example.gov", "email_verified": True}
        self.nonce_override: str | None = None
        self.codes: dict[str, dict] = {}
        self.token_requests: list[dict] = []
        self.authorize_requests: list[dict] = []

    def __call__(self, environ, start_response):
        request = Request(environ)
        handler = {
            "/.well-known/openid-configuration": self.discovery,
            "/jwks": self.jwks,
            "/authorize": self.authorize,
            "/token": self.token,
        }.get(request.path)
        response = handler(request) if handler else Response("not found", status=404)
        return response(environ, start_response)

    def discovery(self, request):
        return self._json({
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "jwks_uri": f"{self.issuer}/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
        })  # fmt: skip

    def jwks(self, request):
        return self._json({"keys": [self.key.as_dict(private=False)]})

    def authorize(self, request):
        args = request.args.to_dict()
        self.authorize_requests.append(args)
        if args.get("client_id") != CLIENT_ID or args.get("response_type") != "code":
            return Response("bad client", status=400)
        code = secrets.token_urlsafe(16)
        self.codes[code] = args
        query = urlencode({"code": code, "state": args["state"]})
        return Response(status=302, headers={"Location": f"{args['redirect_uri']}?{query}"})

    def token(self, request):
        form = request.form.to_dict()
        self.token_requests.append(form)
        auth = request.authorization
        if not auth or (auth.username, auth.password) != (CLIENT_ID, CLIENT_SECRET):
            return self._json({"error": "invalid_client"}, 401)
        asked = self.codes.pop(form.get("code", ""), None)  # a code works once
        if asked is None or form.get("redirect_uri") != asked["redirect_uri"]:
            return self._json({"error": "invalid_grant"}, 400)
        verifier = form.get("code_verifier", "")
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
        if asked.get("code_challenge_method") != "S256" or challenge.decode() != asked.get("code_challenge"):
            return self._json({"error": "invalid_grant", "error_description": "PKCE"}, 400)
        now = int(time.time())
        claims = {
            "iss": self.issuer, "aud": CLIENT_ID, "iat": now, "exp": now + 300,
            "nonce": self.nonce_override or asked.get("nonce"), **self.person,
        }  # fmt: skip
        id_token = jwt.encode({"alg": "RS256", "kid": "test-key"}, claims, self.key)
        return self._json({"access_token": secrets.token_urlsafe(16), "token_type": "Bearer",
                           "expires_in": 300, "id_token": id_token})  # fmt: skip

    @staticmethod
    def _json(data, status=200):
        return Response(json.dumps(data), status=status, mimetype="application/json")


@pytest.fixture(scope="module")
def provider():
    provider = Provider()
    server = make_server("127.0.0.1", 0, provider, threaded=True)
    provider.issuer = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield provider
    server.shutdown()


@pytest.fixture
def app_config(provider):
    return {
        "OIDC_ISSUER": provider.issuer,
        "OIDC_CLIENT_ID": CLIENT_ID,
        "OIDC_CLIENT_SECRET": CLIENT_SECRET,
        "OIDC_PROVIDER_NAME": "the Example Government account",
    }


@pytest.fixture(autouse=True)
def fresh_provider(provider):
    provider.person = {"sub": "1001", "email": "lead@example.gov", "email_verified": True}
    provider.nonce_override = None
    provider.codes.clear()


@pytest.fixture
def lead(app):
    return make_user(make_agency(), Role.COMMUNICATIONS_LEAD, email="lead@example.gov")


def through_provider(client, next_url=None):
    """Start single sign-on and follow the provider back: the callback's path and query."""
    start = client.get("/admin/login/single-sign-on" + (f"?next={next_url}" if next_url else ""))
    assert start.status_code == 302, start.text
    location = start.headers["Location"]
    back = requests.get(location, allow_redirects=False, timeout=5)
    assert back.status_code == 302, back.text
    parts = urlsplit(back.headers["Location"])
    return f"{parts.path}?{parts.query}"


def test_the_login_page_offers_single_sign_on_when_configured(client):
    assert "Sign in with the Example Government account" in client.get("/admin/login").text


def test_single_sign_on_signs_in_the_active_account_with_that_verified_email(
    client, lead, provider
):
    callback = through_provider(client, next_url="/admin/incidents/new")
    asked = provider.authorize_requests[-1]
    assert asked["code_challenge_method"] == "S256" and asked["code_challenge"]
    assert asked["nonce"] and asked["state"] and "openid" in asked["scope"].split()
    response = client.get(callback)
    assert response.status_code == 302 and response.headers["Location"] == "/admin/incidents/new"
    assert client.get("/admin/").status_code == 200
    assert provider.token_requests[-1]["code_verifier"]  # PKCE: the provider checked it


@pytest.mark.parametrize(
    "person, message",
    [
        ({"sub": "2", "email": "nobody@example.gov", "email_verified": True},
         "There is no active account here for nobody@example.gov"),
        ({"sub": "3", "email": "lead@example.gov", "email_verified": False},
         "did not give a verified email address"),
        ({"sub": "4"}, "did not give a verified email address"),
    ],
)  # fmt: skip
def test_no_account_is_made_or_matched_without_a_verified_email_of_an_existing_account(
    client, lead, provider, person, message
):
    provider.person = person
    users_before = db.session.scalar(select(func.count()).select_from(User))
    response = client.get(through_provider(client), follow_redirects=True)
    assert message in response.text
    assert client.get("/admin/").status_code == 302  # not signed in
    assert db.session.scalar(select(func.count()).select_from(User)) == users_before


def test_a_deactivated_account_is_not_signed_in(client, lead, provider):
    admin = make_user(site_admin=True)
    deactivate_user(admin, lead)
    response = client.get(through_provider(client), follow_redirects=True)
    assert "There is no active account here for lead@example.gov" in response.text
    assert client.get("/admin/").status_code == 302


def test_an_answer_with_another_state_is_refused(client, lead):
    callback = through_provider(client)
    forged = callback.replace("state=", "state=x")
    response = client.get(forged, follow_redirects=True)
    assert "Single sign-on did not complete" in response.text
    assert client.get("/admin/").status_code == 302


def test_an_id_token_for_another_nonce_is_refused(client, lead, provider):
    provider.nonce_override = "a-nonce-from-another-sign-in"
    response = client.get(through_provider(client), follow_redirects=True)
    assert "Single sign-on did not complete" in response.text
    assert client.get("/admin/").status_code == 302


def test_an_answer_replayed_in_another_browser_is_refused(app, client, lead):
    callback = through_provider(client)
    other = app.test_client()
    response = other.get(callback, follow_redirects=True)  # no state of its own in its session
    assert "Single sign-on did not complete" in response.text
    assert other.get("/admin/").status_code == 302


def test_a_second_factor_is_still_asked_for_after_single_sign_on(client, lead):
    import pyotp

    from statuspage import clock
    from statuspage.users import factors

    factor = factors.pending_totp(lead)
    factors.confirm_totp(lead, pyotp.TOTP(factor.secret).at(clock.now()), address="x", keep=None)
    response = client.get(through_provider(client))
    assert response.headers["Location"] == "/admin/login/second-factor"
    assert client.get("/admin/").status_code == 302


def test_single_sign_on_is_off_unless_configured(migrated):
    from tests.conftest import make_app

    client = make_app(migrated).test_client()
    assert "Sign in with" not in client.get("/admin/login").text.split("Sign in with a passkey")[1]
    assert client.get("/admin/login/single-sign-on").status_code == 404
    assert client.get("/admin/login/single-sign-on/done?code=x&state=y").status_code == 404
