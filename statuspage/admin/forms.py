"""Admin forms. Every form is a FlaskForm (CSRF) that strips whitespace from text."""

from __future__ import annotations

from wtforms import (
    BooleanField,
    EmailField,
    FieldList,
    Form,
    FormField,
    HiddenField,
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
    Regexp,
    ValidationError,
)

from ..catalog.models import Service
from ..forms import (
    MONTH_PATTERN,
    BaseForm,
    CheckboxesField,
    ChoiceField,
    SiteDateTimeField,
    month_within_years,
)
from ..incidents.models import PRIORITY_LABELS, UPDATE_STATUSES, Impact, Source
from ..internal.models import Triage
from ..reports.actions import CATEGORY_LABELS, EFFECTIVENESS_LABELS, LEVEL_LABELS
from ..reports.models import FISHBONE_BONES, ActionStatus, RootCause
from ..reports.reviews import NUMBERS, ReviewError, whole_number
from ..reports.timeline import MAX_ENTRIES

# Choices are {value: label} dicts, the form WTForms prefers.
PRIORITY_CHOICES = {str(p): label for p, label in PRIORITY_LABELS.items()}
IMPACT_CHOICES = {impact.value: impact.label for impact in Impact}
# A new incident's impact may be left to the policy's default for the priority chosen.
DEFAULT_IMPACT = ""
LEVEL_CHOICES = {"high": "High", "medium": "Medium", "low": "Low"}
SOURCE_CHOICES = {source.value: source.label for source in Source}
STATUS_CHOICES = {state.value: state.label for state in UPDATE_STATUSES}
ACTION_STATUS_CHOICES = {status.value: status.label for status in ActionStatus}
ROOT_CAUSE_CHOICES = {cause.value: cause.label for cause in RootCause}


class LoginForm(BaseForm):
    email = EmailField("Email address", validators=[DataRequired("Enter your email address.")])
    password = PasswordField("Password", validators=[DataRequired("Enter your password.")])


class ActionForm(BaseForm):
    """A button that changes something: only the CSRF token travels."""


class ScopeForm(BaseForm):
    """The title and the affected services with each one's impact (impact_<id> fields are added
    per service by ``with_services``)."""

    title = StringField(
        "Title",
        description="What the public will read, for example “Online tax filing unavailable”.",
        validators=[DataRequired("Enter a title."), Length(max=200)],
    )
    services = CheckboxesField(
        "Affected services",
        coerce=int,
        unknown_message="Unknown service: choose the affected services from the list.",
        required_message="Keep at least one affected service.",
    )


class IncidentForm(ScopeForm):
    urgency = ChoiceField(
        "Urgency",
        choices=LEVEL_CHOICES,
        invalid_message="Choose high, medium or low urgency.",
        validators=[Optional()],
    )
    reach = ChoiceField(
        "Impact: how many people, how critical",
        choices=LEVEL_CHOICES,
        invalid_message="Choose high, medium or low impact.",
        validators=[Optional()],
    )
    priority = ChoiceField(
        "Priority",
        choices=PRIORITY_CHOICES,
        invalid_message="Choose a priority from P1 to P4.",
        validators=[Optional()],
    )
    is_security = BooleanField("This is a security incident")
    made_public = BooleanField("Make this incident public with its first update")
    is_exercise = BooleanField(
        "This is an exercise (drill)",
        description="The same forms, clock, reminders and internal messages, marked EXERCISE; "
        "never public, never sent to subscribers or webhooks, left out of the reports.",
    )
    coordinator = SelectField(
        "Coordinator (for a shared platform)",
        description="When a shared platform (identity, payments…) fails, the services of other "
        "agencies that depend on it are added and the incident is shared: the Chief Digital "
        "Officer or a site administrator coordinates it.",
        choices={},
        validate_choice=False,
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


def with_services(form_class, services: list[Service], *, default_choice: bool = False):
    """The form class with an impact choice for each service (``impact_<service id>``); a new
    incident may leave it to the priority's default."""
    choices = {DEFAULT_IMPACT: "Default for the priority", **IMPACT_CHOICES} if default_choice \
        else IMPACT_CHOICES  # fmt: skip

    class Form(form_class):
        pass

    for service in services:
        setattr(
            Form,
            f"impact_{service.id}",
            SelectField(
                f"Impact on {service.name}",
                choices=choices,
                default=DEFAULT_IMPACT if default_choice else Impact.PARTIAL_OUTAGE.value,
                validate_choice=True,
            ),
        )
    return Form


def incident_form(services: list[Service], **kwargs) -> IncidentForm:
    """An incident form with an impact choice for each service the user may report on."""
    form = with_services(IncidentForm, services, default_choice=True)(**kwargs)
    form.services.choices = {service.id: service.name for service in services}
    form.coordinator.choices = {"": "Nobody (not a shared platform)"}
    form.services.required_message = "Choose at least one affected service."
    return form


def scope_form(services: list[Service], **kwargs) -> ScopeForm:
    form = with_services(ScopeForm, services)(**kwargs)
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
    next_update_at = SiteDateTimeField("Next update by", validators=[Optional()])
    expected_resolution_at = SiteDateTimeField(
        "Expected to be fixed by (if known)",
        description="Shown to the public; if it passes, the page says the fix is taking longer "
        "than expected. Leave empty when you do not know.",
        validators=[Optional()],
    )
    resolved_at = SiteDateTimeField(
        "Resolved at (only for a resolution, if not now)", validators=[Optional()]
    )
    make_public = BooleanField("Make this incident public with this update")


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
    message = TextAreaField(
        "Public message to post with the change (optional)",
        description="Markdown, for citizens. If the new priority makes the incident public, this "
        "is its first public update and subscribers are emailed. Left empty, the incident stays "
        "off the public site until you post one, and the first-update deadline runs from now.",
        validators=[Length(max=20000)],
    )


class HideForm(BaseForm):
    reason = TextAreaField(
        "Why take it off the public site",
        validators=[DataRequired("Say why the incident is taken off the public site."),
                    Length(max=2000)],
    )  # fmt: skip


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


class ActionRowForm(Form):
    """One preventive action; a row left wholly blank is ignored."""

    description = TextAreaField("What will be done", validators=[Length(max=2000)])
    owner = StringField("Owner", description="A named person or team.",
                        validators=[Length(max=200)])  # fmt: skip
    due_on = StringField("Due date", render_kw={"type": "date"})
    # Checked with the rest of the row (reviews.check_actions), so a row fails with one message.
    status = SelectField(
        "Status", choices=ACTION_STATUS_CHOICES, default="open", validate_choice=False
    )
    category = SelectField("Category", choices={"": "Choose a category", **CATEGORY_LABELS},
                           validate_choice=False)  # fmt: skip
    impact = SelectField(
        "Impact",
        description="How much it lowers the chance or the harm of a repeat.",
        choices={"": "Choose the impact", **LEVEL_LABELS},
        validate_choice=False,
    )
    effort = SelectField(
        "Effort",
        description="How much work it takes. Impact and effort give the action's priority.",
        choices={"": "Choose the effort", **LEVEL_LABELS},
        validate_choice=False,
    )
    # The action this row updates (empty for a new one): its completion and check are kept.
    id = HiddenField()


class ContributorRowForm(Form):
    """Someone who took part in the review; a row left wholly blank is ignored."""

    name = StringField("Name", validators=[Length(max=200)])
    role = StringField(
        "Role in the review",
        description="For example Facilitator, Incident commander, Scribe, Service owner.",
        validators=[Length(max=200)],
    )


def _whole_number(form, field) -> None:
    """The typed text stays in the field; the message says what a number here looks like."""
    try:
        whole_number(field.data or "", NUMBERS[field.name])
    except ReviewError as error:
        raise ValidationError(error.message) from None


SECTION = [Length(max=20_000)]
WHY = [Length(max=1000)]
TIMELINE_TOO_LONG = "The timeline is too long: keep it to the moments that matter."
BONE_HINTS = {
    "people": "Skills, staffing, handovers, how people talked to each other.",
    "process": "Procedures, checklists, approvals, runbooks.",
    "technology": "Software, hardware, configuration, monitoring.",
    "external": "Suppliers, networks, outside demand, anything beyond the agency's control.",
}


class ReviewForm(BaseForm):
    summary = TextAreaField(
        "Executive summary",
        description="Two or three sentences a citizen can read on their own: what went wrong, "
        "for whom, for how long.",
        validators=SECTION,
    )
    timeline = TextAreaField(
        "Timeline",
        description="One line per moment: the date, the time in the site's time zone (with EST "
        "or EDT when the clocks changed), then what happened. Before the text, “[internal]” keeps "
        "a moment off the public report and “[by Name]” says who did it (never published), for "
        "example: 2026-11-23 09:05 EST  [internal] [by Ana Diaz] Priority raised to P1. "
        "Prefilled from the incident's record; edit it freely.",
        validators=[Length(max=MAX_ENTRIES * 300, message=TIMELINE_TOO_LONG)],
        render_kw={"rows": 14},
    )
    people_affected = TextAreaField("People affected", validators=SECTION)
    people_affected_count = StringField(
        "Number of people affected (optional)",
        description="A whole number, beside the words above, for example 3000.",
        validators=[_whole_number],
        render_kw={"inputmode": "numeric", "autocomplete": "off"},
    )
    downtime_cost = StringField(
        "Cost of downtime (optional)",
        description="An estimate in whole units of the agency's own currency, without a symbol, "
        "for example 25000. It counts in the monthly figures.",
        validators=[_whole_number],
        render_kw={"inputmode": "numeric", "autocomplete": "off"},
    )
    duration = StringField("Duration", validators=[Length(max=500)])
    transactions_lost = TextAreaField(
        "Transactions lost (if any)",
        description="For example applications that could not be submitted.",
        validators=SECTION,
    )
    root_cause = TextAreaField(
        "Root cause", description="In plain language, without jargon.", validators=SECTION
    )
    root_cause_category = SelectField(
        "Root cause category", choices={"": "Choose a category", **ROOT_CAUSE_CHOICES}
    )
    contributing_factors = TextAreaField(
        "Contributing factors",
        description="What else made it happen, last longer or hurt more, beside the root cause.",
        validators=SECTION,
    )
    why_1 = StringField("Why 1: why did the problem happen?", validators=WHY)
    why_2 = StringField("Why 2: why did that happen?", validators=WHY)
    why_3 = StringField("Why 3", validators=WHY)
    why_4 = StringField("Why 4", validators=WHY)
    why_5 = StringField("Why 5", validators=WHY)
    fishbone_people = TextAreaField(
        FISHBONE_BONES["people"], description=BONE_HINTS["people"], validators=SECTION
    )
    fishbone_process = TextAreaField(
        FISHBONE_BONES["process"], description=BONE_HINTS["process"], validators=SECTION
    )
    fishbone_technology = TextAreaField(
        FISHBONE_BONES["technology"], description=BONE_HINTS["technology"], validators=SECTION
    )
    fishbone_external = TextAreaField(
        FISHBONE_BONES["external"], description=BONE_HINTS["external"], validators=SECTION
    )
    resolution = TextAreaField("How it was fixed", validators=SECTION)
    went_well = TextAreaField("What went well", validators=SECTION)
    went_wrong = TextAreaField("What went wrong", validators=SECTION)
    lessons = TextAreaField("Lessons learned", validators=SECTION)
    apology = TextAreaField("Apology", validators=SECTION)
    correction_note = TextAreaField(
        "What this correction changes",
        description="Shown with the corrected report, dated.",
        validators=[Length(max=2000)],
    )
    actions = FieldList(FormField(ActionRowForm), min_entries=0)
    contributors = FieldList(FormField(ContributorRowForm), min_entries=0)

    def errors_in_actions(self) -> bool:
        return any(field.errors for entry in self.actions for field in entry.form)

    def errors_in_contributors(self) -> bool:
        return any(field.errors for entry in self.contributors for field in entry.form)

    @property
    def whys(self) -> list:
        return [self[f"why_{number}"] for number in range(1, 6)]

    @property
    def bones(self) -> dict:
        return {key: self[f"fishbone_{key}"] for key in FISHBONE_BONES}


class EffectivenessForm(BaseForm):
    """The check of a completed preventive action: did it work?"""

    result = ChoiceField(
        "Was the action effective?",
        choices=EFFECTIVENESS_LABELS,
        invalid_message="Choose whether the action was effective.",
    )
    note = TextAreaField(
        "What did not work",
        description="Needed when the action was partly effective or not effective.",
        validators=[Length(max=2000)],
    )


class MonthlyDraftForm(BaseForm):
    scope = SelectField("Report for")
    month = StringField(
        "Month",
        description="Year and month, for example 2026-10.",
        validators=[
            DataRequired("Enter the month, for example 2026-10."),
            Regexp(
                MONTH_PATTERN, message="Enter the month as year and month, for example 2026-10."
            ),
            month_within_years,
        ],
    )


class MonthlyPublishForm(BaseForm):
    commentary = TextAreaField(
        "Notes and lessons from the agency (optional)",
        description="Published with the figures, in Markdown. The figures are computed again "
        "when you publish and then never change.",
        validators=[Length(max=20_000)],
    )


class TriageForm(BaseForm):
    """Close an incident that turned out not to be one (incidents.triage)."""

    outcome = ChoiceField(
        "How it ended",
        choices={triage.value: triage.label for triage in Triage},
        invalid_message="Choose duplicate, false alarm or service request.",
        validators=[InputRequired("Choose how it ended.")],
    )
    duplicate_of = StringField(
        "Original incident (for a duplicate)",
        description="Its reference, for example INC-2026-1123-001, of the same agency.",
        validators=[Length(max=40)],
    )
    note = TextAreaField(
        "Note",
        description="Why it ends this way; kept in the audit log.",
        validators=[DataRequired("Write a note: why it ends this way."), Length(max=2000)],
    )
