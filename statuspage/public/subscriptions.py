"""Subscribing by email: double opt-in, a manage page behind a signed link, one-click unsubscribe."""

from __future__ import annotations

from flask import current_app, redirect, render_template, request, url_for

from ..catalog.queries import agencies_with_services
from ..extensions import csrf, limiter
from ..subscriptions.operations import (
    Choice,
    SubscriptionError,
    change_subscription,
    confirm_subscription,
    normalise_address,
    request_subscription,
    subscriber_from_manage_token,
)
from ..subscriptions.operations import unsubscribe as remove_subscriber
from ..subscriptions.tokens import TokenError
from . import public
from .forms import SubscribeForm, SubscriptionForm, UnsubscribeForm


def _with_choices(form: SubscriptionForm, agencies) -> SubscriptionForm:
    form.agencies.choices = {agency.id: agency.name for agency in agencies}
    form.services.choices = {s.id: s.name for agency in agencies for s in agency.services}
    return form


def _choice(form: SubscriptionForm) -> Choice:
    return Choice(
        everything=form.everything.data,
        agency_ids=set(form.agencies.data or []),
        service_ids=set(form.services.data or []),
    )


def _address_key() -> str:
    """Rate-limit key for the address being subscribed (so one inbox cannot be flooded)."""
    try:
        return "address:" + normalise_address(request.form.get("email", ""))
    except SubscriptionError:
        return "address:invalid"


def _client_limit() -> str:
    return current_app.config["SUBSCRIBE_LIMIT_PER_CLIENT"]


def _address_limit() -> str:
    return current_app.config["SUBSCRIBE_LIMIT_PER_ADDRESS"]


@public.route("/subscribe", methods=["GET", "POST"])
@limiter.limit(_client_limit, methods=["POST"])
@limiter.limit(_address_limit, methods=["POST"], key_func=_address_key)
def subscribe():
    agencies = agencies_with_services()
    form = _with_choices(SubscribeForm(), agencies)
    if form.validate_on_submit():
        # Say everything that is wrong at once: the address and the choice are checked apart.
        problems = []
        for check in (lambda: normalise_address(form.email.data), _choice(form).check):
            try:
                check()
            except SubscriptionError as error:
                problems.append(error)
        if not problems:
            request_subscription(form.email.data, _choice(form))
            return redirect(url_for("public.check_your_email"))
        for error in problems:
            form.add_error(error.field, error.message)
    status = 400 if form.is_submitted() else 200
    return render_template("public/subscribe.html", form=form, agencies=agencies), status


def too_many_subscriptions(error):
    """A 429 on the subscribe form keeps what was typed and says when to try again."""
    agencies = agencies_with_services()
    form = _with_choices(SubscribeForm(), agencies)
    form.form_errors.append(
        "Too many subscription requests from here or for this address. Try again in an hour."
    )
    return render_template("public/subscribe.html", form=form, agencies=agencies), 429


@public.get("/subscribe/check-your-email")
def check_your_email():
    return render_template("public/subscribe_sent.html")


@public.route(
    "/subscribe/confirm/<token>", methods=["GET", "POST"], endpoint="confirm_subscription"
)
def confirm(token: str):
    form = UnsubscribeForm()
    if form.validate_on_submit():
        try:
            subscriber = confirm_subscription(token)
        except (SubscriptionError, TokenError) as error:
            return render_template("public/subscription_problem.html", message=str(error)), 400
        return render_template("public/subscribe_confirmed.html", subscriber=subscriber)
    return render_template("public/subscribe_confirm.html", form=form)


@public.route("/subscriptions/<token>", methods=["GET", "POST"])
def manage_subscription(token: str):
    try:
        subscriber = subscriber_from_manage_token(token)
    except (SubscriptionError, TokenError) as error:
        return render_template("public/subscription_problem.html", message=str(error)), 404
    agencies = agencies_with_services()
    form = _with_choices(SubscriptionForm(), agencies)
    saved = False
    if form.validate_on_submit():
        try:
            change_subscription(subscriber, _choice(form))
            saved = True
        except SubscriptionError as error:
            form.add_error(error.field, error.message)
    elif not form.is_submitted():
        form.everything.data = subscriber.everything
        form.agencies.data = sorted(subscriber.agency_ids)
        form.services.data = sorted(subscriber.service_ids)
    status = 400 if form.is_submitted() and not saved else 200
    return render_template(
        "public/manage_subscription.html",
        form=form,
        agencies=agencies,
        subscriber=subscriber,
        token=token,
        saved=saved,
        unsubscribe_form=UnsubscribeForm(formdata=None),
    ), status


@public.get("/unsubscribe/<token>")
def unsubscribe_page(token: str):
    return render_template("public/unsubscribe.html", form=UnsubscribeForm(), token=token)


@public.post("/unsubscribe/<token>")
@csrf.exempt  # RFC 8058: mail clients POST "List-Unsubscribe=One-Click" with no form token
def unsubscribe(token: str):
    try:
        subscriber = subscriber_from_manage_token(token)
    except (SubscriptionError, TokenError):
        # Already gone, or never there: the outcome the person wants is the same.
        return render_template("public/unsubscribed.html")
    remove_subscriber(subscriber)
    return render_template("public/unsubscribed.html")
