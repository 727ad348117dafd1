"""Admin pages: people, roles and rosters, spokespeople, API tokens, the holding-statement library, the audit trail."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from flask import Blueprint, flash, redirect, render_template, session, url_for
from flask_login import current_user
from wtforms import SelectChoice

from crisis.admin import service
from crisis.admin.forms import (
    PERMISSION_HELP,
    ActionForm,
    HoldingStatementForm,
    PasswordResetForm,
    PersonEditForm,
    PersonForm,
    SpokespersonForm,
    TokenForm,
    TrainingForm,
)
from crisis.errors import DomainError
from crisis.extensions import db
from crisis.statements import service as statements
from crisis.web.access import permission_required

bp = Blueprint("admin", __name__, url_prefix="/admin")


def _actor():
    return current_user._get_current_object()


def _roles(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def _flash_errors(form) -> None:
    for name, errors in form.errors.items():
        field = getattr(form, name, None)
        flash(f"{field.label.text if field else name}: {errors[0]}", "error")


def _noon(day: date) -> datetime:
    # A training date has no time of day; noon UTC keeps it on the same date in every time zone shown.
    return datetime.combine(day, time(12), tzinfo=UTC)


def _people_choices() -> list[SelectChoice]:
    return [SelectChoice(str(p.id), f"{p.name} <{p.email}>") for p in service.list_people() if p.active]


@bp.route("/")
@permission_required("admin")
def index():
    return render_template("admin/index.html", events=service.list_audit_events(limit=15))


# ---------------------------------------------------------------- people and rosters


@bp.route("/people")
@permission_required("admin")
def people():
    return _people_page(PersonForm(formdata=None))


def _people_page(form: PersonForm, status: int = 200):
    return render_template(
        "admin/people.html", people=service.list_people(), form=form, permission_help=PERMISSION_HELP
    ), status


@bp.route("/people", methods=["POST"])
@permission_required("admin")
def create_person():
    form = PersonForm()
    if form.validate_on_submit():
        try:
            person = service.create_person(
                actor=_actor(), email=form.email.data, name=form.name.data, password=form.password.data or None,
                permissions=form.permissions.data or [], roles=_roles(form.roles.data),
            )
        except DomainError as error:
            # Refused: the form comes back with what was typed and the reason beside its field.
            db.session.rollback()
            name = (error.field or "").split(".")[0]
            field = getattr(form, {"role": "roles", "permission": "permissions"}.get(name, name), None)
            if field is not None and hasattr(field, "errors"):
                field.errors = [*field.errors, error.message]
            else:
                flash(error.message, "error")
        else:
            db.session.commit()
            flash(f"{person.name} added.", "success")
            return redirect(url_for("admin.person", person_id=person.id))
    return _people_page(form, 422)


@bp.route("/people/<int:person_id>")
@permission_required("admin")
def person(person_id):
    found = service.get_person_by_id(person_id)
    form = PersonEditForm(formdata=None, obj=found)
    form.permissions.data = sorted(found.permission_names)
    form.roles.data = ", ".join(sorted(f"{m.role}:backup" if m.is_backup else m.role for m in found.roles))
    return render_template(
        "admin/person.html", person=found, form=form, password_form=PasswordResetForm(formdata=None),
        permission_help=PERMISSION_HELP,
        action_form=ActionForm(formdata=None),
        authorisations=[a for a in statements.list_spokespeople(include_revoked=True) if a.person_id == found.id],
    )


@bp.route("/people/<int:person_id>", methods=["POST"])
@permission_required("admin")
def update_person(person_id):
    found = service.get_person_by_id(person_id)
    form = PersonEditForm()
    if not form.validate_on_submit():
        _flash_errors(form)
        return redirect(url_for("admin.person", person_id=person_id))
    service.update_person(
        actor=_actor(), person=found, name=form.name.data, permissions=form.permissions.data or [], roles=_roles(form.roles.data)
    )
    db.session.commit()
    flash(f"{found.name} saved.", "success")
    return redirect(url_for("admin.person", person_id=person_id))


@bp.route("/people/<int:person_id>/active", methods=["POST"])
@permission_required("admin")
def toggle_active(person_id):
    found = service.get_person_by_id(person_id)
    service.set_person_active(actor=_actor(), person=found, active=not found.active)
    db.session.commit()
    if found.active:
        flash(f"{found.name} enabled.", "success")
    else:
        flash(f"{found.name} disabled: their sessions ended and their API tokens were revoked.", "warning")
    return redirect(url_for("admin.person", person_id=person_id))


@bp.route("/people/<int:person_id>/password", methods=["POST"])
@permission_required("admin")
def reset_password(person_id):
    found = service.get_person_by_id(person_id)
    form = PasswordResetForm()
    if not form.validate_on_submit():
        _flash_errors(form)
        return redirect(url_for("admin.person", person_id=person_id))
    service.reset_password(actor=_actor(), person=found, password=form.password.data)
    db.session.commit()
    flash(f"New password set for {found.name}; their sessions ended.", "success")
    return redirect(url_for("admin.person", person_id=person_id))


@bp.route("/rosters")
@permission_required("admin")
def rosters():
    return render_template("admin/rosters.html", rosters=service.rosters())


# ---------------------------------------------------------------- spokespeople


@bp.route("/spokespeople")
@permission_required("admin")
def spokespeople():
    form = SpokespersonForm(formdata=None)
    form.person.choices = _people_choices()
    return render_template(
        "admin/spokespeople.html", authorisations=statements.list_spokespeople(include_revoked=True), form=form,
        action_form=ActionForm(formdata=None), training_form=TrainingForm(formdata=None),
    )


@bp.route("/spokespeople", methods=["POST"])
@permission_required("admin")
def authorise_spokesperson():
    form = SpokespersonForm()
    form.person.choices = _people_choices()
    if not form.validate_on_submit():
        _flash_errors(form)
        return redirect(url_for("admin.spokespeople"))
    trained_at = _noon(form.trained_on.data) if form.trained_on.data else None
    found = service.get_person_by_id(form.person.data or 0)
    authorisation = service.authorise_spokesperson(actor=_actor(), person=found, platform=form.platform.data, trained_at=trained_at)
    db.session.commit()
    note = "" if authorisation.is_live else " They cannot publish until their training date is recorded."
    flash(f"{found.name} authorised for {authorisation.platform}.{note}", "success")
    return redirect(url_for("admin.spokespeople"))


@bp.route("/spokespeople/<int:authorisation_id>/trained", methods=["POST"])
@permission_required("admin")
def record_training(authorisation_id):
    form = TrainingForm()
    if not form.validate_on_submit():
        _flash_errors(form)
        return redirect(url_for("admin.spokespeople"))
    authorisation = service.record_spokesperson_training(
        actor=_actor(), authorisation_id=authorisation_id, trained_at=_noon(form.trained_on.data)
    )
    db.session.commit()
    flash(f"{authorisation.person.name} is trained and may now publish on {authorisation.platform}.", "success")
    return redirect(url_for("admin.spokespeople"))


@bp.route("/spokespeople/<int:authorisation_id>/revoke", methods=["POST"])
@permission_required("admin")
def revoke_spokesperson(authorisation_id):
    authorisation = service.revoke_spokesperson(actor=_actor(), authorisation_id=authorisation_id)
    db.session.commit()
    flash(f"{authorisation.person.name} may no longer publish on {authorisation.platform}.", "success")
    return redirect(url_for("admin.spokespeople"))


# ---------------------------------------------------------------- API tokens


@bp.route("/tokens")
@permission_required("admin")
def tokens():
    form = TokenForm(formdata=None)
    form.person.choices = _people_choices()
    # A token just created is shown on this one page view, then dropped from the session.
    new = session.pop("new_token", None)
    tokens = service.list_tokens()
    new_token = next((t for t in tokens if new and t.id == new["id"]), None)
    return render_template(
        "admin/tokens.html", tokens=tokens, form=form, action_form=ActionForm(formdata=None),
        secret=new["secret"] if new_token else None, new_token=new_token,
    )


@bp.route("/tokens", methods=["POST"])
@permission_required("admin")
def create_token():
    form = TokenForm()
    form.person.choices = _people_choices()
    if not form.validate_on_submit():
        _flash_errors(form)
        return redirect(url_for("admin.tokens"))
    token, secret = service.create_token(
        actor=_actor(), person=service.get_person_by_id(form.person.data or 0), name=form.name.data or "", scope=form.scope.data
    )
    db.session.commit()
    # POST-redirect-GET, so a reload cannot create a second token. The secret rides in the signed
    # session to the very next page view, which shows it once and removes it; it is never stored.
    session["new_token"] = {"id": token.id, "secret": secret}
    return redirect(url_for("admin.tokens"), 303)


@bp.route("/tokens/<int:token_id>/revoke", methods=["POST"])
@permission_required("admin")
def revoke_token(token_id):
    token = service.revoke_token(actor=_actor(), token_id=token_id)
    db.session.commit()
    flash(f"Token {token.prefix}… of {token.person.name} revoked.", "success")
    return redirect(url_for("admin.tokens"))


# ---------------------------------------------------------------- holding-statement library


@bp.route("/holding-statements")
@permission_required("admin")
def holding_statements():
    return render_template(
        "admin/holding_statements.html", entries=statements.list_holding_statements(include_retired=True),
        form=HoldingStatementForm(formdata=None), action_form=ActionForm(formdata=None),
    )


@bp.route("/holding-statements", methods=["POST"])
@permission_required("admin")
def add_holding_statement():
    form = HoldingStatementForm()
    if not form.validate_on_submit():
        _flash_errors(form)
        return redirect(url_for("admin.holding_statements"))
    entry = service.add_holding_statement(actor=_actor(), title=form.title.data, body=form.body.data, platform=form.platform.data or "")
    db.session.commit()
    flash(f"“{entry.title}” added to the library, approved by you.", "success")
    return redirect(url_for("admin.holding_statements"))


@bp.route("/holding-statements/<int:entry_id>/retire", methods=["POST"])
@permission_required("admin")
def retire_holding_statement(entry_id):
    entry = service.retire_holding_statement(actor=_actor(), holding_statement_id=entry_id)
    db.session.commit()
    flash(f"“{entry.title}” retired from the library.", "success")
    return redirect(url_for("admin.holding_statements"))


# ---------------------------------------------------------------- audit trail


@bp.route("/audit")
@permission_required("admin")
def audit():
    return render_template("admin/audit.html", events=service.list_audit_events(limit=500))

