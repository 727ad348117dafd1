"""Web pages for incidents (placeholder routes until the incidents work lands)."""

from flask import Blueprint, abort

from crisis.web.access import permission_required

bp = Blueprint("incidents", __name__)


@bp.route("/incidents")
@permission_required("view")
def list_incidents():
    abort(501)


@bp.route("/incidents/new")
@permission_required("declare")
def new_incident():
    abort(501)


@bp.route("/incidents/<ref>")
@permission_required("view")
def detail(ref):
    abort(501)


@bp.route("/my-steps")
@permission_required(None)
def my_steps():
    abort(501)
