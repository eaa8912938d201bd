"""Forms for agencies and services. Each reads what was typed into the details the catalog's
operations take; the operations decide what is allowed."""

from __future__ import annotations

import math

from wtforms import BooleanField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import (
    DataRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)

from ..catalog.models import TIER_AVAILABILITY_TARGETS, Agency, Service
from ..catalog.operations import SLUG, SLUG_HINT, AgencyDetails, ServiceDetails, platforms_of
from ..forms import BaseForm, CheckboxesField, ChoiceField
from ..policy import Policy


class WholeNumberField(IntegerField):
    """A whole number whose error says what to type; what was typed stays in the box."""

    def __init__(self, *args, invalid_message: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.invalid_message = invalid_message

    def process_formdata(self, valuelist):
        if valuelist and not valuelist[0].strip():
            self.data = None
            return
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(self.invalid_message) from None


class PercentField(StringField):
    """A percentage such as 99.9 (a trailing % is fine); empty is None."""

    def process_formdata(self, valuelist):
        self.raw_data = valuelist
        text = (valuelist[0] if valuelist else "").strip().removesuffix("%").strip()
        if not text:
            self.data = None
            return
        try:
            value = float(text) if len(text) <= 20 else math.nan
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            self.data = None
            raise ValueError("Enter the availability target as a number, for example 99.9.")
        self.data = value

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return "" if self.data is None else f"{self.data:g}"


class PlatformsField(CheckboxesField):
    """Checkboxes that may all be left empty."""

    def pre_validate(self, form):
        if self.data or self.process_errors:
            super().pre_validate(form)


# The operations check the slug too; the form says so alongside any other mistake.
SLUG_VALIDATORS = [
    DataRequired("Enter the web address name (slug)."),
    Regexp(SLUG, message=f"Use {SLUG_HINT}, at most 80 characters."),
    Length(max=80, message=f"Use {SLUG_HINT}, at most 80 characters."),
]
ORDER_HINT = "Lower numbers come first on the public pages; equal numbers go by name."
DISPLAY_ORDER = dict(
    validators=[Optional(), NumberRange(0, 100_000, "Enter a whole number from 0 to 100000.")],
    invalid_message="Enter a whole number, for example 10.",
    description=ORDER_HINT,
)


class AgencyForm(BaseForm):
    name = StringField(
        "Name", validators=[DataRequired("Enter the agency's name."), Length(max=200)]
    )
    slug = StringField(
        "Web address name (slug)",
        description=f"Its public address is /agencies/<slug>: {SLUG_HINT}. It cannot change "
        "once the agency has public history.",
        validators=SLUG_VALIDATORS,
    )
    description = TextAreaField(
        "Public description",
        description="Plain text, shown under the agency's name on its public page.",
        validators=[Length(max=2000)],
    )
    display_order = WholeNumberField("Display order", **DISPLAY_ORDER)
    hashtags = StringField(
        "Hashtags for social media",
        description="Added to every social media post about the agency's incidents, for example "
        "#RevenueAgency #TaxDay. At most 5.",
        validators=[Length(max=300)],
    )

    def details(self) -> AgencyDetails:
        return AgencyDetails(
            name=self.name.data,
            slug=self.slug.data,
            description=self.description.data or "",
            display_order=self.display_order.data or 0,
            hashtags=self.hashtags.data or "",
        )


def tier_choices(policy: Policy) -> dict[str, str]:
    """Each tier with what it means for the P1 target resolution, from the policy table."""
    p1 = policy[1]
    return {
        "1": f"Tier 1, most critical (a P1 is to be resolved within {p1.target_resolution_tier1})",
        "2": f"Tier 2 (a P1 within {p1.target_resolution_other_tiers})",
        "3": "Tier 3",
        "4": "Tier 4, least critical",
    }


class ServiceForm(BaseForm):
    agency = SelectField("Agency", choices={}, validate_choice=False)
    name = StringField(
        "Name", validators=[DataRequired("Enter the service's name."), Length(max=200)]
    )
    slug = StringField(
        "Web address name (slug)",
        description=f"Its public address is /services/<slug>: {SLUG_HINT}. It cannot change "
        "once the service has public history.",
        validators=SLUG_VALIDATORS,
    )
    tier = ChoiceField("Tier", choices={}, invalid_message="Choose a tier from 1 to 4.")
    availability_target = PercentField(
        "Availability target (%)",
        description="The share of each month without a major outage the agency promises, for "
        "example 99.9. Leave it empty for the tier's default: "
        + ", ".join(f"{target:g}% for tier {tier}"
                    for tier, target in TIER_AVAILABILITY_TARGETS.items()) + ".",
    )  # fmt: skip
    group_name = StringField(
        "Group",
        description="A heading the admin lists it under, for example Payments. The public pages "
        "list services by agency and do not show it.",
        validators=[Length(max=100)],
    )
    description = TextAreaField(
        "Public description",
        description="Plain text, shown under the service's name on its public page.",
        validators=[Length(max=2000)],
    )
    display_order = WholeNumberField("Display order", **DISPLAY_ORDER)
    depends_on = PlatformsField(
        "Shared platforms it relies on",
        description="An incident logged on a platform affects this service too.",
        coerce=int,
        unknown_message="Choose platforms from the list.",
    )
    follows_monitoring = BooleanField(
        "Follow its monitoring alerts",
        description="A firing Alertmanager alert on this service sets its monitoring status "
        "(degraded performance on a warning, major outage on a critical alert), shown to staff, "
        "and the draft incident the alert opens carries that impact. The public sees it only "
        "when a communications lead publishes the incident.",
    )

    def __init__(self, *args, agencies: list[Agency], platforms: list[Service], policy: Policy,
                 service: Service | None = None, **kwargs):  # fmt: skip
        super().__init__(*args, **kwargs)
        self._agencies = {str(agency.id): agency for agency in agencies}
        self.agency.choices = {key: agency.name for key, agency in self._agencies.items()}
        self._platforms = {p.id: p for p in platforms if service is None or p.id != service.id}
        self.depends_on.choices = {
            p.id: f"{p.name} ({p.agency.name})" for p in self._platforms.values()
        }
        self.tier.choices = tier_choices(policy)
        if service is not None:
            del self.agency  # a service stays in its agency
            if not self.is_submitted():
                self.tier.data = str(service.tier)
                self.depends_on.data = [p.id for p in platforms_of(service)]
        elif not self.is_submitted():
            self.tier.data = "2"

    def validate_agency(self, field):
        if field.data not in self._agencies:
            raise ValidationError("Choose an agency from the list.")

    def chosen_agency(self) -> Agency:
        return self._agencies[self.agency.data]

    def details(self) -> ServiceDetails:
        return ServiceDetails(
            name=self.name.data,
            slug=self.slug.data,
            tier=int(self.tier.data),
            description=self.description.data or "",
            availability_target=self.availability_target.data,
            group_name=self.group_name.data or "",
            display_order=self.display_order.data or 0,
            depends_on=[self._platforms[i] for i in self.depends_on.data or []],
            follows_monitoring=bool(self.follows_monitoring.data),
        )
