"""Text messages: signing a number up with a code (double opt-in), and the provider's webhook
for the texts people send back (STOP, START, HELP)."""

from __future__ import annotations

from flask import Response, abort, current_app, redirect, render_template, request, session, url_for
from sqlalchemy import select

from ..catalog.queries import agencies_with_services
from ..extensions import csrf, db, limiter
from ..sms.models import SmsSubscriber
from ..sms.operations import (
    answer_inbound,
    choice_of,
    confirm_code,
    display_number,
    normalise_number,
    pending_choice,
    request_code,
    texting_summary,
)
from ..sms.provider import Forged, current_provider, is_configured
from ..subscriptions import choices
from ..subscriptions.operations import SubscriptionError
from . import public
from .forms import SmsConfirmForm, SmsSubscribeForm
from .subscriptions import _choice, _with_choices, preselect, problems_with

NUMBER_KEY = "sms_number"  # the number a code was sent to, for the page where it is typed


@public.app_template_global()
def sms_texting() -> str | None:
    """What the policy texts about, in words, when text messages are on (None when off)."""
    return (texting_summary() or None) if is_configured() else None


def _number_key() -> str:
    """Rate-limit key for the number being signed up (so one phone cannot be flooded)."""
    try:
        return "sms-number:" + normalise_number(request.form.get("number", ""))
    except SubscriptionError:
        return "sms-number:invalid"


def _sent(response) -> bool:
    return response.status_code == 302  # a code was sent


@public.route("/subscribe/sms", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["SMS_SIGNUP_LIMIT_PER_CLIENT"], methods=["POST"])
@limiter.limit(
    lambda: current_app.config["SMS_SIGNUP_LIMIT_PER_NUMBER"],
    methods=["POST"],
    key_func=_number_key,
    deduct_when=_sent,
)
@limiter.limit(
    lambda: current_app.config["SMS_SIGNUP_LIMIT_SITE"], methods=["POST"],
    key_func=lambda: "sms-signups", deduct_when=_sent,
)  # fmt: skip
def subscribe_sms():
    if not is_configured():
        return render_template("public/subscribe_sms.html", form=None), 200
    agencies = agencies_with_services()
    form = _with_choices(SmsSubscribeForm(), agencies)
    if not form.is_submitted():
        preselect(form)
    elif form.validate_on_submit():
        problems = problems_with(form, lambda f: normalise_number(f.number.data))
        if not problems:
            subscriber = request_code(form.number.data, _choice(form))
            session[NUMBER_KEY] = subscriber.number
            return redirect(url_for("public.confirm_sms"))
        for error in problems:
            form.add_error(error.field, error.message)
    status = 400 if form.is_submitted() else 200
    return _signup_page(form, agencies), status


def _signup_page(form, agencies):
    return render_template(
        "public/subscribe_sms.html", form=form, agencies=agencies, texted=texting_summary()
    )


def too_many_sms_signups(error):
    """A 429 on the sign-up form keeps what was typed and says when to try again."""
    agencies = agencies_with_services()
    form = _with_choices(SmsSubscribeForm(), agencies)
    form.form_errors.append(
        "Too many requests for codes from here or for this number. Try again in an hour."
    )
    return _signup_page(form, agencies), 429


@public.route("/subscribe/sms/confirm", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["SMS_CONFIRM_LIMIT_PER_CLIENT"], methods=["POST"])
def confirm_sms():
    if not is_configured():
        return render_template("public/subscribe_sms.html", form=None), 200
    form = SmsConfirmForm()
    if not form.is_submitted() and session.get(NUMBER_KEY):
        form.number.data = display_number(session[NUMBER_KEY])
    if form.validate_on_submit():
        try:
            subscriber = confirm_code(form.number.data, form.code.data)
        except SubscriptionError as error:
            form.add_error(error.field, error.message)
        else:
            session.pop(NUMBER_KEY, None)
            return render_template(
                "public/subscribe_sms_confirmed.html",
                number=display_number(subscriber.number),
                chosen=choices.names(choice_of(subscriber)),
            )
    status = 400 if form.is_submitted() else 200
    return render_template(
        "public/subscribe_sms_confirm.html", form=form, chosen=_waiting_names()
    ), status


def _waiting_names() -> list[str]:
    """What the code sent from this browser would add (nothing when it sent none)."""
    number = session.get(NUMBER_KEY)
    if not isinstance(number, str):
        return []
    subscriber = db.session.scalars(
        select(SmsSubscriber).where(SmsSubscriber.number == number)
    ).first()
    return [] if subscriber is None else choices.names(pending_choice(subscriber))


@public.post("/sms/inbound")
@csrf.exempt  # the provider posts here, signed with its own signature instead
def sms_inbound():
    """A text sent to our number: STOP, START or HELP get their answer; anything else none."""
    if not is_configured():
        abort(404)
    provider = current_provider()
    site_url = current_app.config["SITE_URL"].rstrip("/")
    query = request.query_string.decode("latin-1")
    url = site_url + request.path + (f"?{query}" if query else "")
    try:
        inbound = provider.inbound(url, request.form.to_dict(), request.headers)
    except Forged:
        abort(403)
    body, content_type = provider.reply(
        answer_inbound(inbound, site_url + "/", current_app.config["SITE_NAME"])
    )
    return Response(body, content_type=content_type)
