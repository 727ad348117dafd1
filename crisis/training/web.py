"""Training pages: my training, a course's material, and (admins) recording and who is overdue."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from crisis.enums import Permission
from crisis.errors import DomainError, InvalidInput
from crisis.extensions import db
from crisis.people.models import Person
from crisis.people.service import get_person
from crisis.training import service
from crisis.training.courses import courses
from crisis.web.access import permission_required

bp = Blueprint("training", __name__)


@bp.route("/training", endpoint="mine")
@permission_required(None)
def mine():
    is_admin = current_user.can(Permission.ADMIN)
    return render_template(
        "training/mine.html",
        statuses=service.training_of(person=current_user),
        completions=service.completions_of(person=current_user),
        overdue=service.overdue() if is_admin else [],
        is_admin=is_admin,
        courses=sorted(courses().values(), key=lambda c: c.title),
        people=db.session.scalars(select(Person).where(Person.active.is_(True)).order_by(Person.name)).all() if is_admin else [],
        values=request.args,
    )


@bp.route("/training/courses/<key>")
@permission_required(None)
def course(key: str):
    found = courses().get(key)
    if found is None:
        abort(404)
    return render_template("training/course.html", course=found, status=service.course_status(person=current_user, course=found))


@bp.route("/training/record", methods=["POST"])
@permission_required("admin")
def record():
    form = request.form
    try:
        try:
            completed_on = date.fromisoformat(form.get("completed_on", ""))
        except ValueError:
            raise InvalidInput("give the completion date as a date, e.g. 2026-11-20", field="completed_on") from None
        person = get_person(form.get("email", ""), field="email")
        completion = service.record_completion(
            person=person, course_key=form.get("course", ""), completed_on=completed_on, source="web",
            recorded_by=current_user, evidence=form.get("evidence", ""),
        )
    except DomainError as error:
        db.session.rollback()
        flash(f"Nothing recorded: {error.message}", "error")
        return redirect(url_for("training.mine", **{k: form.get(k, "") for k in ("email", "course", "completed_on", "evidence")}))
    db.session.commit()
    flash(f"Recorded: {person.name} completed the course on {completed_on.strftime('%d %b %Y')}; "
          f"it counts until {completion.expires_at.strftime('%d %b %Y')}.", "success")
    return redirect(url_for("training.mine"))
