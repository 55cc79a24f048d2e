"""Text fields are safe to show on one line: no control, separator or bidi characters."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tracker.domain.text import (
    has_unsafe_chars,
    parse_optional_text,
    parse_positive_int,
    parse_text,
)
from tracker.errors import InvalidValue

ONE_LINE = "must be one line of text without control characters"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Home Office DA service", "Home Office DA service"),
        ("  padded  ", "padded"),
        (2018, "2018"),
        ("Café – £5 “quoted” 😀", "Café – £5 “quoted” 😀"),
        ("x" * 200, "x" * 200),
    ],
)
def test_accepted(value: object, expected: str) -> None:
    assert parse_text(value, "title") == expected


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("", "must not be empty"),
        ("   ", "must not be empty"),
        (None, "must not be empty"),
        (2.5, "must be text"),
        (True, "must be text"),
        (["a"], "must be text"),
        ({"a": 1}, "must be text"),
        ("x" * 201, "is too long (201 characters, limit 200)"),
        ("two\nlines", ONE_LINE),
        ("cr\rhere", ONE_LINE),
        ("tab\there", ONE_LINE),
        ("nul\x00", ONE_LINE),
        ("del\x7f", ONE_LINE),
        ("nel\u0085", ONE_LINE),
        ("line\u2028sep", ONE_LINE),
        ("para\u2029sep", ONE_LINE),
        ("rlo\u202eevil", ONE_LINE),
        ("lre\u202a", ONE_LINE),
        ("lri\u2066x\u2069", ONE_LINE),
        ("fsi\u2068", ONE_LINE),
    ],
)
def test_rejected(value: object, reason: str) -> None:
    with pytest.raises(InvalidValue) as caught:
        parse_text(value, "title")
    shown = value if isinstance(value, str) else str(value)
    assert str(caught.value).startswith(f"title: {shown!r}"[:60])
    assert str(caught.value).endswith(reason)
    assert "\n" not in str(caught.value)


def test_max_length_after_strip() -> None:
    assert parse_text("  abc  ", "ref", max_length=3) == "abc"
    with pytest.raises(InvalidValue, match=r"is too long \(4 characters, limit 3\)"):
        parse_text("abcd", "ref", max_length=3)


def test_not_required_allows_empty() -> None:
    assert parse_text("", "notes", required=False) == ""
    assert parse_text("  ", "notes", required=False) == ""
    assert parse_text(None, "notes", required=False) == ""


def test_multiline() -> None:
    assert parse_text("a\r\nb\n\tc", "notes", multiline=True) == "a\nb\n\tc"
    assert parse_text("\nbody\n", "notes", multiline=True) == "body"
    for bad in ("a\rb", "a\x00b", "a\u2028b", "a\u202eb", "a\x0bb"):
        with pytest.raises(InvalidValue, match="without control characters"):
            parse_text(bad, "notes", multiline=True)


def test_optional_text() -> None:
    assert parse_optional_text(None, "notes") is None
    assert parse_optional_text("", "notes") is None
    assert parse_optional_text(" \t ", "notes") is None
    assert parse_optional_text(" hi ", "notes") == "hi"
    with pytest.raises(InvalidValue, match=ONE_LINE):
        parse_optional_text("a\nb", "notes")


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0, 0), (30, 30), ("30", 30), (" 7 ", 7), ("+5", 5), (10**9, 10**9)],
)
def test_positive_int_accepted(value: object, expected: int) -> None:
    assert parse_positive_int(value, "notice_days") == expected


@pytest.mark.parametrize(
    ("value", "reason", "kwargs"),
    [
        (-1, "must not be negative", {}),
        ("-1", "must not be negative", {}),
        (0, "must be at least 1", {"minimum": 1}),
        (13, "must be at most 12", {"maximum": 12}),
        (True, "must be a whole number, not true/false", {}),
        (3.0, "must be a whole number (no decimal point)", {}),
        ("3.0", "must be a whole number such as 30", {}),
        ("thirty", "must be a whole number such as 30", {}),
        ("", "must be a whole number such as 30", {}),
        (None, "must be a whole number such as 30", {}),
        ("9" * 40, "is too large", {}),
        ("٣", "must be a whole number such as 30", {}),
    ],
)
def test_positive_int_rejected(value: object, reason: str, kwargs: dict[str, int]) -> None:
    with pytest.raises(InvalidValue) as caught:
        parse_positive_int(value, "notice_days", **kwargs)
    assert str(caught.value).startswith("notice_days: ")
    assert str(caught.value).endswith(reason)


@given(st.text())
def test_one_line_result_is_safe(text: str) -> None:
    try:
        result = parse_text(text, "title")
    except InvalidValue:
        return
    assert result == result.strip()
    assert result
    assert not has_unsafe_chars(result)


@given(
    st.one_of(
        st.text(),
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(),
        st.binary(),
        st.lists(st.integers()),
        st.dictionaries(st.text(), st.integers()),
    )
)
def test_only_invalid_value_escapes(value: object) -> None:
    for parse in (parse_text, parse_optional_text, parse_positive_int):
        with contextlib.suppress(InvalidValue):
            parse(value, "field")
    with contextlib.suppress(InvalidValue):
        parse_text(value, "field", multiline=True, required=False)
