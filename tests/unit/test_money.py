"""Money is exact Decimal pence: no float drift, no mis-read commas, no lost fractions."""

from __future__ import annotations

import contextlib
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tracker.domain.money import format_gbp, money_json, parse_money, parse_optional_money
from tracker.errors import InvalidValue

NOT_MONEY = "is not an amount of money: write 298403.22 or £298,403.22"

PENCE = st.decimals(
    min_value=Decimal(0),
    max_value=Decimal("999999999999.99"),
    places=2,
    allow_nan=False,
    allow_infinity=False,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("298403.22", "298403.22"),
        ("£298,403.22", "298403.22"),
        (" £ 298,403.22 ", "298403.22"),
        ("1,000,000.50", "1000000.50"),
        ("1,000", "1000.00"),
        ("999", "999.00"),
        ("12.5", "12.50"),
        ("0", "0.00"),
        ("£0.01", "0.01"),
        ("999999999999.99", "999999999999.99"),
        (32663.22, "32663.22"),
        (0.1, "0.10"),
        (575290, "575290.00"),
        (Decimal("142834"), "142834.00"),
        (Decimal("12.340"), "12.34"),
        (-0.0, "0.00"),
        (Decimal("-0"), "0.00"),
    ],
)
def test_accepted(value: object, expected: str) -> None:
    result = parse_money(value, "value")
    assert result == Decimal(expected)
    assert str(result) == expected


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("-1", "must not be negative"),
        ("-£1.00", "must not be negative"),
        ("£-1.00", "must not be negative"),
        (-5, "must not be negative"),
        (Decimal("-0.01"), "must not be negative"),
        (-3.5, "must not be negative"),
        ("12.345", "has more than two decimal places (pence)"),
        (Decimal("0.001"), "has more than two decimal places (pence)"),
        (0.1 + 0.2, "has more than two decimal places (pence)"),
        (10**12, "is too large (limit £999,999,999,999.99)"),
        ("1,000,000,000,000", "is too large (limit £999,999,999,999.99)"),
        (1e300, "is too large"),
        (Decimal("1E+30"), "is too large"),
        ("1,00", NOT_MONEY),
        ("12,3456", NOT_MONEY),
        ("1000,000", NOT_MONEY),
        (",100", NOT_MONEY),
        ("1e5", NOT_MONEY),
        ("1E5", NOT_MONEY),
        ("NaN", NOT_MONEY),
        ("Infinity", NOT_MONEY),
        (float("nan"), NOT_MONEY),
        (float("inf"), NOT_MONEY),
        (Decimal("NaN"), NOT_MONEY),
        (Decimal("sNaN"), NOT_MONEY),
        (Decimal("Infinity"), NOT_MONEY),
        (True, NOT_MONEY),
        (False, NOT_MONEY),
        (None, NOT_MONEY),
        ("", NOT_MONEY),
        ("   ", NOT_MONEY),
        ("5.", NOT_MONEY),
        (".5", NOT_MONEY),
        ("£", NOT_MONEY),
        ("$5", NOT_MONEY),
        ("5 GBP", NOT_MONEY),
        ("--5", NOT_MONEY),
        ("1 000", NOT_MONEY),
        ("5\n", NOT_MONEY),
        ("٥", NOT_MONEY),
        ([5], NOT_MONEY),
    ],
)
def test_rejected(value: object, reason: str) -> None:
    with pytest.raises(InvalidValue) as caught:
        parse_money(value, "value")
    text = value if isinstance(value, str) else str(value)
    assert str(caught.value).startswith(f"value: {text!r} {reason}")


def test_message_names_field_and_value() -> None:
    with pytest.raises(InvalidValue) as caught:
        parse_money("12.345", "amount")
    assert str(caught.value) == "amount: '12.345' has more than two decimal places (pence)"


def test_optional() -> None:
    assert parse_optional_money(None, "value") is None
    assert parse_optional_money("", "value") is None
    assert parse_optional_money(" ", "value") is None
    assert parse_optional_money("£5", "value") == Decimal("5.00")
    with pytest.raises(InvalidValue):
        parse_optional_money("-5", "value")


@pytest.mark.parametrize(
    ("amount", "gbp", "json"),
    [
        (Decimal("298403.22"), "£298,403.22", "298403.22"),
        (Decimal(0), "£0.00", "0.00"),
        (Decimal("-0.00"), "£0.00", "0.00"),
        (Decimal(-1), "-£1.00", "-1.00"),
        (Decimal("1000000.5"), "£1,000,000.50", "1000000.50"),
        (Decimal("999"), "£999.00", "999.00"),
        (Decimal("1E+3"), "£1,000.00", "1000.00"),
    ],
)
def test_formatting(amount: Decimal, gbp: str, json: str) -> None:
    assert format_gbp(amount) == gbp
    assert money_json(amount) == json


@given(PENCE)
def test_round_trip(amount: Decimal) -> None:
    assert parse_money(format_gbp(amount), "value") == amount
    assert parse_money(money_json(amount), "value") == amount
    assert parse_money(str(amount), "value") == amount
    assert parse_money(amount, "value") == amount


@given(PENCE, st.integers(min_value=1, max_value=9), st.integers(min_value=3, max_value=8))
def test_fractions_of_a_penny_rejected(amount: Decimal, digit: int, places: int) -> None:
    precise = amount + Decimal(digit).scaleb(-places)
    if precise >= Decimal(10) ** 12:
        return
    with pytest.raises(InvalidValue, match="more than two decimal places"):
        parse_money(format(precise, "f"), "value")  # plain notation: str() may give 1E-7
    with pytest.raises(InvalidValue, match="more than two decimal places"):
        parse_money(precise, "value")


@given(st.floats(min_value=0, max_value=1e9).map(lambda f: round(f, 2)))
def test_yaml_floats_with_pence_stay_exact(value: float) -> None:
    assert parse_money(value, "value") == Decimal(repr(value))


@given(
    st.one_of(
        st.text(),
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(),
        st.decimals(),
        st.binary(),
        st.lists(st.integers()),
    )
)
def test_only_invalid_value_escapes(value: object) -> None:
    for parse in (parse_money, parse_optional_money):
        with contextlib.suppress(InvalidValue):
            parse(value, "value")
