"""Update templates and the jargon list: site administrators edit them."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import select

from ..communications.models import JargonTerm
from ..communications.operations import (
    CommunicationsError,
    add_jargon,
    remove_jargon,
    save_template,
)
from ..communications.templates import TEMPLATE_FIELDS, all_templates, template_by_key
from ..extensions import db
from . import admin
from .forms import ActionForm, JargonForm, TemplateForm
from .permissions import allow


@admin.get("/templates")
@allow.site_admin
def templates():
    return render_template("admin/templates.html", templates=all_templates())


@admin.route("/templates/<key>", methods=["GET", "POST"])
@allow.site_admin
def edit_template(key: str):
    template = template_by_key(key) or abort(404)
    form = TemplateForm(obj=template)
    if form.validate_on_submit():
        values = {name: form[name].data for name in ("name", "status", *TEMPLATE_FIELDS)}
        changed = save_template(template, values, by=current_user)
        flash(f"Template “{template.name}” saved." if changed else "Nothing changed.", "success")
        return redirect(url_for("admin.templates"))
    status = 400 if form.is_submitted() else 200
    return render_template("admin/template_edit.html", form=form, template=template), status


@admin.route("/jargon", methods=["GET", "POST"])
@allow.site_admin
def jargon():
    form = JargonForm()
    if form.validate_on_submit():
        try:
            term = add_jargon(form.term.data, form.plainer.data, by=current_user)
        except CommunicationsError as error:
            form.add_error(error.field, error.message)
        else:
            flash(f"“{term.term}” added.", "success")
            return redirect(url_for("admin.jargon"))
    terms = db.session.scalars(select(JargonTerm).order_by(JargonTerm.term)).all()
    status = 400 if form.is_submitted() else 200
    return render_template(
        "admin/jargon.html", form=form, terms=terms, action_form=ActionForm(formdata=None)
    ), status


@admin.post("/jargon/<int:term_id>/delete")
@allow.site_admin
def delete_jargon(term_id: int):
    term = db.session.get(JargonTerm, term_id) or abort(404)
    if ActionForm().validate_on_submit():
        remove_jargon(term, by=current_user)
        flash(f"“{term.term}” removed.", "success")
    return redirect(url_for("admin.jargon"))
