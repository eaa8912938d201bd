"""Forms for accounts: inviting, roles, passwords. Choices of agencies are set per request."""

from __future__ import annotations

from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

from ..forms import BaseForm, ChoiceField
from ..users.models import Role
from ..users.passwords import MIN_PASSWORD_LENGTH

ROLE_CHOICES = {role.key: role.label for role in Role}
ROLE_HINT = (
    "Viewer: reads incidents. Communications lead: logs incidents and publishes updates. "
    "Service manager: also approves lowering a priority and P2 closures. Service owner: also "
    "approves P1 closures and reviews, and manages the agency's users."
)
PASSWORD_HINT = f"At least {MIN_PASSWORD_LENGTH} characters. A few unrelated words are easy to remember."


def _new_password(label: str = "New password"):
    return PasswordField(
        label,
        description=PASSWORD_HINT,
        render_kw={"autocomplete": "new-password"},
        validators=[
            DataRequired("Enter a new password."),
            Length(min=MIN_PASSWORD_LENGTH, message=f"Enter at least {MIN_PASSWORD_LENGTH} characters."),
            Length(max=1000, message="Enter at most 1000 characters."),
        ],
    )


def _confirmation():
    return PasswordField(
        "Type the new password again",
        render_kw={"autocomplete": "new-password"},
        validators=[
            DataRequired("Type the new password again."),
            EqualTo("password", "The two passwords are not the same."),
        ],
    )


class ForgotPasswordForm(BaseForm):
    email = EmailField(
        "Email address",
        description="The address you sign in with.",
        validators=[DataRequired("Enter your email address."), Length(max=254)],
    )


class SetPasswordForm(BaseForm):
    """Choosing a password from an invitation or a reset link."""

    password = _new_password("Password")
    confirm = _confirmation()


class ChangePasswordForm(BaseForm):
    current_password = PasswordField(
        "Current password",
        render_kw={"autocomplete": "current-password"},
        validators=[DataRequired("Enter your current password.")],
    )
    password = _new_password()
    confirm = _confirmation()


def _agency():
    return SelectField("Agency", choices={}, validate_choice=False)


def _role():
    return SelectField("Role", description=ROLE_HINT, choices=ROLE_CHOICES, validate_choice=False)


class _ChoosesAgencyAndRole:
    """Agency choices are set per request (the agencies the signed-in person owns)."""

    def validate_agency(self, field):
        if field.data:
            if field.data not in dict(self.agency.choices):
                raise ValidationError("Choose an agency from the list.")
        elif not ("site_admin" in self and self.site_admin.data):
            raise ValidationError("Choose an agency.")

    def validate_role(self, field):
        if field.data not in ROLE_CHOICES:
            raise ValidationError("Choose a role from the list.")


class AgencyRoleForm(_ChoosesAgencyAndRole, BaseForm):
    agency = _agency()
    role = _role()


class InviteForm(_ChoosesAgencyAndRole, BaseForm):
    name = StringField(
        "Full name", validators=[DataRequired("Enter the person's name."), Length(max=200)]
    )
    email = EmailField(
        "Email address",
        description="The invitation goes here; it is also the address they sign in with.",
        validators=[DataRequired("Enter their email address."), Length(max=254)],
    )
    site_admin = BooleanField(
        "Site administrator (no agency needed)",
        description="Manages everything: every agency, every user, the templates, the outbox.",
    )
    agency = _agency()
    role = _role()


class SiteAdminForm(BaseForm):
    site_admin = ChoiceField(
        "Site administrator", choices={"yes": "Yes", "no": "No"}, invalid_message="Choose yes or no."
    )
