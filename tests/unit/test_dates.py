"""Dates are read ISO or UK day-first, never month-first; impossible dates are errors."""

from __future__ import annotations

import contextlib
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tracker.domain.dates import (
    format_iso,
    format_london,
    format_london_day_time,
    format_london_time,
    format_long,
    format_uk,
    format_uk_padded,
    parse_date,
    parse_financial_year,
    parse_now,
    parse_optional_date,
    weekday_name,
)
from tracker.domain.types import FinancialYear
from tracker.errors import InvalidValue

IN_RANGE = st.dates(min_value=date(1990, 1, 1), max_value=date(2200, 12, 31))


def test_named_example_2_9_24_is_2_september_2024() -> None:
    assert parse_date("2/9/24", "start") == date(2024, 9, 2)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-03-31", date(2026, 3, 31)),
        ("2026-3-31", date(2026, 3, 31)),
        ("2026-3-1", date(2026, 3, 1)),
        ("31/3/2026", date(2026, 3, 31)),
        ("31/03/2026", date(2026, 3, 31)),
        ("31/03/26", date(2026, 3, 31)),
        ("31.03.2026", date(2026, 3, 31)),
        ("1.4.25", date(2025, 4, 1)),
        ("  31/03/2026  ", date(2026, 3, 31)),
        ("29/02/2024", date(2024, 2, 29)),
        ("1/1/1990", date(1990, 1, 1)),
        ("31/12/2200", date(2200, 12, 31)),
        ("12/1/2026", date(2026, 1, 12)),
    ],
)
def test_accepted_forms(text: str, expected: date) -> None:
    assert parse_date(text, "start") == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("31/02/2026", "is not a real date (February 2026 has 28 days)"),
        ("29/02/2025", "is not a real date (February 2025 has 28 days)"),
        ("31/04/2026", "is not a real date (April 2026 has 30 days)"),
        ("2026-13-01", "is not a real date (there is no month 13)"),
        ("12/31/2026", "is not a real date (there is no month 31; dates are day first)"),
        ("0/1/2026", "is not a real date (there is no day 0)"),
        ("1/0/2026", "is not a real date (there is no month 0)"),
        ("1/1/1989", "is out of range (years 1990 to 2200)"),
        ("2201-01-01", "is out of range (years 1990 to 2200)"),
        ("March 3 2026", "is not a date: write 2026-03-31 or 31/03/2026 (day first)"),
        ("2026/03/31", "is not a date"),
        ("20260331", "is not a date"),
        ("31/03-2026", "is not a date"),
        ("31/3/026", "is not a date"),
        ("", "is not a date"),
        ("   ", "is not a date"),
        ("31/03/2026\n", "is not a date"),
        ("31/03/\x002026", "is not a date"),
        ("٣١/٠٣/٢٠٢٦", "is not a date"),
    ],
)
def test_rejected_strings(text: str, reason: str) -> None:
    with pytest.raises(InvalidValue) as caught:
        parse_date(text, "start")
    assert str(caught.value).startswith(f"start: {text!r} {reason}")
    assert caught.value.field == "start"


def test_message_shows_field_and_value() -> None:
    with pytest.raises(InvalidValue) as caught:
        parse_date("31/02/2026", "start")
    assert "start: '31/02/2026'" in str(caught.value)


@pytest.mark.parametrize("value", [None, True, False, 20260331, 2026.0, [2026, 3, 31], {}])
def test_rejected_non_strings(value: object) -> None:
    with pytest.raises(InvalidValue, match="is not a date"):
        parse_date(value, "end")


def test_date_objects() -> None:
    assert parse_date(date(2026, 3, 31), "end") == date(2026, 3, 31)
    assert parse_date(datetime(2026, 3, 31), "end") == date(2026, 3, 31)
    with pytest.raises(InvalidValue, match="is a date and time"):
        parse_date(datetime(2026, 3, 31, 9, 30), "end")
    with pytest.raises(InvalidValue, match="out of range"):
        parse_date(date(1900, 1, 1), "end")


def test_optional_date() -> None:
    assert parse_optional_date(None, "notice_by") is None
    assert parse_optional_date("", "notice_by") is None
    assert parse_optional_date("  ", "notice_by") is None
    assert parse_optional_date("1/4/25", "notice_by") == date(2025, 4, 1)
    with pytest.raises(InvalidValue):
        parse_optional_date("31/02/2026", "notice_by")


@given(IN_RANGE)
def test_written_forms_parse_back_day_first(day: date) -> None:
    assert parse_date(f"{day.day}/{day.month}/{day.year}", "d") == day
    assert parse_date(f"{day.day}.{day.month}.{day.year}", "d") == day
    assert parse_date(day.isoformat(), "d") == day
    assert parse_date(format_iso(day), "d") == day


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31)))
def test_two_digit_years_parse_back(day: date) -> None:
    assert parse_date(f"{day.day:02d}/{day.month:02d}/{day.year % 100:02d}", "d") == day


@given(IN_RANGE.filter(lambda d: d.day > 12))
def test_month_first_is_rejected(day: date) -> None:
    with pytest.raises(InvalidValue, match="no month"):
        parse_date(f"{day.month}/{day.day}/{day.year}", "d")


@given(st.text())
def test_arbitrary_text_only_raises_invalid_value(text: str) -> None:
    try:
        parse_date(text, "d")
        parse_optional_date(text, "d")
    except InvalidValue:
        pass


ANYTHING = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True),
    st.decimals(allow_nan=True),
    st.binary(),
    st.text(),
    st.dates(),
    st.datetimes(),
    st.lists(st.integers()),
    st.dictionaries(st.text(), st.integers()),
)


@given(ANYTHING)
def test_arbitrary_objects_only_raise_invalid_value(value: object) -> None:
    for parse in (parse_date, parse_optional_date, parse_financial_year):
        with contextlib.suppress(InvalidValue):
            parse(value, "d")


# -- financial years ----------------------------------------------------------------


@pytest.mark.parametrize("text", ["2025/26", "2025-26", "25/26", "25-26", " 2025/26 "])
def test_financial_year_forms(text: str) -> None:
    assert parse_financial_year(text, "year") == FinancialYear(2025)


def test_financial_year_across_century() -> None:
    assert parse_financial_year("2099/00", "year") == FinancialYear(2099)
    assert parse_financial_year("1999/00", "year") == FinancialYear(1999)
    assert parse_financial_year(FinancialYear(2018), "year") == FinancialYear(2018)


@pytest.mark.parametrize(
    "value", ["2025/27", "2025/25", "2025", 2025, 2025.0, "2025/2026", "FY25", "", None, True]
)
def test_financial_year_rejected(value: object) -> None:
    with pytest.raises(InvalidValue) as caught:
        parse_financial_year(value, "year")
    assert str(caught.value) == (
        f"year: {str(value)!r} is not a financial year: 2025/26 runs 1 April 2025 to 31 March 2026"
    )


@pytest.mark.parametrize("value", ["1989/90", "2201/02", FinancialYear(1900)])
def test_financial_year_out_of_range(value: object) -> None:
    with pytest.raises(InvalidValue, match="out of range"):
        parse_financial_year(value, "year")


@given(st.integers(min_value=1990, max_value=2200))
def test_financial_year_round_trip(start: int) -> None:
    year = FinancialYear(start)
    assert parse_financial_year(str(year), "year") == year
    assert parse_financial_year(str(year).replace("/", "-"), "year") == year
    if 2000 <= start <= 2099:
        short = f"{start % 100:02d}/{(start + 1) % 100:02d}"
        assert parse_financial_year(short, "year") == year
        assert parse_financial_year(short.replace("/", "-"), "year") == year


@given(st.text())
def test_financial_year_arbitrary_text(text: str) -> None:
    with contextlib.suppress(InvalidValue):
        parse_financial_year(text, "year")


# -- --now --------------------------------------------------------------------------


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-09-02T09:30", utc(2024, 9, 2, 8, 30)),  # BST
        ("2024-09-02 09:30", utc(2024, 9, 2, 8, 30)),
        ("2024-12-02T09:30", utc(2024, 12, 2, 9, 30)),  # GMT
        ("2024-09-02T08:30:00Z", utc(2024, 9, 2, 8, 30)),
        ("2024-09-02T09:30:00+01:00", utc(2024, 9, 2, 8, 30)),
        ("2024-09-02T03:30-05:00", utc(2024, 9, 2, 8, 30)),
        ("2024-09-02T09:30:15.5", utc(2024, 9, 2, 8, 30, 15, 500000)),
        ("2024-09-02", utc(2024, 9, 2, 11, 0)),  # noon BST
        ("2024-12-02", utc(2024, 12, 2, 12, 0)),  # noon GMT
        ("2/9/24", utc(2024, 9, 2, 11, 0)),
        ("2/9/24 09:30", utc(2024, 9, 2, 8, 30)),
        ("02/09/2024 09:30Z", utc(2024, 9, 2, 9, 30)),
        ("2024-10-27T01:30", utc(2024, 10, 27, 0, 30)),  # the repeated hour: first (BST) one
    ],
)
def test_parse_now(text: str, expected: datetime) -> None:
    result = parse_now(text)
    assert result == expected
    assert result.tzinfo is UTC


def test_date_only_now_makes_nine_oclock_reminders_due() -> None:
    now = parse_now("2/9/24")
    nine_london = datetime(2024, 9, 2, 9, 0, tzinfo=timezone(timedelta(hours=1)))
    assert now > nine_london


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("2024-03-31T01:30", "is not a London time"),
        ("2024-09-02T24:00", "is not a real time of day"),
        ("2024-09-02T09:60", "is not a real time of day"),
        ("2024-09-02T09:30+25:00", "impossible UTC offset"),
        ("31/02/2026 09:30", "is not a real date (February 2026 has 28 days)"),
        ("12/31/2026", "there is no month 31"),
        ("yesterday", "is not a date and time"),
        ("2024-09-02T", "is not a date and time"),
        ("09:30", "is not a date and time"),
        ("2024-09-02Z", "is not a date and time"),
        ("", "is not a date and time"),
        ("2024-09-02T09:30\n", "is not a date and time"),
    ],
)
def test_parse_now_rejected(text: str, reason: str) -> None:
    with pytest.raises(InvalidValue) as caught:
        parse_now(text)
    assert str(caught.value).startswith(f"--now: {text!r} ")
    assert reason in str(caught.value)


@given(st.text())
def test_parse_now_arbitrary_text(text: str) -> None:
    with contextlib.suppress(InvalidValue):
        parse_now(text)


@given(st.datetimes(min_value=datetime(1990, 1, 2), max_value=datetime(2200, 12, 30)))
def test_parse_now_utc_round_trip(moment: datetime) -> None:
    aware = moment.replace(tzinfo=UTC)
    assert parse_now(aware.isoformat().replace("+00:00", "Z")) == aware


# -- formatting ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "uk"),
    [
        (date(2025, 3, 31), "31 Mar 2025"),
        (date(2024, 9, 2), "2 Sep 2024"),
        (date(2026, 12, 1), "1 Dec 2026"),
    ],
)
def test_format_uk(day: date, uk: str) -> None:
    assert format_uk(day) == uk
    assert format_iso(day) == day.isoformat()


# -- formatting never follows the process locale ----------------------------------------

#: German names, as ``strftime`` would give them with ``LC_TIME=de_DE``.
_GERMAN = {"%b": "Okt", "%B": "Oktober", "%a": "Mo", "%A": "Montag"}


@pytest.fixture
def german_strftime(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make every month and weekday name ``strftime`` writes German.

    Only C, C.utf8 and POSIX may be installed, so rather than switch locale this
    stands in for one: ``date.__format__`` and ``strftime`` go through
    ``time.strftime``, so a formatter that relies on them would write ``Okt``.
    """
    import time

    original = time.strftime

    def localised(fmt: str, *args: object) -> str:
        for directive, name in _GERMAN.items():
            fmt = fmt.replace(directive, name)
        return original(fmt, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(time, "strftime", localised)


def test_the_stand_in_locale_does_change_strftime(german_strftime: None) -> None:
    assert f"{date(2024, 10, 7):%b}" == "Okt"  # so the tests below can fail


@pytest.mark.parametrize("name", ["de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8", "fr_FR.utf8"])
def test_month_names_are_english_under_an_installed_locale(name: str) -> None:
    import locale

    saved = locale.setlocale(locale.LC_TIME)
    try:
        locale.setlocale(locale.LC_TIME, name)
    except locale.Error:
        pytest.skip(f"locale {name} is not installed")
    try:
        assert format_uk(date(2024, 10, 7)) == "7 Oct 2024"
        assert format_long(date(2024, 10, 7)) == "7 October 2024"
    finally:
        locale.setlocale(locale.LC_TIME, saved)


def test_formatters_write_english_names_whatever_the_locale(german_strftime: None) -> None:
    moment = datetime(2024, 10, 7, 8, 5, 9, tzinfo=UTC)  # 09:05 in London (BST)
    day = date(2024, 10, 7)
    assert format_uk(day) == "7 Oct 2024"
    assert format_uk_padded(date(2024, 10, 2)) == "02 Oct 2024"
    assert format_long(day) == "7 October 2024"
    assert weekday_name(day) == "Monday"
    assert format_london(moment) == "7 Oct 2024 09:05"
    assert format_london_time(moment) == "07 Oct 2024 09:05"
    assert format_london_day_time(moment) == "07 Oct 09:05:09"


def test_texts_built_from_dates_write_english_names(german_strftime: None) -> None:
    from tracker.domain.digest import period_label
    from tracker.domain.milestones import computed_due, given_due_note

    assert period_label(date(2024, 10, 7), weekly=True) == "week of 7 Oct 2024"
    assert period_label(date(2024, 10, 7), weekly=False) == "7 Oct 2024"
    _, note = computed_due(date(2024, 10, 6), "6 October 2024 less 0 days")
    assert "Okt" not in note and "Oktober" not in note
    assert "Sonntag" not in given_due_note(date(2024, 10, 6), "serve notice")


def test_impossible_day_names_the_month_in_english(german_strftime: None) -> None:
    with pytest.raises(InvalidValue, match="February 2023 has 28 days"):
        parse_date("2023-02-30", "start")


@given(IN_RANGE)
def test_format_uk_matches_strftime_in_the_c_locale(day: date) -> None:
    assert format_uk(day) == f"{day.day} {day:%b %Y}"
    assert format_long(day) == f"{day.day} {day:%B %Y}"
    assert weekday_name(day) == f"{day:%A}"
    assert format_uk_padded(day) == f"{day:%d %b %Y}"
