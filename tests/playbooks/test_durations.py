"""Durations as authors write them: parsing, formatting and their round trip."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crisis.playbooks.durations import MAX_SECONDS, format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30s", timedelta(seconds=30)),
        ("15m", timedelta(minutes=15)),
        ("2h", timedelta(hours=2)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("1d", timedelta(days=1)),
        ("1d2h3m4s", timedelta(days=1, hours=2, minutes=3, seconds=4)),
        (" 90M ", timedelta(minutes=90)),
        (45, timedelta(seconds=45)),
    ],
)
def test_parse_duration(text, expected):
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("0s", "is zero"),
        ("0m", "is zero"),
        (0, "is zero"),
        (-5, "is negative"),
        ("-5m", "is not a duration"),
        ("15", "has no unit"),
        ("soon", "is not a duration"),
        ("1.5h", "is not a duration"),
        ("30m1h", "is not a duration"),
        ("", "is not a duration"),
        ("15 minutes", "is not a duration"),
        (True, "expected a duration"),
        (1.5, "expected a duration"),
        (None, "expected a duration"),
        ("400d", "longer than a year"),
    ],
)
def test_parse_duration_rejects_with_a_clear_message(value, fragment):
    with pytest.raises(ValueError, match=fragment):
        parse_duration(value)


def test_zero_is_allowed_only_when_asked():
    assert parse_duration("0s", allow_zero=True) == timedelta(0)
    with pytest.raises(ValueError, match="negative"):
        parse_duration(-1, allow_zero=True)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (timedelta(minutes=15), "15m"),
        (timedelta(hours=1, minutes=30), "1h30m"),
        (timedelta(seconds=45), "45s"),
        (timedelta(days=14), "14d"),
        (timedelta(0), "0s"),
        (timedelta(hours=25), "1d1h"),
    ],
)
def test_format_duration(value, text):
    assert format_duration(value) == text


def test_format_duration_refuses_negative_and_fractions():
    with pytest.raises(ValueError, match="negative"):
        format_duration(timedelta(seconds=-1))
    with pytest.raises(ValueError, match="fractions"):
        format_duration(timedelta(seconds=1.5))


@given(st.integers(min_value=1, max_value=MAX_SECONDS))
def test_format_then_parse_round_trips(seconds):
    value = timedelta(seconds=seconds)
    text = format_duration(value)
    assert parse_duration(text) == value
    assert format_duration(parse_duration(text)) == text


@given(
    st.tuples(*(st.one_of(st.none(), st.integers(0, top)) for top in (300, 500, 500, 500))).filter(
        lambda parts: any(p for p in parts)
    )
)
def test_any_well_formed_text_parses_to_its_total(parts):
    text = "".join(f"{n}{unit}" for n, unit in zip(parts, "dhms", strict=True) if n is not None)
    seconds = sum((n or 0) * f for n, f in zip(parts, (86400, 3600, 60, 1), strict=True))
    assert parse_duration(text) == timedelta(seconds=seconds)


@given(st.text(alphabet="0123456789dhms.:- xyz", max_size=12))
def test_garbage_is_rejected_or_parses_consistently(text):
    try:
        value = parse_duration(text)
    except ValueError as error:
        assert str(error)
    else:
        assert value > timedelta(0)
        assert parse_duration(format_duration(value)) == value


@given(st.text(min_size=1, max_size=10).filter(lambda t: not any(c.isdigit() for c in t)))
def test_text_without_digits_is_never_a_duration(text):
    with pytest.raises(ValueError):
        parse_duration(text)
