"""Training pages: my training, a course's material, and (admins) recording and who is overdue."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from crisis.enums import Permission
from crisis.errors import DomainError, InvalidInput
from crisis.extensions import db
from crisis.incidents.queries import find_incident
from crisis.people.models import Person
from crisis.people.service import get_person
from crisis.permissions import has_permission
from crisis.reviews.service import can_write_review, get_review
from crisis.training import service
from crisis.training.assignments import assign_training, assignments
from crisis.training.courses import courses
from crisis.web.access import permission_required

bp = Blueprint("training", __name__)


@bp.route("/training", endpoint="mine")
@permission_required(None)
def mine():
    is_admin = has_permission(current_user, Permission.ADMIN)
    return render_template(
        "training/mine.html",
        statuses=service.training_of(person=current_user),
        completions=service.completions_of(person=current_user),
        assigned=assignments(person=current_user),
        open_assignments=assignments(open_only=True) if is_admin else [],
        overdue=service.overdue() if is_admin else [],
        is_admin=is_admin,
        courses=sorted(courses().values(), key=lambda c: c.title),
        people=db.session.scalars(select(Person).where(Person.active.is_(True)).order_by(Person.name)).all() if is_admin else [],
        values=request.args,
        titles={c.key: c.title for c in courses().values()},
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
            raise InvalidInput("Give the completion date as a date, e.g. 2026-11-20", field="completed_on") from None
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


@bp.route("/incidents/<ref>/review/training", endpoint="review_assignments")
@permission_required("view")
def review_assignments(ref: str):
    incident, review = _review(ref)
    return render_template(
        "training/review_assignments.html", incident=incident, review=review,
        assignments=assignments(review_id=review.id), courses=sorted(courses().values(), key=lambda c: c.title),
        people=db.session.scalars(select(Person).where(Person.active.is_(True)).order_by(Person.name)).all(),
        can_assign=can_write_review(current_user, incident, review), values=request.args,
        titles={c.key: c.title for c in courses().values()},
    )


@bp.route("/incidents/<ref>/review/training", methods=["POST"])
@permission_required("respond")
def assign(ref: str):
    incident, review = _review(ref)
    form = request.form
    if not can_write_review(current_user, incident, review):
        abort(403)
    try:
        try:
            due_on = date.fromisoformat(form.get("due_on", ""))
        except ValueError:
            raise InvalidInput("Give the due date as a date, e.g. 2026-12-15", field="due_on") from None
        assignment = assign_training(
            person=get_person(form.get("email", ""), field="email"), course_key=form.get("course", ""),
            due_on=due_on, assigned_by=current_user, review_id=review.id, note=form.get("note", ""),
        )
    except DomainError as error:
        db.session.rollback()
        flash(f"Nothing assigned: {error.message}", "error")
        return redirect(url_for("training.review_assignments", ref=ref, **{k: form.get(k, "") for k in ("email", "course", "due_on", "note")}))
    db.session.commit()
    flash(f"Assigned to {assignment.person.name}, due {assignment.due_on.strftime('%d %b %Y')}.", "success")
    return redirect(url_for("training.review_assignments", ref=ref))


def _review(ref: str):
    incident = find_incident(ref)
    review = get_review(incident)
    if review is None:
        abort(404)
    return incident, review
