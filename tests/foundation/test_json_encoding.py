"""JSON responses: orjson encodes them, with the output Flask's own provider gives."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from flask import jsonify
from markupsafe import Markup


@dataclass
class Point:
    x: int
    y: int


def test_responses_match_flasks_own_encoding(app):
    value = {
        "b": 1, "a": [1, 2.5, "é", None, True], 3: "int key",
        "at": datetime(2026, 11, 21, 9, 30, tzinfo=UTC), "day": date(2026, 11, 21),
        "amount": Decimal("12.50"), "point": Point(1, 2), "html": Markup("<b>x</b>"),
    }
    with app.app_context():
        body = jsonify(value).get_data()
        text = app.json.dumps(value)
    assert body.endswith(b"\n")
    assert body.rstrip(b"\n").decode() == text
    decoded = json.loads(body)
    assert list(decoded) == sorted(decoded)  # keys sorted, as Flask's provider sorts them
    assert decoded["at"] == "Sat, 21 Nov 2026 09:30:00 GMT"  # Flask writes dates as HTTP dates
    assert decoded["day"] == "Sat, 21 Nov 2026 00:00:00 GMT"
    assert decoded["amount"] == "12.50"
    assert decoded["point"] == {"x": 1, "y": 2}
    assert decoded["html"] == "<b>x</b>"
    assert decoded["3"] == "int key"
    assert decoded["a"] == [1, 2.5, "é", None, True]


def test_standard_library_options_still_work(app):
    with app.app_context():
        assert app.json.dumps({"b": 1, "a": 2}, indent=2) == '{\n  "a": 2,\n  "b": 1\n}'


def test_unencodable_values_are_an_error_not_a_guess(app):
    with app.app_context(), pytest.raises(TypeError):
        app.json.dumps({"x": object()})


def test_what_orjson_refuses_is_encoded_by_the_standard_library(app):
    value = {"big": 2**70, "lone": "\ud83d"}
    with app.app_context():
        body = jsonify(value).get_data()
        assert json.loads(body) == value
        assert json.loads(app.json.dumps(value)) == value
