"""The readiness board: per role who is ready, per playbook its last drill, the maturity levels."""

from __future__ import annotations

from flask import Blueprint, render_template

from crisis.readiness.board import playbook_drills, role_readiness
from crisis.readiness.maturity import maturity
from crisis.web.access import permission_required

bp = Blueprint("readiness", __name__)


@bp.route("/readiness", endpoint="board")
@permission_required("view")
def board():
    overall, dimensions = maturity()
    return render_template(
        "readiness/board.html", roles=role_readiness(), playbooks=playbook_drills(), overall=overall,
        dimensions=dimensions,
    )


# How a response role reads to a person (keys are for files and the API).
_ROLE_NAMES = {"hr": "HR", "exec-sponsor": "Executive sponsor"}


@bp.app_template_filter("role_name")
def role_name(role: str) -> str:
    """'community-moderator' → 'Community moderator'."""
    return _ROLE_NAMES.get(role, role.replace("-", " ").capitalize())
