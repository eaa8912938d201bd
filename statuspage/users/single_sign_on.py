"""Single sign-on with OpenID Connect (Authlib): the authorization code flow with PKCE, the state
and the nonce checked, the ID token's signature checked against the provider's published keys.

Off unless OIDC_ISSUER, OIDC_CLIENT_ID and OIDC_CLIENT_SECRET are set. A person the provider
signs in is matched to an existing, active account by their verified email address; no account
is ever made here. Signing in this way replaces the password step only: a second factor the
account has is still asked for."""

from __future__ import annotations

import threading

import requests
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.flask_client import OAuth
from flask import current_app
from joserfc.errors import JoseError

from .models import User
from .operations import UserError, find_user

_lock = threading.Lock()
CLIENT = "oidc"


def enabled() -> bool:
    config = current_app.config
    return bool(config["OIDC_ISSUER"] and config["OIDC_CLIENT_ID"] and config["OIDC_CLIENT_SECRET"])


def client():
    """The app's OpenID Connect client, registered on first use from the settings (its provider's
    discovery document is read when first needed)."""
    app = current_app._get_current_object()
    with _lock:
        oauth = app.extensions.get("authlib.integrations.flask_client") or OAuth(app)
        if oauth.create_client(CLIENT) is None:
            issuer = app.config["OIDC_ISSUER"].rstrip("/")
            oauth.register(
                CLIENT,
                client_id=app.config["OIDC_CLIENT_ID"],
                client_secret=app.config["OIDC_CLIENT_SECRET"],
                server_metadata_url=f"{issuer}/.well-known/openid-configuration",
                client_kwargs={"scope": "openid email profile", "code_challenge_method": "S256", "timeout": 10},
            )
        return oauth.create_client(CLIENT)


def start(redirect_uri: str):
    """The redirect to the provider (state, nonce and the PKCE verifier kept in the session)."""
    try:
        return client().authorize_redirect(redirect_uri)
    except (OAuthError, requests.RequestException, ValueError, KeyError) as error:
        current_app.logger.warning("single sign-on: the provider could not be reached: %s", error)
        raise UserError(
            "Single sign-on is not working at the moment. Sign in with your email address and "
            "password instead."
        ) from None


def finish() -> User:
    """The account the provider's answer (on the callback request) signs in; UserError if none."""
    try:
        token = client().authorize_access_token()
    except (OAuthError, JoseError, requests.RequestException, ValueError, KeyError) as error:
        current_app.logger.info("single sign-on refused: %r", error)
        raise UserError(
            "Single sign-on did not complete (it may have been cancelled, or taken too long). "
            "Try again."
        ) from None
    claims = token.get("userinfo") or {}
    email = claims.get("email")
    if not isinstance(email, str) or claims.get("email_verified") is not True:
        raise UserError(
            "Your organisation's sign-in did not give a verified email address, so we cannot tell "
            "which account is yours. Sign in with your email address and password."
        )
    user = find_user(email)
    if user is None or not user.is_active:
        raise UserError(
            f"There is no active account here for {email}. Accounts are made by invitation: ask "
            "a service owner of your agency or a site administrator to invite you."
        )
    return user
