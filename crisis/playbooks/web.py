"""Web pages for playbooks (placeholder until the playbooks work lands)."""

from flask import Blueprint, abort

from crisis.web.access import permission_required

bp = Blueprint("playbooks", __name__)


@bp.route("/playbooks")
@permission_required("view")
def list_playbooks():
    abort(501)
