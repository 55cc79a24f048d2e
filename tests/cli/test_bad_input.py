"""Bad input through the real CLI: one ``Error:`` line naming the field and value, exit 1,
no traceback, and the database exactly as it was.

Every case runs on a database holding both seed contracts, so a command that wrongly
wrote something before failing would show up in the before/after dump.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import pytest
from support.cli import LANCS, NOW, WM, Result, Runner, dump


class Case(NamedTuple):
    args: tuple[str, ...]
    field: str  # the field or option the message must name
    value: str | None  # the bad value the message must show (as repr), None if none given


ADD = ("add", "NEW-1", "--title", "New service", "--provider", "Provider Ltd")
ADD_DATES = (*ADD, "--start", "1/4/2026", "--end", "31/3/2027")
FUNDING = ("funding", "add", LANCS, "--source", "Partners")
COST = ("cost", "add", LANCS)

BAD_DATES = {
    "feb31": "31/02/2026",
    "month13": "2026-13-01",
    "month-first": "12/31/2026",
    "words": "March 3 2026",
}


def _date_cases() -> dict[str, Case]:
    cases: dict[str, Case] = {}
    for key, bad in BAD_DATES.items():
        cases[f"add-start-{key}"] = Case(
            (*ADD, "--start", bad, "--end", "31/3/2027"), "--start", bad
        )
        cases[f"add-end-{key}"] = Case((*ADD, "--start", "1/4/2026", "--end", bad), "--end", bad)
        cases[f"add-extension-until-{key}"] = Case(
            (*ADD_DATES, "--extension-until", bad, "--extension-notice-days", "90"),
            "--extension-until",
            bad,
        )
        cases[f"add-extension-notice-by-{key}"] = Case(
            (*ADD_DATES, "--extension-until", "31/3/2028", "--extension-notice-by", bad),
            "--extension-notice-by",
            bad,
        )
        cases[f"milestone-add-date-{key}"] = Case(
            ("milestone", "add", LANCS, "review", bad), "DATE", bad
        )
        cases[f"milestone-add-after-{key}"] = Case(
            ("milestone", "add", LANCS, "publication", "--after", bad, "--working-days", "3"),
            "--after",
            bad,
        )
        cases[f"funding-confirm-by-{key}"] = Case(
            (*FUNDING, "--year", "2025/26", "--amount", "5", "--confirm-by", bad),
            "--confirm-by",
            bad,
        )
        cases[f"now-{key}"] = Case(("--now", bad, "list"), "--now", bad)
    return cases


def _year_cases() -> dict[str, Case]:
    cases: dict[str, Case] = {}
    for bad in ("2025/27", "2025", "2025/2026", "26/25"):
        cases[f"funding-year-{bad}"] = Case(
            (*FUNDING, "--year", bad, "--amount", "5"), "--year", bad
        )
        cases[f"cost-year-{bad}"] = Case((*COST, "--year", bad, "--amount", "5"), "--year", bad)
    return cases


def _money_cases() -> dict[str, Case]:
    cases: dict[str, Case] = {}
    for bad in ("-5", "12.345", "abc", "1e5", "£1,00"):
        cases[f"add-value-{bad}"] = Case((*ADD_DATES, "--value", bad), "--value", bad)
        cases[f"funding-amount-{bad}"] = Case(
            (*FUNDING, "--year", "2025/26", "--amount", bad), "--amount", bad
        )
        cases[f"cost-amount-{bad}"] = Case(
            (*COST, "--year", "2025/26", "--amount", bad), "--amount", bad
        )
    return cases


def _email_cases() -> dict[str, Case]:
    cases: dict[str, Case] = {}
    bad_emails = {
        "no-at": "not-an-email",
        "header-injection": "a@b.org\nBcc: x@y.org",
        "space": "ann smith@example.org",
    }
    for key, bad in bad_emails.items():
        for option in ("--owner", "--sponsor", "--watcher"):
            cases[f"add{option}-{key}"] = Case((*ADD_DATES, option, bad), option, bad)
    return cases


UNKNOWN = "NO-SUCH-REF"

OTHER_CASES: dict[str, Case] = {
    # empty or blank text
    "title-empty": Case(
        (
            "add",
            "NEW-1",
            "--title",
            "",
            "--provider",
            "P",
            "--start",
            "1/4/2026",
            "--end",
            "31/3/2027",
        ),
        "--title",
        "",
    ),
    "title-blank": Case(
        (
            "add",
            "NEW-1",
            "--title",
            "   ",
            "--provider",
            "P",
            "--start",
            "1/4/2026",
            "--end",
            "31/3/2027",
        ),
        "--title",
        "   ",
    ),
    "provider-blank": Case(
        (
            "add",
            "NEW-1",
            "--title",
            "T",
            "--provider",
            " ",
            "--start",
            "1/4/2026",
            "--end",
            "31/3/2027",
        ),
        "--provider",
        " ",
    ),
    "ref-blank": Case(
        (
            "add",
            "  ",
            "--title",
            "T",
            "--provider",
            "P",
            "--start",
            "1/4/2026",
            "--end",
            "31/3/2027",
        ),
        "ref",
        "  ",
    ),
    "title-two-lines": Case(
        (
            "add",
            "NEW-1",
            "--title",
            "a\nb",
            "--provider",
            "P",
            "--start",
            "1/4/2026",
            "--end",
            "31/3/2027",
        ),
        "--title",
        "a\nb",
    ),
    "funding-source-blank": Case(
        (*FUNDING[:3], "--source", "  ", "--year", "2025/26", "--amount", "5"), "--source", "  "
    ),
    # unknown ref, for every command that takes one
    "unknown-show": Case(("show", UNKNOWN), "ref", UNKNOWN),
    "unknown-show-json": Case(("show", UNKNOWN, "--json"), "ref", UNKNOWN),
    "unknown-extend": Case(("extend", UNKNOWN), "ref", UNKNOWN),
    "unknown-extend-decline": Case(("extend", UNKNOWN, "--decline"), "ref", UNKNOWN),
    "unknown-milestone-add": Case(
        ("milestone", "add", UNKNOWN, "review", "1/12/2024"), "ref", UNKNOWN
    ),
    "unknown-milestone-done": Case(("milestone", "done", UNKNOWN, "review"), "ref", UNKNOWN),
    "unknown-milestone-cancel": Case(("milestone", "cancel", UNKNOWN, "review"), "ref", UNKNOWN),
    "unknown-funding-add": Case(
        ("funding", "add", UNKNOWN, "--source", "S", "--year", "2025/26", "--amount", "5"),
        "ref",
        UNKNOWN,
    ),
    "unknown-cost-add": Case(
        ("cost", "add", UNKNOWN, "--year", "2025/26", "--amount", "5"), "ref", UNKNOWN
    ),
    "unknown-gaps": Case(("gaps", UNKNOWN), "ref", UNKNOWN),
    "unknown-gaps-json": Case(("gaps", UNKNOWN, "--json"), "ref", UNKNOWN),
    "unknown-milestone-id": Case(("milestone", "done", "999999"), "milestone", None),
    # milestone kinds
    "kind-unknown-add": Case(
        ("milestone", "add", LANCS, "meeting", "1/12/2024"), "KIND", "meeting"
    ),
    "kind-unknown-done": Case(("milestone", "done", LANCS, "meeting"), "KIND", "meeting"),
    "kind-unknown-cancel": Case(("milestone", "cancel", LANCS, "meeting"), "KIND", "meeting"),
    "kind-missing-done": Case(("milestone", "done", LANCS), "KIND", None),
    "milestone-add-no-date": Case(("milestone", "add", LANCS, "review"), "DATE", None),
    "milestone-add-bad-working-days": Case(
        (
            "milestone",
            "add",
            LANCS,
            "publication",
            "--after",
            "2/9/2024",
            "--working-days",
            "three",
        ),
        "--working-days",
        "three",
    ),
    "milestone-add-date-and-after": Case(
        (
            "milestone",
            "add",
            LANCS,
            "publication",
            "9/9/2024",
            "--after",
            "2/9/2024",
            "--working-days",
            "3",
        ),
        "DATE",
        "9/9/2024",
    ),
    "funding-status-unknown": Case(
        (*FUNDING, "--year", "2025/26", "--amount", "5", "--status", "maybe"), "--status", "maybe"
    ),
    # the contract as a whole
    "duplicate-ref-lancs": Case(
        (
            "add",
            LANCS,
            "--title",
            "T",
            "--provider",
            "P",
            "--start",
            "1/4/2026",
            "--end",
            "31/3/2027",
        ),
        "ref",
        LANCS,
    ),
    "duplicate-ref-west-mercia": Case(
        ("add", WM, "--title", "T", "--provider", "P", "--start", "1/4/2026", "--end", "31/3/2027"),
        "ref",
        WM,
    ),
    "end-before-start": Case(
        (*ADD, "--start", "1/4/2026", "--end", "31/3/2026"), "--end", "31/3/2026"
    ),
    "extension-until-before-end": Case(
        (*ADD_DATES, "--extension-until", "1/1/2027", "--extension-notice-days", "90"),
        "--extension-until",
        "2027-01-01",
    ),
    "extension-until-equal-end": Case(
        (*ADD_DATES, "--extension-until", "31/3/2027", "--extension-notice-days", "90"),
        "--extension-until",
        "2027-03-31",
    ),
    "extension-notice-by-after-end": Case(
        (*ADD_DATES, "--extension-until", "31/3/2028", "--extension-notice-by", "1/4/2027"),
        "--extension-notice-by",
        "2027-04-01",
    ),
    "extension-notice-days-not-a-number": Case(
        (*ADD_DATES, "--extension-until", "31/3/2028", "--extension-notice-days", "ninety"),
        "--extension-notice-days",
        "ninety",
    ),
    "extension-notice-both": Case(
        (
            *ADD_DATES,
            "--extension-until",
            "31/3/2028",
            "--extension-notice-days",
            "90",
            "--extension-notice-by",
            "1/1/2027",
        ),
        "--extension-notice-by",
        "31/3/2028",
    ),
    "extension-notice-days-without-until": Case(
        (*ADD_DATES, "--extension-notice-days", "90"), "--extension-until", None
    ),
    "extension-notice-by-without-until": Case(
        (*ADD_DATES, "--extension-notice-by", "1/1/2027"), "--extension-until", None
    ),
    "intervention-months-zero": Case(
        (*ADD_DATES, "--intervention-months", "0"), "--intervention-months", "0"
    ),
    "intervention-months-text": Case(
        (*ADD_DATES, "--intervention-months", "a year"), "--intervention-months", "a year"
    ),
    # missing required options and arguments: usage errors, also one line
    "missing-title": Case(
        ("add", "NEW-1", "--provider", "P", "--start", "1/4/2026", "--end", "31/3/2027"),
        "--title",
        None,
    ),
    "missing-provider": Case(
        ("add", "NEW-1", "--title", "T", "--start", "1/4/2026", "--end", "31/3/2027"),
        "--provider",
        None,
    ),
    "missing-start": Case((*ADD, "--end", "31/3/2027"), "--start", None),
    "missing-end": Case((*ADD, "--start", "1/4/2026"), "--end", None),
    "missing-funding-source": Case(
        ("funding", "add", LANCS, "--year", "2025/26", "--amount", "5"), "--source", None
    ),
    "missing-funding-year": Case((*FUNDING, "--amount", "5"), "--year", None),
    "missing-funding-amount": Case((*FUNDING, "--year", "2025/26"), "--amount", None),
    "missing-cost-year": Case((*COST, "--amount", "5"), "--year", None),
    "missing-cost-amount": Case((*COST, "--year", "2025/26"), "--amount", None),
    "missing-show-ref": Case(("show",), "ref", None),
    "missing-milestone-kind": Case(("milestone", "add", LANCS), "kind", None),
    "unknown-option": Case((*ADD_DATES, "--colour", "red"), "--colour", None),
    "unknown-command": Case(("frobnicate",), "frobnicate", None),
    "ending-within-negative": Case(("list", "--ending-within", "-1"), "--ending-within", None),
    "ending-within-text": Case(("list", "--ending-within", "soon"), "--ending-within", None),
    "timeline-days-text": Case(("timeline", "--days", "many"), "--days", None),
    # extend with no option available
    "extend-no-option": Case(("extend", WM), "ref", WM),
    "extend-decline-no-option": Case(("extend", WM, "--decline"), "ref", WM),
    "now-impossible": Case(("--now", "13/13/24", "list"), "--now", "13/13/24"),
    "now-garbage": Case(("--now", "yesterday", "list"), "--now", "yesterday"),
}

CASES: dict[str, Case] = {
    **_date_cases(),
    **_year_cases(),
    **_money_cases(),
    **_email_cases(),
    **OTHER_CASES,
}


def assert_one_line_error(result: Result) -> str:
    """Exit 1, exactly one ``Error: `` line on stderr, nothing on stdout, no traceback."""
    assert result.code == 1, result
    assert "Traceback" not in result.err, result
    assert "Traceback" not in result.out, result
    assert result.out.strip() == "", result
    assert result.err.startswith("Error: "), result
    assert result.err.endswith("\n"), result
    assert result.err.count("\n") == 1, f"more than one line: {result.err!r}"
    assert "\r" not in result.err
    return result.err.rstrip("\n")


@pytest.mark.parametrize("case", list(CASES.values()), ids=list(CASES))
def test_bad_input_is_one_line_exit_1_and_changes_nothing(
    seeded: Runner, db_path: Path, case: Case
) -> None:
    before = dump(db_path)
    result = seeded("--now", NOW, *case.args)
    line = assert_one_line_error(result)
    assert case.field in line, f"field {case.field!r} not named in {line!r}"
    if case.value is not None:
        assert repr(case.value) in line, f"value {case.value!r} not shown in {line!r}"
    assert dump(db_path) == before, "a failing command changed the database"


def test_there_are_enough_cases() -> None:
    assert len(CASES) >= 60


def test_month_first_date_hints_day_first(seeded: Runner) -> None:
    result = seeded(*ADD, "--start", "1/4/2026", "--end", "12/31/2026")
    line = assert_one_line_error(result)
    assert "day first" in line


def test_extension_without_notice_names_the_options(seeded: Runner, db_path: Path) -> None:
    before = dump(db_path)
    result = seeded(*ADD_DATES, "--extension-until", "31/3/2028")
    line = assert_one_line_error(result)
    assert dump(db_path) == before
    assert "None" not in line, line
    assert "--extension-notice-days" in line
    assert "--extension-notice-by" in line


def test_extend_after_the_only_option_is_used_fails_and_changes_nothing(
    seeded: Runner, db_path: Path
) -> None:
    assert seeded("--now", NOW, "extend", LANCS).code == 0
    before = dump(db_path)
    line = assert_one_line_error(seeded("--now", NOW, "extend", LANCS))
    assert repr(LANCS) in line
    assert "extension" in line
    assert dump(db_path) == before


def test_error_on_an_empty_database_is_one_line(cli: Runner) -> None:
    line = assert_one_line_error(cli("show", LANCS))
    assert repr(LANCS) in line


def test_unreadable_database_is_one_line(cli: Runner, db_path: Path) -> None:
    db_path.write_bytes(b"this is not a database" * 100)
    line = assert_one_line_error(cli("list"))
    assert "database" in line


def test_bad_database_url_is_one_line(cli: Runner) -> None:
    result = cli("--db", "mysql://nobody@nowhere/x", "list")
    line = assert_one_line_error(result)
    assert "mysql" in line


def test_missing_config_file_is_one_line(cli: Runner, tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    line = assert_one_line_error(cli("--config", str(missing), "list"))
    assert "--config" in line


def test_a_database_locked_by_another_writer_is_one_line(seeded: Runner, db_path: Path) -> None:
    """A lock held elsewhere (another process mid-write) is an error line, not a traceback."""
    import sqlite3

    other = sqlite3.connect(db_path, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("UPDATE contracts SET title = title")
        result = seeded("--now", NOW, "cost", "add", LANCS, "--year", "2025/26", "--amount", "5")
    finally:
        other.execute("ROLLBACK")
        other.close()
    line = assert_one_line_error(result)
    assert "database" in line


HUGE_ID = "99999999999999999999"


@pytest.mark.parametrize("command", ["done", "cancel"])
def test_a_huge_milestone_id_is_one_line(seeded: Runner, db_path: Path, command: str) -> None:
    before = dump(db_path)
    line = assert_one_line_error(seeded("--now", NOW, "milestone", command, HUGE_ID))
    assert HUGE_ID in line
    assert dump(db_path) == before


@pytest.mark.parametrize("days", ["3000000", "99999999999"])
def test_a_huge_ending_within_is_one_line(seeded: Runner, days: str) -> None:
    line = assert_one_line_error(seeded("--now", NOW, "list", "--ending-within", days))
    assert "--ending-within" in line


def test_a_huge_timeline_horizon_still_works(seeded: Runner) -> None:
    result = seeded("--now", NOW, "timeline", "--days", "99999999999", "--json")
    assert result.code == 0, result
