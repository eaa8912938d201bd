"""The history filter: a GET form, so no CSRF token (it changes nothing)."""

from __future__ import annotations

import re

from wtforms import Form, SelectField, StringField
from wtforms.validators import Optional, Regexp, ValidationError

MONTH_PATTERN = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


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
