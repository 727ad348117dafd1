"""Post-incident review pages: write one after resolution; the list feeds training."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from crisis.errors import InvalidInput
from crisis.extensions import db
from crisis.incidents.queries import find_incident
from crisis.permissions import can_write_review
from crisis.reviews.service import (
    REVIEWABLE_STATUSES,
    ActionInput,
    get_review,
    list_reviews,
    review_required_to_close,
    review_versions,
    write_review,
)
from crisis.web.access import permission_required

bp = Blueprint("reviews", __name__)

BLANK_ACTION_ROWS = 3


def _submitted_actions() -> list[ActionInput]:
    """Read the action rows of the form; rows left entirely blank are not actions."""
    rows = zip(
        request.form.getlist("action_description"),
        request.form.getlist("action_owner"),
        request.form.getlist("action_due"),
        strict=False,
    )
    return [ActionInput(d, o, due) for d, o, due in rows if d.strip() or o.strip() or due.strip()]


def _form_values(review) -> dict:
    if review is None:
        return {"what_happened": "", "went_well": "", "to_change": "", "training_needs": "", "actions": []}
    return {
        "what_happened": review.what_happened,
        "went_well": review.went_well,
        "to_change": review.to_change,
        "training_needs": review.training_needs,
        "actions": [ActionInput(a.description, a.owner.email, a.due_on.isoformat()) for a in review.actions],
    }


@bp.route("/reviews", endpoint="list_reviews")
@permission_required("view")
def reviews_index():
    return render_template("reviews/list.html", reviews=list_reviews())


@bp.route("/incidents/<ref>/review")
@permission_required("view")
def review(ref):
    incident = find_incident(ref)
    existing = get_review(incident)
    return render_template(
        "reviews/review.html",
        incident=incident,
        review=existing,
        values=_form_values(existing),
        can_write=can_write_review(current_user, incident, existing) and incident.status in REVIEWABLE_STATUSES,
        required=review_required_to_close(incident),
        blank_rows=BLANK_ACTION_ROWS,
        error=None,
        versions=review_versions(existing) if existing else [],
        reason="",
    )


@bp.route("/incidents/<ref>/review", methods=["POST"])
@permission_required("respond")
def save_review(ref):
    incident = find_incident(ref)
    values = {name: request.form.get(name, "") for name in ("what_happened", "went_well", "to_change", "training_needs")}
    actions = _submitted_actions()
    reason = request.form.get("reason", "")
    try:
        write_review(incident=incident, actor=current_user, actions=actions, reason=reason, **values)
    except InvalidInput as error:
        db.session.rollback()
        existing = get_review(incident)
        # Re-show the form with what was typed, so nothing is lost to one bad field.
        return render_template(
            "reviews/review.html",
            incident=incident,
            review=existing,
            values={**values, "actions": actions},
            can_write=True,
            required=review_required_to_close(incident),
            blank_rows=BLANK_ACTION_ROWS,
            error=error,
            versions=review_versions(existing) if existing else [],
            reason=reason,
        ), 422
    db.session.commit()
    flash(f"Review of {incident.ref} saved.", "success")
    return redirect(url_for("reviews.review", ref=incident.ref))
