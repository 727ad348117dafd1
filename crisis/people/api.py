"""API: who am I (lets a machine client check its token)."""

from __future__ import annotations

from pydantic import BaseModel

from crisis.api import api_route, current_actor, current_token


class MeOut(BaseModel):
    email: str
    name: str
    permissions: list[str]
    roles: list[str]
    token_scope: str


@api_route("/me", summary="The person this token acts for", permission=None, response=MeOut, tag="people")
def me():
    person = current_actor()
    return MeOut(
        email=person.email,
        name=person.name,
        permissions=sorted(person.permission_names),
        roles=sorted(f"{m.role}:backup" if m.is_backup else m.role for m in person.roles),
        token_scope=current_token().scope,
    ).model_dump()
