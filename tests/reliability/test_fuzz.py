"""Hypothesis against the YAML importer (through the real CLI) and the value parsers.

The importer: any document -- arbitrary nested data shaped like ``{"contracts": [...]}``
or arbitrary text -- gives exit 0 or exit 1 with one ``Error:`` line, never a traceback,
and ``--dry-run`` writes nothing. The parsers (dates, financial years, money, whole
numbers, text, emails): any object raises nothing but ``InvalidValue``, and what they
accept is sane (ASCII digits only, exact pence, in range). ``tests/unit`` already fuzzes
them with plain text and simple objects; these add unicode digits, near-miss shapes and
odd types.
"""

from __future__ import annotations

import string
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from reliability_support import FIGURES
from support.cli import Result, dump, in_process, isolate

from tracker.domain.dates import MAX_YEAR, MIN_YEAR, parse_date, parse_financial_year
from tracker.domain.emails import parse_email
from tracker.domain.money import LIMIT, PENNY, parse_money
from tracker.domain.text import parse_positive_int, parse_text
from tracker.domain.types import FinancialYear
from tracker.errors import InvalidValue
from tracker.service.registers.inputs import (
    CONTRACT_FIELDS,
    COST_FIELDS,
    DECISION_FIELDS,
    EXTENSION_FIELDS,
    FUNDING_FIELDS,
    MILESTONE_FIELDS,
    POLICY_FIELDS,
)

FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
#: Each example of the importer runs the whole CLI (a valid file opens the database).
FUZZ_CLI = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# ------------------------------------------------------------------ the YAML importer

DIGITS = "0123456789"
UNICODE_DIGITS = "٠١٢٣٤٥٦٧٨٩０１２３４５６７８９۳߃१३"

date_like = st.one_of(
    st.dates(min_value=date(1900, 1, 1), max_value=date(2300, 12, 31)).map(str),
    st.builds(
        "{}/{}/{}".format,
        st.integers(0, 40),
        st.integers(0, 14),
        st.sampled_from(["24", "2024", "1889", "2301", "99", "0"]),
    ),
    st.text(alphabet=DIGITS + "/-. " + UNICODE_DIGITS, max_size=12),
)
money_like = st.one_of(
    st.decimals(allow_nan=True, allow_infinity=True, places=3).map(str),
    st.integers(min_value=-(10**15), max_value=10**31),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["£1,000.00", "1,00", "£-5", "1e5", "NaN", "12.345", "", " "]),
)
year_like = st.one_of(
    st.builds("{}/{:02d}".format, st.integers(1880, 2310), st.integers(0, 99)),
    st.integers(1880, 2310),
    st.text(alphabet=DIGITS + "/-" + UNICODE_DIGITS, max_size=9),
)
scalar = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**20), max_value=10**31),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.dates(),
    date_like,
    money_like,
)
anything = st.recursive(
    scalar,
    lambda children: st.one_of(
        st.lists(children, max_size=3),
        st.dictionaries(st.text(max_size=10), children, max_size=3),
    ),
    max_leaves=12,
)


def _record(fields: frozenset[str], values: st.SearchStrategy[object]) -> st.SearchStrategy[object]:
    keys = st.one_of(st.sampled_from(sorted(fields)), st.text(max_size=8))
    return st.dictionaries(keys, values, max_size=len(fields) + 1)


good_contract = st.fixed_dictionaries(
    {
        "ref": st.text(alphabet=string.ascii_uppercase + "-/", min_size=1, max_size=12),
        "title": st.just("A service"),
        "provider": st.just("Provider Ltd"),
        "start": st.just("2024-04-01"),
        "end": st.just("31/03/2026"),
    }
)
field_value = st.one_of(
    anything,
    date_like,
    money_like,
    year_like,
    st.lists(_record(EXTENSION_FIELDS, st.one_of(date_like, anything)), max_size=2),
    st.lists(_record(FUNDING_FIELDS, st.one_of(year_like, money_like, anything)), max_size=2),
    st.lists(_record(COST_FIELDS, st.one_of(year_like, money_like, anything)), max_size=2),
    st.lists(_record(MILESTONE_FIELDS, st.one_of(date_like, anything)), max_size=2),
    st.lists(_record(DECISION_FIELDS, st.one_of(date_like, anything)), max_size=2),
    st.dictionaries(
        st.sampled_from(["review", "custom", "meeting"]), _record(POLICY_FIELDS, anything)
    ),
)
contract = st.one_of(
    # a valid contract with some fields replaced or added
    st.tuples(good_contract, _record(CONTRACT_FIELDS, field_value)).map(lambda t: {**t[0], **t[1]}),
    _record(CONTRACT_FIELDS, field_value),
    anything,
)
document = st.one_of(
    st.builds(lambda items: {"contracts": items}, st.lists(contract, max_size=3)),
    st.dictionaries(st.sampled_from(["contracts", "extra"]), st.lists(contract, max_size=2)),
    anything,
)

YAML_ALPHABET = string.ascii_letters + DIGITS + " :-[]{},&*!|>'\"#%@`?\n\t." + "£é\u2028\u202e"
yaml_text = st.one_of(
    st.text(max_size=200),
    st.text(alphabet=YAML_ALPHABET, max_size=200),
    st.builds(
        lambda body: "contracts:\n  - " + body,
        st.text(alphabet=YAML_ALPHABET, max_size=150),
    ),
)


EMPTY_DUMP: list[str] = []


@pytest.fixture(scope="module")
def fuzz_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One database for the whole module (created once; dry runs must not change it)."""
    base = tmp_path_factory.mktemp("fuzz")
    path = base / "t.db"
    with pytest.MonkeyPatch.context() as monkeypatch:
        isolate(monkeypatch, base)
        assert in_process(["--db", f"sqlite+aiosqlite:///{path}", "init"]).code == 0
    EMPTY_DUMP[:] = [dump(path)]
    return path


def _dry_run(db: Path, path: Path) -> Result:
    return in_process(
        [
            "--db",
            f"sqlite+aiosqlite:///{db}",
            "--now",
            "2024-09-02",
            "import",
            str(path),
            "--dry-run",
        ]
    )


def _clean(result: Result) -> None:
    assert "Traceback" not in result.err + result.out, result
    assert result.code in (0, 1), result
    if result.code == 1:
        assert result.err.startswith("Error: "), result
        assert result.err.count("\n") == 1, result
    else:
        assert "Would import" in result.out, result


@FUZZ_CLI
@given(doc=document)
def test_yaml_importer_on_arbitrary_data_is_exit_0_or_one_error_line(
    fuzz_db: Path, tmp_path: Path, isolated_env: Path, doc: object
) -> None:
    FIGURES.inputs()
    path = tmp_path / "fuzz.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    result = _dry_run(fuzz_db, path)
    _clean(result)
    if result.code == 0:  # only a valid file reaches the database: --dry-run must not write
        assert dump(fuzz_db) == EMPTY_DUMP[0]


@FUZZ_CLI
@given(text=yaml_text)
def test_yaml_importer_on_arbitrary_text_is_exit_0_or_one_error_line(
    fuzz_db: Path, tmp_path: Path, isolated_env: Path, text: str
) -> None:
    FIGURES.inputs()
    path = tmp_path / "fuzz.yaml"
    path.write_bytes(text.encode("utf-8", "surrogatepass"))
    _clean(_dry_run(fuzz_db, path))


@FUZZ
@example(year=2026, month=13, day=1)
@given(
    year=st.integers(1000, 9999),
    month=st.integers(0, 99),
    day=st.integers(0, 99),
)
def test_yaml_importer_on_unquoted_iso_dates_is_exit_0_or_one_error_line(
    fuzz_db: Path, tmp_path: Path, isolated_env: Path, year: int, month: int, day: int
) -> None:
    FIGURES.inputs()
    path = tmp_path / "dates.yaml"
    path.write_text(
        "contracts:\n  - ref: D-1\n    title: T\n    provider: P\n    start: 2024-04-01\n"
        f"    end: {year}-{month:02d}-{day:02d}\n"
    )
    _clean(_dry_run(fuzz_db, path))


# ------------------------------------------------------------------------- the parsers

odd_objects = st.one_of(
    st.from_type(type).flatmap(st.from_type).filter(lambda v: not isinstance(v, type)),
    st.binary(),
    st.complex_numbers(allow_nan=True, allow_infinity=True),
    st.fractions(),
    st.timedeltas(),
    st.times(),
    st.datetimes(timezones=st.just(UTC)),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.sampled_from([Decimal("sNaN"), Decimal("-0"), Decimal("1E+1000"), Fraction(1, 3)]),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.builds(FinancialYear, st.integers(1, 9998)),
    st.sets(st.integers(), max_size=3),
    st.frozensets(st.text(max_size=3), max_size=3),
    st.tuples(st.integers(), st.text(max_size=3)),
)
near_miss_text = st.one_of(
    st.text(alphabet=DIGITS + UNICODE_DIGITS + "/-.,£ +e", max_size=20),
    st.builds("{}/{}/{}".format, st.sampled_from([*list(UNICODE_DIGITS), "31", "1"]),
              st.sampled_from([*list(UNICODE_DIGITS), "3", "12"]),
              st.sampled_from(["٢٠٢٦", "２０２６", "2026", "26"])),
    st.builds(str, st.decimals(allow_nan=True, allow_infinity=True)),
    st.text(),
)  # fmt: skip

PARSERS = {
    "date": lambda v: parse_date(v, "f"),
    "year": lambda v: parse_financial_year(v, "f"),
    "money": lambda v: parse_money(v, "f"),
    "int": lambda v: parse_positive_int(v, "f"),
    "text": lambda v: parse_text(v, "f"),
    "email": lambda v: parse_email(v, "f"),
}


def _check_accepted(kind: str, value: object, result: object) -> None:
    """What a parser accepts is sane: ASCII digits, in range, exact pence."""
    if isinstance(value, str) and kind in ("date", "year", "money", "int"):
        digits = [c for c in value if c.isdigit()]
        assert all(c in DIGITS for c in digits), (kind, value, result)
    if kind == "date":
        assert isinstance(result, date) and MIN_YEAR <= result.year <= MAX_YEAR
    elif kind == "year":
        assert isinstance(result, FinancialYear) and MIN_YEAR <= result.start_year <= MAX_YEAR
    elif kind == "money":
        assert isinstance(result, Decimal) and result.is_finite()
        assert 0 <= result < LIMIT and result == result.quantize(PENNY)
    elif kind == "int":
        assert isinstance(result, int) and not isinstance(result, bool) and result >= 0
    elif kind in ("text", "email"):
        assert isinstance(result, str) and "\n" not in result and "\r" not in result


@FUZZ
@example(value="٣/٣/٢٠٢٦")
@example(value="３１/０３/２０２６")
@example(value="２０２５/２６")
@example(value="１２３")
@example(value=Decimal("sNaN"))
@example(value=time(9, 0))
@example(value=datetime(2026, 3, 31, tzinfo=UTC))
@example(value=timedelta(days=1))
@given(value=st.one_of(odd_objects, near_miss_text))
def test_parsers_raise_only_invalid_value_and_accept_only_sane_values(value: object) -> None:
    for kind, parse in PARSERS.items():
        FIGURES.inputs()
        try:
            result = parse(value)
        except InvalidValue as error:
            assert "\n" not in str(error)
            continue
        _check_accepted(kind, value, result)
