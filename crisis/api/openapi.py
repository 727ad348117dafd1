"""The OpenAPI 3 document, generated from the same pydantic schemas that validate requests."""

from __future__ import annotations

from typing import Any

from flask import jsonify
from pydantic import BaseModel

from crisis.api.paging import MAX_LIMIT
from crisis.api.routing import ENDPOINTS, api_route
from crisis.inputs import MAX_ID

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "field": {"type": "string"},
            },
        }
    },
}


# An id in a path: what the database can hold (a larger one is a 404 anyway).
ID_SCHEMA = {"type": "integer", "minimum": 1, "maximum": MAX_ID}

# Query parameters that are not free text.
QUERY_SCHEMAS: dict[str, dict] = {
    "limit": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT},
    "version": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
    "mine": {"type": "string", "enum": ["1", "true", "yes", "0", "false", "no"]},
}

IDEMPOTENCY_PARAMETER = {
    "name": "Idempotency-Key", "in": "header", "required": False,
    "description": (
        "Any unique string (1 to 200 printable ASCII characters). A repeat with the same key and the same "
        "request from the same token returns the first answer and writes nothing; the same key with "
        "another request is a 422. Keys are kept at least 24 hours."
    ),
    "schema": {"type": "string", "minLength": 1, "maxLength": 200},
}


def _add_component(components: dict[str, Any], name: str, schema: dict) -> None:
    """Add a named schema; two different schemas under one name would make the document lie."""
    if name in components and components[name] != schema:
        raise RuntimeError(f"two different API schemas are both named {name!r}; rename one")
    components[name] = schema


def _schema_ref(model: type[BaseModel], components: dict[str, Any]) -> dict:
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    for name, definition in schema.pop("$defs", {}).items():
        _add_component(components, name, definition)
    _add_component(components, model.__name__, schema)
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def build_openapi() -> dict:
    """Return the OpenAPI document for every endpoint registered with `api_route`."""
    components: dict[str, Any] = {"Error": ERROR_SCHEMA}
    paths: dict[str, dict] = {}
    error_response = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    for endpoint in ENDPOINTS:
        operation: dict[str, Any] = {
            "summary": endpoint.summary,
            "operationId": f"{endpoint.method}_{endpoint.path.strip('/').replace('/', '_').replace('{', '').replace('}', '')}",
            "tags": [endpoint.tag] if endpoint.tag else [],
            "responses": {
                str(endpoint.status): {"description": "OK"},
                "400": {"description": "Bad request", **error_response},
                "401": {"description": "Missing or bad token", **error_response},
                "403": {"description": "Not allowed", **error_response},
                "404": {"description": "Not found", **error_response},
                "409": {"description": "Conflict", **error_response},
                "422": {"description": "Well-formed, but refers to something unknown or breaks a rule",
                        **error_response},
                "503": {"description": "The database could not be reached; retry after Retry-After seconds",
                        **error_response},
            },
        }
        if endpoint.public:
            operation["security"] = []
            for status in ("401", "403"):
                operation["responses"].pop(status)
        if endpoint.permission:
            operation["description"] = f"Needs the `{endpoint.permission}` permission."
        if endpoint.response is not None:
            operation["responses"][str(endpoint.status)]["content"] = {
                "application/json": {"schema": _schema_ref(endpoint.response, components)}
            }
        if endpoint.body is not None:
            operation["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": _schema_ref(endpoint.body, components)}},
            }
        parameters = [
            {"name": part[1:-1], "in": "path", "required": True,
             "schema": ID_SCHEMA if part[1:-1] in endpoint.integer_parameters else {"type": "string"}}
            for part in endpoint.path.split("/")
            if part.startswith("{")
        ]
        parameters += [
            {"name": name, "in": "query", "required": False, "description": text,
             "schema": QUERY_SCHEMAS.get(name, {"type": "string"})}
            for name, text in endpoint.query.items()
        ]
        if endpoint.method in ("post", "patch") and not endpoint.public:
            parameters.append(IDEMPOTENCY_PARAMETER)
        if parameters:
            operation["parameters"] = parameters
        paths.setdefault(endpoint.path, {})[endpoint.method] = operation
    return {
        # pydantic writes JSON Schema 2020-12 (`const`, `type: "null"`): the dialect of OpenAPI 3.1.
        "openapi": "3.1.0",
        "info": {"title": "crisis API", "version": "1.0.0", "description": "Social media crisis response desk."},
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }


@api_route("/openapi.json", summary="This OpenAPI document", permission=None, public=True, tag="meta")
def openapi_document():
    return jsonify(build_openapi())
