"""The JSON API under /api/v1: one blueprint, bearer-token auth, schema-validated bodies.

Domain modules add their endpoints with `api_route`, which also records each endpoint in the
OpenAPI document and its required permission (the URL-map permission test reads that).
"""

from crisis.api.routing import (
    api,
    api_route,
    current_actor,
    current_actor_ref,
    current_token,
    parse_body,
)

__all__ = ["api", "api_route", "current_actor", "current_actor_ref", "current_token", "parse_body"]
