"""Public forms: the history filter (a GET form, no CSRF: it changes nothing) and subscribing."""

from __future__ import annotations

from wtforms import BooleanField, Form, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional, Regexp, ValidationError

from ..forms import MONTH_PATTERN, BaseForm, CheckboxesField, month_within_years


class HistoryFilterForm(Form):
    agency = SelectField("Agency", choices={}, validate_choice=False)
    service = SelectField("Service", choices={}, validate_choice=False)
    priority = SelectField(
        "Priority",
        choices={"": "Any priority", "1": "P1 Critical", "2": "P2 High", "3": "P3 Medium"},
        validate_choice=False,
    )
    month = StringField(
        "Month",
        description="Year and month, for example 2026-03",
        validators=[
            Optional(),
            Regexp(MONTH_PATTERN, message="Enter a month as year-month, for example 2026-03."),
            month_within_years,
        ],
    )

    def validate_priority(self, field):
        if field.data and field.data not in {"1", "2", "3"}:
            raise ValidationError("Choose a priority from the list.")

    def _check_choice(self, field, what: str):
        if field.data and field.data not in field.choices:
            raise ValidationError(f"There is no {what} called {field.data!r}.")

    def validate_agency(self, field):
        self._check_choice(field, "agency")

    def validate_service(self, field):
        self._check_choice(field, "service")


class SubscriptionForm(BaseForm):
    """What to follow: everything, whole agencies, or single services."""

    everything = BooleanField("Everything: all agencies and services")
    agencies = CheckboxesField(
        "Whole agencies",
        coerce=int,
        unknown_message="Choose agencies from the list.",
        required_message="",
        validators=[Optional()],
    )
    services = CheckboxesField(
        "Single services",
        coerce=int,
        unknown_message="Choose services from the list.",
        required_message="",
        validators=[Optional()],
    )


class SubscribeForm(SubscriptionForm):
    email = StringField(
        "Email address",
        description="We send a link to confirm it. We never share it.",
        validators=[DataRequired("Enter your email address."), Length(max=254)],
        render_kw={"type": "email", "autocomplete": "email", "spellcheck": "false"},
    )


class UnsubscribeForm(BaseForm):
    """Only the CSRF token: the link itself says who you are."""


class SmsSubscribeForm(SubscriptionForm):
    number = StringField(
        "Mobile number",
        description="We text you a 6-digit code to confirm it. We never share it.",
        validators=[
            DataRequired("Enter your mobile number."),
            Length(max=30, message="Enter a mobile number of at most 30 characters."),
        ],
        render_kw={"type": "tel", "autocomplete": "tel", "spellcheck": "false"},
    )


class SmsConfirmForm(BaseForm):
    number = StringField(
        "Mobile number",
        validators=[
            DataRequired("Enter your mobile number."),
            Length(max=30, message="Enter a mobile number of at most 30 characters."),
        ],
        render_kw={"type": "tel", "autocomplete": "tel", "spellcheck": "false"},
    )
    code = StringField(
        "Code",
        description="The 6 digits in the text message we sent.",
        validators=[
            DataRequired("Enter the 6-digit code from the text message."),
            Length(max=20, message="Enter the 6-digit code from the text message."),
        ],
        render_kw={"inputmode": "numeric", "autocomplete": "one-time-code", "spellcheck": "false"},
    )
