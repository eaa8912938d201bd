"""Social media: each agency's accounts and hashtags (its service owners and site administrators),
and "Post now" on an incident (its communications leads): form -> operation (checked, audited) ->
flash -> redirect. The ready posts themselves are on the incident page (admin/_social_posts.html)."""

from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import select
from wtforms import PasswordField, StringField
from wtforms.validators import Length

from ..catalog.models import Agency
from ..catalog.operations import CatalogError, update_agency_hashtags
from ..extensions import db
from ..forms import BaseForm, ChoiceField
from ..policy import current_policy
from ..social import operations as social
from ..social.compose import NETWORKS
from ..social.models import SocialAccount
from ..users.models import Role
from . import admin
from .forms import ActionForm
from .permissions import allow


class AccountForm(BaseForm):
    network = ChoiceField(
        "Network", choices={}, invalid_message="Choose a network from the list."
    )
    name = StringField(
        "Name", description="How people know the account, for example "
        "@revenue@social.example.gov or “Revenue Agency on X”.",
        validators=[Length(max=200)],
    )  # fmt: skip
    base_url = StringField(
        "Server address (Mastodon and Bluesky)",
        description="Mastodon: the server the account is on, for example "
        f"https://social.example.gov. Bluesky: leave empty for {social.DEFAULT_BLUESKY_PDS}.",
        validators=[Length(max=500)],
    )  # fmt: skip
    handle = StringField(
        "Handle (Bluesky)", description="For example revenue.bsky.social.",
        validators=[Length(max=200)],
    )  # fmt: skip
    secret = PasswordField(
        "Access token (Mastodon) or app password (Bluesky)",
        description="Saved encrypted and never shown again. Not needed for X, Facebook or "
        "Threads: for those the incident page gives a ready post to copy.",
    )  # fmt: skip

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.network.choices = {
            key: network.label + ("" if network.by_api else " (copy-only)")
            for key, network in NETWORKS.items()
        }

    def details(self) -> social.AccountDetails:
        return social.AccountDetails(
            network=self.network.data or "", name=self.name.data or "",
            base_url=self.base_url.data or "", handle=self.handle.data or "",
            secret=self.secret.data or "",
        )  # fmt: skip


class HashtagsForm(BaseForm):
    hashtags = StringField(
        "Hashtags",
        description="Added to every post about this agency's incidents, for example "
        "#RevenueAgency #TaxDay. At most 5.",
        validators=[Length(max=300)],
    )


@admin.get("/social")
@allow.role(Role.SERVICE_OWNER, any_agency=True)
def social_agencies():
    agencies = list(db.session.scalars(
        select(Agency).where(Agency.id.in_(g.agency_ids))
        .order_by(Agency.display_order, Agency.name)
    ))  # fmt: skip
    if len(agencies) == 1:
        return redirect(url_for("admin.social_accounts", agency_id=agencies[0].id))
    counts = {agency.id: len(social.accounts_of(agency.id)) for agency in agencies}
    return render_template("admin/social/agencies.html", agencies=agencies, counts=counts)


def _page(account_form: AccountForm, hashtags_form: HashtagsForm, status: int = 200):
    return render_template(
        "admin/social/accounts.html", agency=g.agency, accounts=social.accounts_of(g.agency.id),
        form=account_form, hashtags_form=hashtags_form, action_form=ActionForm(formdata=None),
        automatic=" and ".join(f"P{p}" for p in range(1, 5) if current_policy()[p].social_media)
        or "no priority",
    ), status  # fmt: skip


@admin.get("/agencies/<int:agency_id>/social")
@allow.role(Role.SERVICE_OWNER, agency="agency_id")
def social_accounts(agency_id: int):
    return _page(AccountForm(formdata=None),
                 HashtagsForm(formdata=None, hashtags=g.agency.hashtags))  # fmt: skip


@admin.post("/agencies/<int:agency_id>/social")
@allow.role(Role.SERVICE_OWNER, agency="agency_id")
def add_social_account(agency_id: int):
    form = AccountForm()
    if form.validate_on_submit():
        try:
            account = social.add_account(g.agency, form.details(), by=current_user)
        except social.SocialError as error:
            form.add_error(error.field, error.message)
        else:
            flash(f"{account.network_label} account “{account.name}” added.", "success")
            return redirect(url_for("admin.social_accounts", agency_id=agency_id))
    return _page(form, HashtagsForm(formdata=None, hashtags=g.agency.hashtags), 400)


@admin.post("/agencies/<int:agency_id>/social/hashtags")
@allow.role(Role.SERVICE_OWNER, agency="agency_id")
def save_social_hashtags(agency_id: int):
    form = HashtagsForm()
    if form.validate_on_submit():
        try:
            changed = update_agency_hashtags(g.agency, form.hashtags.data or "", by=current_user)
        except CatalogError as error:
            form.add_error("hashtags", error.message)
        else:
            flash("Hashtags saved." if changed else "Nothing changed.", "success")
            return redirect(url_for("admin.social_accounts", agency_id=agency_id))
    return _page(AccountForm(formdata=None), form, 400)


def _account(agency_id: int, account_id: int) -> SocialAccount:
    account = db.session.get(SocialAccount, account_id)
    if account is None or account.agency_id != agency_id:
        abort(404)
    return account


@admin.post("/agencies/<int:agency_id>/social/<int:account_id>/toggle")
@allow.role(Role.SERVICE_OWNER, agency="agency_id")
def toggle_social_account(agency_id: int, account_id: int):
    account = _account(agency_id, account_id)
    if ActionForm().validate_on_submit():
        social.set_account_enabled(account, not account.enabled, by=current_user)
        flash(f"{account.name} {'on' if account.enabled else 'off'}.", "success")
    return redirect(url_for("admin.social_accounts", agency_id=agency_id))


@admin.post("/agencies/<int:agency_id>/social/<int:account_id>/remove")
@allow.role(Role.SERVICE_OWNER, agency="agency_id")
def remove_social_account(agency_id: int, account_id: int):
    account = _account(agency_id, account_id)
    if ActionForm().validate_on_submit():
        name = account.name
        social.remove_account(account, by=current_user)
        flash(f"{name} removed, with its saved token.", "success")
    return redirect(url_for("admin.social_accounts", agency_id=agency_id))


@admin.post("/incidents/<ref>/social/<int:account_id>")
@allow.role(Role.COMMUNICATIONS_LEAD, incident="ref")
def post_social_now(ref: str, account_id: int):
    account = db.session.get(SocialAccount, account_id) or abort(404)
    if account.agency_id != g.incident.agency_id:
        abort(404)
    if ActionForm().validate_on_submit():
        try:
            outcome = social.post_now(g.incident, account, by=current_user)
        except social.SocialError as error:
            flash(error.message, "error")
        else:
            verb = "tried again" if outcome == "retried" else "on its way"
            flash(f"Post to {account.name} {verb}: the page shows when it is posted.", "success")
    return redirect(url_for("admin.incident", ref=ref) + "#social-heading")


@admin.context_processor
def social_panel():
    """``social_panel(incident)`` for the incident page's ready posts and direct posts."""

    def build(incident):
        result = social.panel(incident)
        result.can_post = current_user.is_authenticated and current_user.can(
            Role.COMMUNICATIONS_LEAD, incident.agency_id
        )
        result.action_form = ActionForm(formdata=None)
        return result

    return {"social_panel": build}
