"""Form pieces every form shares: CSRF and whitespace stripping, choice fields whose errors say
what to do, and a datetime-local field read in the site's time zone."""

from __future__ import annotations

import re

from datetime import UTC, date

from flask_wtf import FlaskForm
from wtforms import (
    DateTimeLocalField,
    FieldList,
    FormField,
    RadioField,
    SelectMultipleField,
    widgets,
)
from wtforms.validators import StopValidation, ValidationError

from .characters import normalise_line_ends, refusal
from .date_range import YEARS, within
from .timefmt import local_input_value, site_zone


# A calendar month as typed in forms and URLs: 2026-03 (no year 0, no month 13).
MONTH_PATTERN = re.compile(r"^[1-9]\d{3}-(0[1-9]|1[0-2])$")


def month_within_years(form, field) -> None:
    """A validator after Regexp(MONTH_PATTERN): the month's year must be one people may type."""
    if not (field.data and MONTH_PATTERN.match(field.data)):
        return
    if not within(date(int(field.data[:4]), 1, 1)):
        raise ValidationError(f"Enter a month {YEARS}, for example 2026-03.")


def _strip(value):
    return normalise_line_ends(value).strip() if isinstance(value, str) else value


class BaseForm(FlaskForm):
    class Meta:
        def bind_field(self, form, unbound_field, options):
            filters = unbound_field.kwargs.get("filters", [])
            if issubclass(unbound_field.field_class, (FieldList, FormField)):
                pass  # lists and sub-forms take no filters: their fields are stripped where read
            elif _strip not in filters:
                unbound_field.kwargs["filters"] = [_strip, *filters]
            return unbound_field.bind(form=form, **options)

    def validate(self, extra_validators=None) -> bool:
        """The fields' own rules, then control characters refused in every text field, sub-forms
        and lists included (one character in a title would break every feed)."""
        valid = super().validate(extra_validators)
        for field in _leaf_fields(self):
            if not isinstance(field.data, str):
                continue
            field.data = normalise_line_ends(field.data)
            message = refusal(field.data, str(field.label.text))
            if message and message not in field.errors:
                field.errors = [message, *field.errors]
                valid = False
        return valid

    def add_error(self, field_name: str | None, message: str) -> None:
        """Attach a rule's message to its field, or to the form when it names none."""
        if field_name and field_name in self:
            self[field_name].errors = [*self[field_name].errors, message]
        else:
            self.form_errors.append(message)


def _leaf_fields(form):
    for field in form:
        if isinstance(field, FormField):
            yield from _leaf_fields(field.form)
        elif isinstance(field, FieldList):
            for entry in field.entries:
                yield from _leaf_fields(entry.form) if isinstance(entry, FormField) else [entry]
        else:
            yield field


class SiteDateTimeField(DateTimeLocalField):
    """A datetime-local input read in the site's time zone and stored as aware UTC."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("format", ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"])
        super().__init__(*args, **kwargs)

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        if self.data is not None and not within(self.data):
            self.data = None  # 9999-12-31T23:59 would overflow in UTC, or in the deadlines after
            raise ValueError(f"Enter a date and time {YEARS}.")
        if self.data is not None and self.data.tzinfo is None:
            self.data = self.data.replace(tzinfo=site_zone()).astimezone(UTC)

    def _value(self):
        if self.raw_data:
            return " ".join(self.raw_data)
        return local_input_value(self.data)


class CheckboxesField(SelectMultipleField):
    """Checkboxes; a value that is not among the choices gets ``unknown_message``."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()

    def __init__(
        self,
        *args,
        unknown_message: str = "Choose from the list.",
        required_message: str = "Choose at least one.",
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.unknown_message = unknown_message
        self.required_message = required_message

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            self.data = []
            raise ValueError(self.unknown_message) from None

    def pre_validate(self, form):
        if self.process_errors:
            raise StopValidation()  # the unknown value's message is already there
        if not self.data:
            raise StopValidation(self.required_message)
        known = set(self.choices)
        if any(value not in known for value in self.data):
            raise StopValidation(self.unknown_message)


class ChoiceField(RadioField):
    """Radio buttons whose error for an unlisted value says what to do."""

    def __init__(self, *args, invalid_message: str = "Choose from the list.", **kwargs):
        super().__init__(*args, **kwargs)
        self.invalid_message = invalid_message

    def pre_validate(self, form):
        if self.data not in self.choices:
            raise ValidationError(self.invalid_message)
