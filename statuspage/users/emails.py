"""Account emails (invitation, password reset, "no account here"), sent through the outbox like
every internal message. The link is made when the email is written, from the values the outbox
row holds (tokens.py); an email whose link could no longer work is skipped."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import current_app, url_for

from ..extensions import db
from ..internal.messages import InternalMessage, Recipient, Skip, enqueue, renderer
from ..timefmt import format_absolute
from .models import Role, User
from .tokens import INVITATION, PASSWORD_RESET, LinkData, fingerprint, link_data, max_age, token_for

NO_ACCOUNT = "no_account"


def send_invitation(user: User) -> None:
    """An invitation email to ``user``, in the caller's transaction."""
    data = link_data(INVITATION, user)
    enqueue([Recipient(user.name, user.email)], INVITATION, data.detail())


def send_password_reset(user: User | None, address: str, nonce: str) -> None:
    """A reset link to a user, or to an address with no account a note saying so: one outbox row
    either way, so the answer takes the same time whether or not the address is known."""
    if user is not None:
        enqueue([Recipient(user.name, user.email)], PASSWORD_RESET, link_data(PASSWORD_RESET, user).detail())
    else:
        enqueue([Recipient("", address)], NO_ACCOUNT, nonce)


def _site() -> tuple[str, str]:
    return current_app.config["SITE_NAME"], current_app.config["SITE_URL"].rstrip("/")


def _live_user(purpose: str, detail: str) -> tuple[User, LinkData]:
    data = LinkData.from_detail(detail)
    user = db.session.get(User, data.user_id)
    if user is None or not user.is_active or fingerprint(purpose, user) != data.fingerprint:
        raise Skip("the link was used, replaced, or the account is gone")
    return user, data


def _expires(purpose: str, data: LinkData) -> str:
    return format_absolute(datetime.fromtimestamp(data.issued, UTC) + max_age(purpose))


@renderer(INVITATION)
def _invitation(detail: str, incident_id: int | None) -> InternalMessage:
    user, data = _live_user(INVITATION, detail)
    site, base = _site()
    link = base + url_for("admin.accept_invitation_page", token=token_for(INVITATION, data))
    if user.is_site_admin:
        roles = ["site administrator"]
    else:
        roles = [f"{Role(m.role).label.lower()} for {m.agency.name}" for m in user.memberships]
    text = (
        f"Hello {user.name},\n\n"
        f"You have been invited to the admin of {site}"
        + (f" as {', '.join(roles)}" if roles else "")
        + ".\n\n"
        f"Choose your password here (the link works once, until {_expires(INVITATION, data)}):\n"
        f"{link}\n\n"
        f"Then sign in at {base}{url_for('admin.login')} with {user.email}.\n\n"
        "If you did not expect this invitation, ignore this email."
    )
    return InternalMessage(f"You are invited to {site}", text, acknowledge=False)


@renderer(PASSWORD_RESET)
def _password_reset(detail: str, incident_id: int | None) -> InternalMessage:
    user, data = _live_user(PASSWORD_RESET, detail)
    site, base = _site()
    link = base + url_for("admin.reset_password_page", token=token_for(PASSWORD_RESET, data))
    text = (
        f"Hello {user.name},\n\n"
        f"Someone (we hope you) asked to reset the password of {user.email} on {site}.\n\n"
        f"Choose a new password here (the link works once, until "
        f"{_expires(PASSWORD_RESET, data)}):\n{link}\n\n"
        "Setting a new password signs you out everywhere else.\n\n"
        "If you did not ask for this, ignore this email: your password stays as it is."
    )
    return InternalMessage(f"Reset your password for {site}", text, acknowledge=False)


@renderer(NO_ACCOUNT)
def _no_account(detail: str, incident_id: int | None) -> InternalMessage:
    site, base = _site()
    text = (
        f"Someone (we hope you) asked to reset the password of this email address on {site}, "
        "but no active account uses this address.\n\n"
        "If you work on the status page, ask your site administrator or your agency's service "
        "owner to invite you, or try the address you were invited with.\n\n"
        "If you did not ask for this, ignore this email."
    )
    return InternalMessage(f"Password reset for {site}", text, acknowledge=False)
