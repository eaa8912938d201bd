"""Forms for second factors: a code when signing in or setting up an app, a passkey's name."""

from __future__ import annotations

from wtforms import HiddenField, StringField
from wtforms.validators import DataRequired, Length

from ..forms import BaseForm


class SignInCodeForm(BaseForm):
    code = StringField(
        "Code",
        description="The 6-digit code your authenticator app shows, or one of your recovery codes.",
        render_kw={"autocomplete": "one-time-code", "spellcheck": "false", "autocapitalize": "none"},
        validators=[DataRequired("Enter the code from your app, or a recovery code."),
                    Length(max=40, message="Enter the code from your app, or a recovery code.")],
    )  # fmt: skip


class TotpConfirmForm(BaseForm):
    code = StringField(
        "Code from the app",
        description="The 6 digits the app shows for this site now.",
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric", "spellcheck": "false"},
        validators=[DataRequired("Enter the 6-digit code the app shows."), Length(max=20)],
    )


class PasskeyAnswerForm(BaseForm):
    """What navigator.credentials gave, as JSON (filled in by static/passkeys.js)."""

    credential = HiddenField()


class NewPasskeyForm(PasskeyAnswerForm):
    name = StringField(
        "Name for this passkey",
        description="So you can tell your passkeys apart, like “Work laptop” or “Phone”.",
        validators=[DataRequired("Give the passkey a name."),
                    Length(max=100, message="Enter a name of at most 100 characters.")],
    )  # fmt: skip
