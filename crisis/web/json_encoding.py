"""JSON responses encoded by orjson, with the output Flask's own provider gives.

Encoding an incident with the standard library took a tenth of the API's read time; orjson
takes a tenth of that. What Flask's provider does differently is kept: keys sorted, dates as
HTTP dates, dataclasses, Decimal and `__html__` through Flask's own `default`, a trailing
newline. Calls that pass encoder options of the standard library get the standard library.
"""

from __future__ import annotations

from typing import Any

import orjson
from flask import Response
from flask.json.provider import DefaultJSONProvider

_OPTIONS = (
    orjson.OPT_SORT_KEYS
    | orjson.OPT_NON_STR_KEYS
    # Handed to Flask's default, which writes dates as HTTP dates (as jsonify always did).
    | orjson.OPT_PASSTHROUGH_DATETIME
    | orjson.OPT_PASSTHROUGH_DATACLASS
)


class OrjsonProvider(DefaultJSONProvider):
    def dumps(self, obj: Any, **kwargs: Any) -> str:
        if kwargs:
            return super().dumps(obj, **kwargs)
        return orjson.dumps(obj, default=self.default, option=_OPTIONS).decode()

    def response(self, *args: Any, **kwargs: Any) -> Response:
        obj = self._prepare_response_obj(args, kwargs)
        if self._app.debug:
            return super().response(obj)  # indented, for reading in a browser
        body = orjson.dumps(obj, default=self.default, option=_OPTIONS | orjson.OPT_APPEND_NEWLINE)
        return self._app.response_class(body, mimetype=self.mimetype)
