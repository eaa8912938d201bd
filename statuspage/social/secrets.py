"""Account tokens and app passwords, encrypted at rest with Fernet (AES-128-CBC + HMAC-SHA256).

The key is derived from the app's SECRET_KEY with HKDF-SHA256 (its own "info", so it is never the
key that signs sessions). A database copied without the secret key gives nothing away; a new
SECRET_KEY makes the saved secrets unreadable, and the accounts say to enter them again."""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

INFO = b"statuspage social account secrets v1"


class UnreadableSecret(ValueError):
    """The saved secret cannot be decrypted: SECRET_KEY changed since it was saved."""


def _fernet() -> Fernet:
    secret_key = current_app.config["SECRET_KEY"]
    material = secret_key.encode() if isinstance(secret_key, str) else secret_key
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=INFO).derive(material)
    return Fernet(base64.urlsafe_b64encode(key))


def encrypt(plain: str) -> str:
    return _fernet().encrypt(plain.encode()).decode("ascii")


def decrypt(stored: str) -> str:
    try:
        return _fernet().decrypt(stored.encode("ascii")).decode()
    except (InvalidToken, ValueError):
        raise UnreadableSecret(
            "the saved token cannot be read (the site's secret key changed): remove the account "
            "and add it again with its token"
        ) from None
