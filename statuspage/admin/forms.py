"""Admin forms. Every form is a FlaskForm (CSRF) that strips whitespace from text."""

from __future__ import annotations

from wtforms import (
    BooleanField,
    EmailField,
    PasswordField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    Optional,
    ValidationError,
)

from ..catalog.models import Service
from ..forms import BaseForm, CheckboxesField, ChoiceField, SiteDateTimeField
from ..incidents.models import PRIORITY_LABELS, UPDATE_STATUSES, Impact, Source

# Choices are {value: label} dicts, the form WTForms prefers.
PRIORITY_CHOICES = {str(p): label for p, label in PRIORITY_LABELS.items()}
IMPACT_CHOICES = {impact.value: impact.label for impact in Impact}
SOURCE_CHOICES = {source.value: source.label for source in Source}
STATUS_CHOICES = {state.value: state.label for state in UPDATE_STATUSES}


class LoginForm(BaseForm):
    email = EmailField("Email address", validators=[DataRequired("Enter your email address.")])
    password = PasswordField("Password", validators=[DataRequired("Enter your password.")])


class ActionForm(BaseForm):
    """A button that changes something: only the CSRF token travels."""


class IncidentForm(BaseForm):
    title = StringField(
        "Title",
        description="What the public will read, for example “Online tax filing unavailable”.",
        validators=[DataRequired("Enter a title."), Length(max=200)],
    )
    priority = ChoiceField(
        "Priority",
        description="P1: a critical service is down for many people. P2: a serious problem for "
        "many. P3: a problem for some, with a workaround. P4: minor; never public.",
        choices=PRIORITY_CHOICES,
        invalid_message="Choose a priority from P1 to P4.",
        validators=[InputRequired("Choose a priority from P1 to P4.")],
    )
    is_security = BooleanField("This is a security incident (never below P2)")
    made_public = BooleanField("Show this P3 incident on the public site (several reports)")
    services = CheckboxesField(
        "Affected services",
        coerce=int,
        description="Tick each affected service and choose its impact. A P1 is usually a major "
        "outage.",
        unknown_message="Unknown service: choose the affected services from the list.",
        required_message="Choose at least one affected service.",
    )
    source = SelectField("Reported by", choices=SOURCE_CHOICES)
    impact_description = TextAreaField(
        "Impact",
        description="Who is affected and how, in plain words.",
        validators=[Length(max=5000)],
    )
    detected_at = SiteDateTimeField(
        "Detected at", validators=[InputRequired("Enter when the problem was detected.")]
    )
    started_at = SiteDateTimeField(
        "Started at (if known)",
        validators=[Optional()],
        description="When the problem began, if earlier than its detection.",
    )


def incident_form(services: list[Service], **kwargs) -> IncidentForm:
    """An incident form with an impact choice for each service the user may report on."""

    class Form(IncidentForm):
        pass

    for service in services:
        setattr(
            Form,
            f"impact_{service.id}",
            SelectField(
                f"Impact on {service.name}",
                choices=IMPACT_CHOICES,
                default=Impact.PARTIAL_OUTAGE.value,
            ),
        )
    form = Form(**kwargs)
    form.services.choices = {service.id: service.name for service in services}
    return form


class UpdateForm(BaseForm):
    status = ChoiceField(
        "Status",
        choices=STATUS_CHOICES,
        invalid_message="Choose investigating, identified, monitoring or resolved.",
        validators=[InputRequired("Choose a status.")],
    )
    body = TextAreaField(
        "Message to the public",
        description="Markdown. Short sentences, everyday words.",
        validators=[DataRequired("Write what is happening for the public."), Length(max=20000)],
    )
    what_affected = TextAreaField("What is affected", validators=[Length(max=2000)])
    who_affected = TextAreaField("Who is affected", validators=[Length(max=2000)])
    affected_since = SiteDateTimeField("Since when", validators=[Optional()])
    cause = TextAreaField("Why it happened (if known)", validators=[Length(max=5000)])
    workaround = TextAreaField(
        "What people can do meanwhile",
        description="Another way to get it done, or other channels.",
        validators=[Length(max=5000)],
    )
    help = TextAreaField("How to get help", validators=[Length(max=2000)])
    next_update_at = SiteDateTimeField(
        "Next update by",
        description="Prefilled from the cadence the priority demands.",
        validators=[Optional()],
    )
    resolved_at = SiteDateTimeField(
        "Resolved at (only for a resolution, if not now)", validators=[Optional()]
    )


class AssignForm(BaseForm):
    assignee = SelectField("Assigned to", choices={}, validate_choice=False)

    def validate_assignee(self, field):
        if field.data not in self.assignee.choices:
            raise ValidationError("Choose someone from the list.")


class DecisionForm(BaseForm):
    note = TextAreaField(
        "Note", description="Required when you refuse.", validators=[Length(max=2000)]
    )


class TemplateForm(BaseForm):
    name = StringField("Name", validators=[DataRequired("Enter a name."), Length(max=100)])
    status = ChoiceField(
        "Status it sets", choices=STATUS_CHOICES, invalid_message="Choose a status."
    )
    body = TextAreaField(
        "Message",
        description="Placeholders: $title $services $agency $ref $detected $since "
        "$next_update $incident_url",
        validators=[DataRequired("Write the message."), Length(max=20000)],
    )
    what_affected = TextAreaField("What is affected", validators=[Length(max=2000)])
    who_affected = TextAreaField("Who is affected", validators=[Length(max=2000)])
    cause = TextAreaField("Why it happened", validators=[Length(max=5000)])
    workaround = TextAreaField("What people can do meanwhile", validators=[Length(max=5000)])
    help = TextAreaField("How to get help", validators=[Length(max=2000)])


class JargonForm(BaseForm):
    term = StringField(
        "Word or phrase", validators=[DataRequired("Enter the word."), Length(max=100)]
    )
    plainer = StringField(
        "Plainer words", validators=[DataRequired("Enter plainer words."), Length(max=200)]
    )


class PriorityForm(BaseForm):
    priority = ChoiceField(
        "New priority", choices=PRIORITY_CHOICES, invalid_message="Choose a priority from P1 to P4."
    )
    reason = TextAreaField(
        "Reason", validators=[DataRequired("Say why the priority changes."), Length(max=2000)]
    )


class WebhookForm(BaseForm):
    name = StringField("Partner name", validators=[DataRequired("Enter a name."), Length(max=200)])
    url = StringField(
        "Web address (URL)",
        description="https:// and a public address. We POST signed JSON to it.",
        validators=[DataRequired("Enter the web address."), Length(max=2000)],
    )
    agency = SelectField("Events from", choices={}, validate_choice=False)

    def validate_agency(self, field):
        if field.data not in field.choices:
            raise ValidationError("Choose from the list.")


class MaintenanceForm(BaseForm):
    title = StringField("Title", validators=[DataRequired("Enter a title."), Length(max=200)])
    services = CheckboxesField(
        "Services",
        coerce=int,
        unknown_message="Choose services from the list.",
        required_message="Choose at least one service.",
    )
    starts_at = SiteDateTimeField("Starts", validators=[InputRequired("Enter when it starts.")])
    ends_at = SiteDateTimeField("Ends", validators=[InputRequired("Enter when it ends.")])
    description = TextAreaField(
        "What people should know",
        description="What will not work, and what to do instead.",
        validators=[Length(max=5000)],
    )
