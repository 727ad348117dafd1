"""The api blueprint, the `api_route` decorator and request helpers for endpoints."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from flask import Blueprint, Response, g, jsonify, request
from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import lazyload

from crisis.api.idempotency import run_idempotently
from crisis.db.engine import is_reading
from crisis.errors import BadRequest, Forbidden, Unauthorized
from crisis.extensions import db
from crisis.inputs import load_json
from crisis.people.models import ApiToken, Person
from crisis.people.service import PersonRef, check_token, record_token_use
from crisis.permissions import API_SCOPE, scope_admits, token_may_call

api = Blueprint("api", __name__, url_prefix="/api/v1")

ModelT = TypeVar("ModelT", bound=BaseModel)


@dataclass
class EndpointDoc:
    """What the OpenAPI document says of one endpoint."""

    path: str
    method: str
    summary: str
    permission: str | None
    scope: str
    body: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    status: int = 200
    tag: str = ""
    query: dict[str, str] = field(default_factory=dict)
    public: bool = False
    # The path's integer parameters (Flask's `int:` converter), typed as integers in the document.
    integer_parameters: frozenset[str] = frozenset()


ENDPOINTS: list[EndpointDoc] = []


def api_route(
    path: str,
    *,
    method: str = "GET",
    summary: str,
    permission: str | None,
    body: type[BaseModel] | None = None,
    response: type[BaseModel] | None = None,
    status: int = 200,
    tag: str = "",
    scope: str = "api",
    query: dict[str, str] | None = None,
    public: bool = False,
) -> Callable:
    """Register an API endpoint: bearer auth, a system permission, OpenAPI documentation.

    `permission=None` with `public=False` still needs a valid token; `public=True` needs none.
    """

    def decorate(view: Callable) -> Callable:
        def answer(*args: Any, **kwargs: Any) -> Any:
            result = view(*args, **kwargs)
            body, rest = (result[0], result[1:]) if isinstance(result, tuple) else (result, ())
            if isinstance(body, BaseModel):
                if response is not None and not isinstance(body, response):
                    raise TypeError(f"{view.__name__} answered a {type(body).__name__}, not its {response.__name__}")
                return (model_response(body), *rest) if rest else model_response(body)
            return result

        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not public:
                check_bearer(permission=permission, scope=scope)
                return run_idempotently(answer, *args, **kwargs)
            return answer(*args, **kwargs)

        wrapper.required_permission = "public" if public else (permission or "authenticated")  # type: ignore[attr-defined]
        openapi_path = path.replace("<", "{").replace(">", "}")
        integers = frozenset(re.findall(r"<int:(\w+)>", path))
        for converter in ("int:", "string:", "path:"):
            openapi_path = openapi_path.replace("{" + converter, "{")
        ENDPOINTS.append(
            EndpointDoc(
                path="/api/v1" + openapi_path, method=method.lower(), summary=summary,
                permission=permission, scope=scope, body=body, response=response, status=status,
                tag=tag, query=query or {}, public=public, integer_parameters=integers,
            )
        )
        api.add_url_rule(path, endpoint=view.__name__, view_func=wrapper, methods=[method])
        return wrapper

    return decorate


def model_response(model: BaseModel) -> Response:
    """Answer with a response model as JSON: the fields it was given (a field left unset, such as
    an incident's declaration warnings, is left out)."""
    return jsonify(model.model_dump(mode="json", exclude_unset=True))


def authenticate_request(*, permission: str | None, scope: str = "api") -> Person:
    """Check the bearer token, its scope and the person's permission; return the person."""
    check_bearer(permission=permission, scope=scope)
    return current_actor()


def check_bearer(*, permission: str | None, scope: str = "api") -> None:
    """Check the bearer token's scope and the person's permission in one query.

    The person and token are loaded only if the endpoint asks (`current_actor`, `current_token`):
    most reads need neither. Revocation and disabling take effect on the next request.
    """
    header = request.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise Unauthorized("Missing bearer token: send 'Authorization: Bearer <token>'")
    found = check_token(secret=secret.strip(), permission=permission)
    if found is None:
        raise Unauthorized("The bearer token is unknown or revoked")
    if not scope_admits(found.scope, scope):
        raise Forbidden(f"This token is scoped to {found.scope!r} and cannot call this endpoint")
    if not token_may_call(token_scope=found.scope, endpoint_scope=scope, permitted=found.permitted):
        raise Forbidden(f"This needs the {permission!r} permission (or a token created with --scope {scope})"
                        if scope != API_SCOPE else f"This needs the {permission!r} permission")
    g.api_person_id = found.person_id
    g.api_person_ref = found.person
    g.api_token_id = found.token_id
    # A read-only request's transaction must not write (see crisis.db.engine.reading).
    record_token_use(token_id=found.token_id, last_used_at=found.last_used_at, separately=is_reading())


# Permissions and roles load only if the endpoint looks at them (built once: building the
# options cost a third of the load).
_ACTOR_OPTIONS = (lazyload(Person.permissions), lazyload(Person.roles))


def current_actor() -> Person:
    """Return the person the current API request acts for (loaded on first use)."""
    person = g.get("api_person")
    if person is None:
        person = db.session.get(Person, g.api_person_id, options=_ACTOR_OPTIONS)
        if person is None:  # deleted since the token was checked
            raise Unauthorized("The bearer token is unknown or revoked")
        g.api_person = person
    return person


def current_actor_ref() -> PersonRef:
    """Return who the current API request acts for (id, email, name; nothing loaded)."""
    return g.api_person_ref


def current_token() -> ApiToken:
    """Return the token the current API request was made with (loaded on first use)."""
    token = g.get("api_token")
    if token is None:
        token = g.api_token = db.session.get(ApiToken, g.api_token_id)
        if token is None:
            raise Unauthorized("The bearer token is unknown or revoked")
    return token


def parse_body(model: type[ModelT]) -> ModelT:
    """Parse the JSON body into a schema, or raise a 400 naming the offending field."""
    raw = request.get_data(cache=True)
    if not raw.strip():
        data: Any = {}
    else:
        data = load_json(raw)
    if not isinstance(data, dict):
        raise BadRequest("The request body must be a JSON object", field="body")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        location = ".".join(str(part) for part in first["loc"]) or "body"
        message = first["msg"]
        if first["type"] == "extra_forbidden":
            message = "unknown field"
        raise BadRequest(f"{location}: {message}", field=location) from None
