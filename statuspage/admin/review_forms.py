"""The review's process forms: the meeting, and the approver's request for changes."""

from __future__ import annotations

from wtforms import IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

from ..forms import BaseForm, CheckboxesField, SiteDateTimeField
from ..reports.meetings import LONGEST, PLACE_LIMIT, SHORTEST
from ..reports.reviews import CHANGES_NOTE_LIMIT


class MeetingForm(BaseForm):
    at = SiteDateTimeField("When", validators=[InputRequired("Enter the meeting's date and time.")])
    minutes = IntegerField(
        "Length in minutes",
        default=60,
        validators=[
            InputRequired("Enter how long the meeting lasts, in minutes."),
            NumberRange(SHORTEST, LONGEST, f"A meeting lasts {SHORTEST} to {LONGEST} minutes."),
        ],
    )
    place = StringField(
        "Where",
        description="A room, or a call link starting with https://.",
        validators=[DataRequired("Say where the meeting is: a room or a call link."),
                    Length(max=PLACE_LIMIT)],  # fmt: skip
    )
    facilitator = SelectField(
        "Facilitator",
        coerce=int,
        description="Someone who did not lead the response: not the assignee, the coordinator or "
        "the incident commander.",
        validate_choice=False,  # an unknown person is refused by the rule, with its message
    )
    invitees = CheckboxesField(
        "Invite",
        coerce=int,
        unknown_message="Invite people from the agency's staff.",
        required_message="Invite at least one person.",
    )
    late_reason = TextAreaField(
        "Why later than the policy asks (only when it is)",
        validators=[Length(max=2000)],
    )


class ChangesForm(BaseForm):
    note = TextAreaField(
        "What needs to change",
        description="Sent to the report's writers and shown on the review page until they save.",
        validators=[DataRequired("Say what needs to change."), Length(max=CHANGES_NOTE_LIMIT)],
    )
