"""The shared base form: control characters refused with the field's name, line ends normalised."""

from __future__ import annotations

import pytest
from werkzeug.datastructures import MultiDict
from wtforms import FieldList, Form, FormField, StringField, TextAreaField

from statuspage.forms import BaseForm
from statuspage.incidents.models import Incident
from tests.admin.test_incidents import incident_form, setting  # noqa: F401 (a fixture)


class RowForm(Form):
    owner = StringField("Owner")


class SampleForm(BaseForm):
    title = StringField("Title")
    body = TextAreaField("What is affected")
    rows = FieldList(FormField(RowForm), min_entries=1)
    names = FieldList(StringField("Name"), min_entries=1)


def _form(app, **data) -> SampleForm:
    with app.test_request_context(method="POST"):
        form = SampleForm(MultiDict(data))
        form.validate()
        return form


@pytest.mark.parametrize(
    ("character", "shown"),
    [("\x01", "control character (U+0001)"), ("\x08", "control character (U+0008)"),
     ("\x7f", "control character (U+007F)"), ("\x85", "control character (U+0085)"),
     ("\x00", "control character (U+0000)"), ("\ufffe", "character (U+FFFE)")],
)  # fmt: skip
def test_a_control_character_in_a_field_is_refused_naming_the_field(app, character, shown):
    form = _form(app, title=f"Filing{character} down", body="ok")
    assert form.title.errors == [f"Remove the {shown} from the title."]
    assert not form.body.errors


def test_sub_forms_and_lists_are_checked_too(app):
    form = _form(app, **{"rows-0-owner": "Ann\x02", "names-0": "Bo\x03b", "body": "x\x04"})
    owner = form.rows[0].form.owner
    assert owner.errors == ["Remove the control character (U+0002) from the owner."]
    assert form.names[0].errors == ["Remove the control character (U+0003) from the name."]
    assert form.body.errors == ["Remove the control character (U+0004) from “What is affected”."]


def test_tab_and_newlines_are_kept_and_carriage_returns_become_newlines(app):
    form = _form(app, title="a\tb", body="one\r\ntwo\rthree\n", **{"rows-0-owner": "x\r\ny"})
    assert not form.errors
    assert form.title.data == "a\tb"
    assert form.body.data == "one\ntwo\nthree"
    assert form.rows[0].form.owner.data == "x\ny"


def test_an_incident_title_with_a_control_character_is_refused_and_the_text_kept(
    client, setting  # noqa: F811
):
    response = client.post(
        "/admin/incidents/new", data=incident_form(setting, title="Online\x01 tax filing down")
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Remove the control character (U+0001) from the title." in page
    assert 'value="Online tax filing down"' in page  # what was typed, less the character
    assert "\x01" not in page
    assert Incident.query.count() == 0
