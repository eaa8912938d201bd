"""Subscribing by email: double opt-in, a manage page behind a signed link, one-click unsubscribe."""

from __future__ import annotations

from flask import current_app, redirect, render_template, request, url_for

from ..catalog.queries import agencies_with_services
from ..extensions import csrf, limiter
from ..subscriptions import choices
from ..subscriptions.operations import (
    Choice,
    SubscriptionError,
    addition_from_token,
    change_subscription,
    confirm_addition,
    confirm_subscription,
    normalise_address,
    request_subscription,
    subscriber_from_confirm_token,
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


def preselect(form: SubscriptionForm) -> Choice:
    """From a page's "Get updates": `?service=<slug>` (repeated) and `?agency=<slug>` tick those
    boxes; a slug that names nothing is ignored."""
    preselected = choices.from_args(request.args)
    form.everything.data = preselected.everything
    form.agencies.data = sorted(preselected.agency_ids)
    form.services.data = sorted(preselected.service_ids)
    return preselected


def problems_with(form: SubscriptionForm, check_contact) -> list[SubscriptionError]:
    """Everything wrong at once: the address (or number) and the choice are checked apart."""
    problems = []
    for check in (lambda: check_contact(form), _choice(form).check):
        try:
            check()
        except SubscriptionError as error:
            problems.append(error)
    return problems


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
    preselected = None if form.is_submitted() else preselect(form)
    if form.validate_on_submit():
        problems = problems_with(form, lambda f: normalise_address(f.email.data))
        if not problems:
            request_subscription(form.email.data, _choice(form))
            # The same answer whether or not the address was known: it names only the choice.
            return redirect(url_for("public.check_your_email", **choices.as_args(_choice(form))))
        for error in problems:
            form.add_error(error.field, error.message)
    status = 400 if form.is_submitted() else 200
    return render_template(
        "public/subscribe.html",
        form=form,
        agencies=agencies,
        chosen=_chosen_names(form, preselected),
    ), status


def _chosen_names(form: SubscriptionForm, preselected: Choice | None) -> list[str]:
    """What the form arrived with, named, for the short form ("Get updates about ..."): from a
    page's link, or what was ticked when the form came back with a problem."""
    if preselected is not None:
        return choices.names(preselected)
    known_agencies, known_services = set(form.agencies.choices), set(form.services.choices)
    return choices.names(
        Choice(
            everything=bool(form.everything.data),
            agency_ids={i for i in form.agencies.data or [] if i in known_agencies},
            service_ids={i for i in form.services.data or [] if i in known_services},
        )
    )


def too_many_subscriptions(error):
    """A 429 on the subscribe form keeps what was typed and says when to try again."""
    agencies = agencies_with_services()
    form = _with_choices(SubscribeForm(), agencies)
    chosen = _chosen_names(form, None)
    form.form_errors.append(
        "Too many subscription requests from here or for this address. Try again in an hour."
    )
    return render_template(
        "public/subscribe.html", form=form, agencies=agencies, chosen=chosen
    ), 429


@public.get("/subscribe/check-your-email")
def check_your_email():
    chosen = choices.from_args(request.args)
    return render_template(
        "public/subscribe_sent.html",
        chosen=choices.names(chosen),
        again_url=url_for("public.subscribe", **choices.as_args(chosen)),
    )


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
        return _confirmed(subscriber, "You are subscribed")
    return render_template(
        "public/subscribe_confirm.html",
        form=form,
        heading="Confirm your subscription",
        chosen=_pending_names(token),
        button="Yes, send me updates",
    )


@public.route(
    "/subscribe/add/<token>", methods=["GET", "POST"], endpoint="confirm_addition"
)
def add(token: str):
    """The link in the "confirm adding" email: a second sign-up's choices join the first's."""
    form = UnsubscribeForm()
    try:
        subscriber, addition = addition_from_token(token)
    except (SubscriptionError, TokenError) as error:
        return render_template("public/subscription_problem.html", message=str(error)), 400
    if form.validate_on_submit():
        confirm_addition(subscriber, addition)
        return _confirmed(subscriber, "Your updates now include your new choices")
    adding = Choice(addition.everything, set(addition.agency_ids), set(addition.service_ids))
    return render_template(
        "public/subscribe_confirm.html",
        form=form,
        heading="Confirm adding to your updates",
        chosen=choices.names(adding),
        button="Yes, add " + ("it" if len(choices.names(adding)) == 1 else "them"),
    )


def _confirmed(subscriber, heading: str):
    return render_template(
        "public/subscribe_confirmed.html",
        subscriber=subscriber,
        heading=heading,
        chosen=choices.names(choices.of_subscriber(subscriber)),
    )


def _pending_names(token: str) -> list[str]:
    """What a confirmation link would confirm, to show before the button (nothing when the link
    is broken: pressing the button then says why)."""
    try:
        subscriber = subscriber_from_confirm_token(token)
    except (SubscriptionError, TokenError):
        return []
    return choices.names(choices.of_subscriber(subscriber))


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
