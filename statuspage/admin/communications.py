"""Update templates and the jargon list: site administrators edit them."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import select

from .. import clock
from ..communications.models import JargonTerm
from ..communications.templates import TEMPLATE_FIELDS, all_templates, jargon_list, template_by_key
from ..extensions import db
from . import admin
from .forms import ActionForm, JargonForm, TemplateForm


def require_site_admin() -> None:
    if not current_user.is_site_admin:
        abort(403)


@admin.get("/templates")
def templates():
    require_site_admin()
    return render_template("admin/templates.html", templates=all_templates())


@admin.route("/templates/<key>", methods=["GET", "POST"])
def edit_template(key: str):
    require_site_admin()
    template = template_by_key(key) or abort(404)
    form = TemplateForm(obj=template)
    if form.validate_on_submit():
        template.name = form.name.data
        template.status = form.status.data
        for name in TEMPLATE_FIELDS:
            setattr(template, name, form[name].data or "")
        template.updated_at = clock.now()
        template.updated_by_id = current_user.id
        db.session.commit()
        flash(f"Template “{template.name}” saved.", "success")
        return redirect(url_for("admin.templates"))
    status = 400 if form.is_submitted() else 200
    return render_template("admin/template_edit.html", form=form, template=template), status


@admin.route("/jargon", methods=["GET", "POST"])
def jargon():
    require_site_admin()
    form = JargonForm()
    if form.validate_on_submit():
        term = form.term.data.lower()
        if term in jargon_list():
            form.term.errors = [f"“{term}” is already on the list."]
        else:
            db.session.add(JargonTerm(term=term, plainer=form.plainer.data))
            db.session.commit()
            flash(f"“{term}” added.", "success")
            return redirect(url_for("admin.jargon"))
    terms = db.session.scalars(select(JargonTerm).order_by(JargonTerm.term)).all()
    status = 400 if form.is_submitted() else 200
    return render_template(
        "admin/jargon.html", form=form, terms=terms, action_form=ActionForm(formdata=None)
    ), status


@admin.post("/jargon/<int:term_id>/delete")
def delete_jargon(term_id: int):
    require_site_admin()
    term = db.session.get(JargonTerm, term_id) or abort(404)
    if ActionForm().validate_on_submit():
        db.session.delete(term)
        db.session.commit()
        flash(f"“{term.term}” removed.", "success")
    return redirect(url_for("admin.jargon"))
