"""Email addresses are single plain addresses: nothing that could inject a header or recipient."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tracker.domain.emails import parse_email, parse_email_list
from tracker.errors import InvalidValue


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("commissioner@council.gov.uk", "commissioner@council.gov.uk"),
        ("Ann.Smith@Council.GOV.UK", "ann.smith@council.gov.uk"),
        ("  cfo@pcc.police.uk ", "cfo@pcc.police.uk"),
        ("first+tag@example.org", "first+tag@example.org"),
    ],
)
def test_accepted(value: str, expected: str) -> None:
    assert parse_email(value, "owner") == expected


@pytest.mark.parametrize(
    ("value", "detail"),
    [
        ("a@b.org\nBcc: x@y.org", "control character"),
        ("a@b.org\r", "control character"),
        ("a@b.org\u2028", "control character"),
        ("a@b.org\u2029", "control character"),
        ("a@b.org\x00", "control character"),
        ("a\t@b.org", "control character"),
        ("a b@c.org", "contains a space"),
        ("a@b.org\u00a0x", "contains a space"),
        ("a@b.org, c@d.org", "one plain address"),
        ("Ann <ann@b.org>", "one plain address"),
        ("<ann@b.org>", "one plain address"),
        ("ann@b.org;c@d.org", "one plain address"),
        ("", "it is empty"),
        ("   ", "it is empty"),
        ("not-an-address", "an email address must have an @-sign"),
        ("ann@localhost", "the part after the @-sign is not valid"),
        ("ann@@b.org", "is not a valid email address ("),
        ("ann@b..org", "two periods in a row"),
        ("@b.org", "something before the @-sign"),
        (None, "it must be text"),
        (42, "it must be text"),
        (True, "it must be text"),
        (["a@b.org"], "it must be text"),
    ],
)
def test_rejected(value: object, detail: str) -> None:
    with pytest.raises(InvalidValue) as caught:
        parse_email(value, "owner")
    message = str(caught.value)
    shown = value if isinstance(value, str) else str(value)
    assert message.startswith(f"owner: {shown!r}"[:60])
    assert "is not a valid email address" in message
    assert detail in message
    assert "\n" not in message


def test_list_dedupes_keeping_order() -> None:
    result = parse_email_list(["b@x.org", "a@x.org", "B@X.org", "b@x.org", "c@x.org"], "watchers")
    assert result == ("b@x.org", "a@x.org", "c@x.org")


def test_list_forms() -> None:
    assert parse_email_list("a@x.org", "watchers") == ("a@x.org",)
    assert parse_email_list([], "watchers") == ()
    assert parse_email_list(None, "watchers") == ()
    assert parse_email_list(("a@x.org",), "watchers") == ("a@x.org",)


@pytest.mark.parametrize(
    "value", ["a@x.org, b@x.org", ["a@x.org", "bad"], 5, {"a@x.org": 1}, ["a@x.org", None]]
)
def test_list_rejected(value: object) -> None:
    with pytest.raises(InvalidValue) as caught:
        parse_email_list(value, "watchers")
    assert str(caught.value).startswith("watchers: ")


@given(st.text())
def test_arbitrary_text_only_raises_invalid_value(text: str) -> None:
    try:
        address = parse_email(text, "owner")
    except InvalidValue:
        return
    assert not any(char in address for char in ",<>\r\n\u2028\u2029 ")


@given(st.emails())
def test_generated_addresses_parse_or_fail_cleanly(address: str) -> None:
    with contextlib.suppress(InvalidValue):
        parse_email(address, "owner")


@given(
    st.one_of(
        st.none(),
        st.integers(),
        st.floats(),
        st.booleans(),
        st.binary(),
        st.lists(st.text(max_size=20), max_size=4),
        st.dictionaries(st.text(), st.text()),
    )
)
def test_arbitrary_objects_only_raise_invalid_value(value: object) -> None:
    for parse in (parse_email, parse_email_list):
        with contextlib.suppress(InvalidValue):
            parse(value, "watchers")
