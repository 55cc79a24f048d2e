"""The bad-input corpus: every command that writes, field by field, with the inputs the
real world sends -- years out of range, huge and non-finite numbers, empty and blank
text, unknown kinds and refs, YAML nested wrong, unknown keys at every level, alias and
nesting bombs, a 50 MB file, CSV as spreadsheets save it.

Each case must give exit code 1, exactly one ``Error:`` line on stderr naming the field
(or option) and the value -- or, for a file, the file and ``line N`` -- no traceback, and
leave the database byte-for-byte as it was (a dump before and after).

``tests/cli/test_bad_input.py`` already covers the basic classes (feb 31, month 13,
month-first, negative money, 12.345, bad emails, unknown refs of show/extend/milestone/
funding/cost, missing options); nothing here repeats those exact cases.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import NamedTuple

import pytest
from reliability_support import FIGURES
from support.cli import LANCS, NOW, Runner, dump, error_line

UNKNOWN = "NO-SUCH-REF"
HUGE = "1" + "0" * 30  # 10**30


class Case(NamedTuple):
    args: tuple[str, ...]
    field: str  # the field or option the line must name
    value: str | None  # the value the line must show (as repr), None: not checked


ADD = ("add", "NEW-1", "--title", "New service", "--provider", "Provider Ltd")
START_END = ("--start", "1/4/2026", "--end", "31/3/2027")
ADD_OK = (*ADD, *START_END)
FUNDING = ("funding", "add", LANCS, "--source", "Partners")
COST = ("cost", "add", LANCS)
DECISION = ("decision", "add", LANCS, "--id", "20/2024", "--date", "2/9/2024")
POLICY = ("policy", "set", LANCS, "review")

YEARS_OUT_OF_RANGE = {
    "1889": "1/1/1889",
    "2301": "2301-01-01",
    "1989": "31/12/1989",
    "2201": "1/1/2201",
}
OTHER_BAD_DATES = {
    "feb29-2025": "29/02/2025",  # not a leap year
    "iso-feb30": "2026-02-30",
    "day0": "00/01/2026",
    "ymd-slashes": "2026/03/31",
    "uk-dashes": "31-03-2026",
    "month-first-dots": "3.31.2026",
    "words": "31 March 2026",
    "with-time": "2026-03-31T00:00",
    "empty": "",
    "blank": "   ",
    "fullwidth": "３１/０３/２０２６",
    "arabic-indic": "٣١/٠٣/٢٠٢٦",
}
BAD_MONEY = {
    "huge": HUGE,
    "trillion": "1,000,000,000,000",
    "inf-exp": "1e309",
    "nan": "NaN",
    "infinity": "Infinity",
    "neg-inf": "-inf",
    "empty": "",
    "blank": "  ",
    "pound-minus": "£-5",
    "over-precise-big": "999999999999.999",
    "true": "true",
    "fullwidth": "１２３",
    "hex": "0x10",
}
BAD_YEARS = {
    "1889": "1889/90",
    "2301": "2301/02",
    "empty": "",
    "blank": "  ",
    "three-parts": "25/26/27",
    "long-second": "2025-2026",
    "fullwidth": "２０２５/２６",
    "backwards": "2026/25",
}
BAD_COUNTS = {
    "huge": HUGE,
    "nan": "NaN",
    "exp": "1e3",
    "negative": "-1",
    "fraction": "1.5",
    "empty": "",
    "true": "true",
}


def _date_cases() -> dict[str, Case]:
    cases: dict[str, Case] = {}
    dates = {**YEARS_OUT_OF_RANGE, **OTHER_BAD_DATES}
    for key, bad in dates.items():
        cases[f"add-start-{key}"] = Case(
            (*ADD, "--start", bad, "--end", "31/3/2027"), "--start", bad
        )
        cases[f"milestone-snooze-until-{key}"] = Case(
            ("milestone", "snooze", LANCS, "extension_notice", "--until", bad), "--until", bad
        )
        cases[f"decision-date-{key}"] = Case(
            ("decision", "add", LANCS, "--id", "1/2024", "--date", bad), "--date", bad
        )
    for key, bad in YEARS_OUT_OF_RANGE.items():
        cases[f"add-end-{key}"] = Case((*ADD, "--start", "1/4/2026", "--end", bad), "--end", bad)
        cases[f"add-extension-until-{key}"] = Case(
            (*ADD_OK, "--extension-until", bad, "--extension-notice-days", "90"),
            "--extension-until",
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
        cases[f"now-{key}-cost-add"] = Case(
            ("--now", bad, *COST, "--year", "2025/26", "--amount", "5"), "--now", bad
        )
    for key in ("empty", "blank"):
        bad = OTHER_BAD_DATES[key]
        cases[f"add-end-{key}"] = Case((*ADD, "--start", "1/4/2026", "--end", bad), "--end", bad)
        cases[f"add-extension-until-{key}"] = Case(
            (*ADD_OK, "--extension-until", bad, "--extension-notice-days", "90"),
            "--extension-until",
            bad,
        )
        cases[f"milestone-add-after-{key}"] = Case(
            ("milestone", "add", LANCS, "publication", "--after", bad, "--working-days", "3"),
            "--after",
            bad,
        )
    return cases


def _number_cases() -> dict[str, Case]:
    cases: dict[str, Case] = {}
    for key, bad in BAD_MONEY.items():
        cases[f"add-value-{key}"] = Case((*ADD_OK, "--value", bad), "--value", bad)
        cases[f"funding-amount-{key}"] = Case(
            (*FUNDING, "--year", "2025/26", "--amount", bad), "--amount", bad
        )
        cases[f"cost-amount-{key}"] = Case(
            (*COST, "--year", "2025/26", "--amount", bad), "--amount", bad
        )
    # An empty --value means "no value" (the option is optional); blank likewise.
    for key in ("empty", "blank"):
        del cases[f"add-value-{key}"]
    for key, bad in BAD_YEARS.items():
        cases[f"funding-year-{key}"] = Case(
            (*FUNDING, "--year", bad, "--amount", "5"), "--year", bad
        )
        cases[f"cost-year-{key}"] = Case((*COST, "--year", bad, "--amount", "5"), "--year", bad)
    counts = {
        "--extension-notice-days": lambda v: (
            *ADD_OK, "--extension-until", "31/3/2028", "--extension-notice-days", v,
        ),
        "--intervention-months": lambda v: (*ADD_OK, "--intervention-months", v),
        "--working-days": lambda v: (
            "milestone", "add", LANCS, "publication", "--after", "2/9/2024", "--working-days", v,
        ),
        "--publish-within-working-days": lambda v: (
            *DECISION, "--publish-within-working-days", v,
        ),
        "--leads": lambda v: (*POLICY, "--leads", v),
        "--escalate-from": lambda v: (*POLICY, "--escalate-from", v),
        "--nag-days": lambda v: (*POLICY, "--nag-days", v),
    }  # fmt: skip
    for option, build in counts.items():
        for key, bad in BAD_COUNTS.items():
            if option == "--leads" and key == "empty":
                continue  # --leads "" means "no lead reminders" (documented)
            cases[f"{option.lstrip('-')}-{key}"] = Case(build(bad), option, bad)
    over = {
        "--extension-notice-days": "3651",
        "--intervention-months": "121",
        "--working-days": "366",
        "--publish-within-working-days": "366",
        "--leads": "3651",
        "--escalate-from": "3651",
        "--nag-days": "366",
    }
    for option, bad in over.items():
        cases[f"{option.lstrip('-')}-over-maximum"] = Case(counts[option](bad), option, bad)
    cases["leads-empty-item"] = Case((*POLICY, "--leads", "30,,60"), "--leads", "")
    cases["leads-semicolons"] = Case((*POLICY, "--leads", "30;60"), "--leads", "30;60")
    cases["extension-notice-days-zero"] = Case(
        (*ADD_OK, "--extension-until", "31/3/2028", "--extension-notice-days", "0"),
        "--extension-notice-days",
        "0",
    )
    return cases


def _text_cases() -> dict[str, Case]:
    """Empty, blank and over-long text in every required (or given) text field."""
    cases: dict[str, Case] = {}
    for key, bad in {"empty": "", "blank": " \t "}.items():
        cases[f"add-ref-{key}"] = Case(
            ("add", bad, "--title", "T", "--provider", "P", *START_END), "ref", bad
        )
        cases[f"add-provider-{key}"] = Case(
            ("add", "NEW-1", "--title", "T", "--provider", bad, *START_END), "--provider", bad
        )
        cases[f"add-owner-{key}"] = Case((*ADD_OK, "--owner", bad), "--owner", bad)
        cases[f"add-sponsor-{key}"] = Case((*ADD_OK, "--sponsor", bad), "--sponsor", bad)
        cases[f"add-watcher-{key}"] = Case((*ADD_OK, "--watcher", bad), "--watcher", bad)
        cases[f"add-intervention-months-{key}"] = Case(
            (*ADD_OK, "--intervention-months", bad), "--intervention-months", bad
        )
        cases[f"funding-source-{key}"] = Case(
            ("funding", "add", LANCS, "--source", bad, "--year", "2025/26", "--amount", "5"),
            "--source",
            bad,
        )
        cases[f"funding-status-{key}"] = Case(
            (*FUNDING, "--year", "2025/26", "--amount", "5", "--status", bad), "--status", bad
        )
        cases[f"milestone-add-kind-{key}"] = Case(
            ("milestone", "add", LANCS, bad, "1/12/2024"), "KIND", bad
        )
        cases[f"milestone-done-kind-{key}"] = Case(("milestone", "done", LANCS, bad), "KIND", bad)
        cases[f"milestone-cancel-kind-{key}"] = Case(
            ("milestone", "cancel", LANCS, bad), "KIND", bad
        )
        cases[f"milestone-snooze-kind-{key}"] = Case(
            ("milestone", "snooze", LANCS, bad, "--until", "1/12/2024"), "KIND", bad
        )
        cases[f"policy-kind-{key}"] = Case(
            ("policy", "set", LANCS, bad, "--leads", "30"), "KIND", bad
        )
        cases[f"decision-id-{key}"] = Case(
            ("decision", "add", LANCS, "--id", bad, "--date", "2/9/2024"), "--id", bad
        )
        cases[f"decision-url-{key}"] = Case((*DECISION, "--url", bad), "--url", bad)
        cases[f"recipient-email-{key}"] = Case(
            ("recipient", "set", bad, "--digest", "weekly"), "EMAIL", bad
        )
        cases[f"recipient-digest-{key}"] = Case(
            ("recipient", "set", "olivia@example.org", "--digest", bad), "--digest", bad
        )
        cases[f"recipient-time-{key}"] = Case(
            ("recipient", "set", "olivia@example.org", "--digest", "daily", "--time", bad),
            "--time",
            bad,
        )
        cases[f"calendar-owner-{key}"] = Case(
            ("calendar", "--out", "{tmp}/c.ics", "--owner", bad), "--owner", bad
        )
    cases["digest-to-blank"] = Case(("digest", "--to", " \t "), "--to", " \t ")
    too_long = {
        "add-ref": (("add", "R" * 101, "--title", "T", "--provider", "P", *START_END), "ref"),
        "add-title": (
            ("add", "NEW-1", "--title", "T" * 201, "--provider", "P", *START_END),
            "--title",
        ),
        "add-provider": (
            ("add", "NEW-1", "--title", "T", "--provider", "P" * 201, *START_END),
            "--provider",
        ),
        "add-commissioner": ((*ADD_OK, "--commissioner", "C" * 201), "--commissioner"),
        "add-notes": ((*ADD_OK, "--notes", "n" * 10_001), "--notes"),
        "milestone-add-title": (
            ("milestone", "add", LANCS, "review", "1/12/2024", "--title", "T" * 301),
            "--title",
        ),
        "milestone-add-note": (
            ("milestone", "add", LANCS, "review", "1/12/2024", "--note", "n" * 2001),
            "--note",
        ),
        "milestone-done-note": (
            ("milestone", "done", LANCS, "extension_notice", "--note", "n" * 2001),
            "--note",
        ),
        "milestone-cancel-note": (
            ("milestone", "cancel", LANCS, "extension_notice", "--note", "n" * 2001),
            "--note",
        ),
        "milestone-snooze-note": (
            (
                "milestone",
                "snooze",
                LANCS,
                "extension_notice",
                "--until",
                "1/12/2024",
                "--note",
                "n" * 2001,
            ),
            "--note",
        ),
        "funding-source": (
            ("funding", "add", LANCS, "--source", "S" * 201, "--year", "2025/26", "--amount", "5"),
            "--source",
        ),
        "cost-category": (
            (*COST, "--year", "2025/26", "--amount", "5", "--category", "C" * 201),
            "--category",
        ),
        "decision-id": (
            ("decision", "add", LANCS, "--id", "I" * 101, "--date", "2/9/2024"),
            "--id",
        ),
        "decision-title": ((*DECISION, "--title", "T" * 301), "--title"),
        "decision-url": ((*DECISION, "--url", "https://example.org/" + "x" * 2000), "--url"),
    }
    for key, (args, option) in too_long.items():
        value = next(a for a in args if len(a) > 100)
        cases[f"{key}-too-long"] = Case(args, option, value)
    return cases


def _choice_cases() -> dict[str, Case]:
    """Unknown refs, kinds, statuses and other choices not covered by test_bad_input."""
    return {
        "snooze-unknown-ref": Case(
            ("milestone", "snooze", UNKNOWN, "review", "--until", "1/12/2024"), "ref", UNKNOWN
        ),
        "policy-unknown-ref": Case(("policy", "set", UNKNOWN, "review", "--leads", "30"), "ref", UNKNOWN),
        "decision-unknown-ref": Case(
            ("decision", "add", UNKNOWN, "--id", "1/2024", "--date", "2/9/2024"), "ref", UNKNOWN
        ),
        "extend-empty-ref": Case(("extend", ""), "ref", ""),
        "milestone-add-empty-ref": Case(("milestone", "add", "", "review", "1/12/2024"), "ref", ""),
        "snooze-unknown-kind": Case(
            ("milestone", "snooze", LANCS, "meeting", "--until", "1/12/2024"), "KIND", "meeting"
        ),
        "policy-unknown-kind": Case(("policy", "set", LANCS, "meeting", "--leads", "30"), "KIND", "meeting"),
        "policy-nothing-to-set": Case(("policy", "set", LANCS, "review"), "KIND", "{}"),
        "milestone-add-derived-kind": Case(
            ("milestone", "add", LANCS, "contract_end", "1/12/2024"), "KIND", "contract_end"
        ),
        "milestone-add-kind-typo": Case(("milestone", "add", LANCS, "reveiw", "1/12/2024"), "KIND", "reveiw"),
        "funding-status-punctuated": Case(
            (*FUNDING, "--year", "2025/26", "--amount", "5", "--status", "confirmed!"),
            "--status",
            "confirmed!",
        ),
        "recipient-digest-hourly": Case(
            ("recipient", "set", "olivia@example.org", "--digest", "hourly"), "--digest", "hourly"
        ),
        "recipient-time-24": Case(
            ("recipient", "set", "olivia@example.org", "--digest", "daily", "--time", "24:00"),
            "--time",
            "24:00",
        ),
        "recipient-time-minute-60": Case(
            ("recipient", "set", "olivia@example.org", "--digest", "daily", "--time", "12:60"),
            "--time",
            "12:60",
        ),
        "recipient-time-pm": Case(
            ("recipient", "set", "olivia@example.org", "--digest", "daily", "--time", "7.30pm"),
            "--time",
            "7.30pm",
        ),
        "recipient-email-invalid": Case(
            ("recipient", "set", "not-an-email", "--digest", "weekly"), "EMAIL", "not-an-email"
        ),
        "recipient-email-list": Case(
            ("recipient", "set", "a@example.org, b@example.org", "--digest", "off"),
            "EMAIL",
            "a@example.org, b@example.org",
        ),
        "digest-to-invalid": Case(("digest", "--to", "not-an-email"), "--to", "not-an-email"),
        "digest-to-two": Case(("digest", "--to", "a@example.org,b@example.org"), "--to", "a@example.org,b@example.org"),
        "digest-to-newline-bcc": Case(
            ("digest", "--to", "a@example.org\nBcc: x@example.org"),
            "--to",
            "a@example.org\nBcc: x@example.org",
        ),
        "add-sponsor-no-tld": Case((*ADD_OK, "--sponsor", "cfo@localhost"), "--sponsor", "cfo@localhost"),
        "add-owner-display-name": Case(
            (*ADD_OK, "--owner", "Olivia <olivia@example.org>"),
            "--owner",
            "Olivia <olivia@example.org>",
        ),
        "decision-url-javascript": Case(
            (*DECISION, "--url", "javascript:alert(1)"), "--url", "javascript:alert(1)"
        ),
        "decision-url-ftp": Case((*DECISION, "--url", "ftp://example.org/x"), "--url", "ftp://example.org/x"),
        "decision-url-space": Case(
            (*DECISION, "--url", "https://example.org/a b"), "--url", "https://example.org/a b"
        ),
        "calendar-owner-invalid": Case(
            ("calendar", "--out", "{tmp}/c.ics", "--owner", "nobody"), "--owner", "nobody"
        ),
        "calendar-out-folder": Case(("calendar", "--out", "{tmp}"), "--out", "{tmp}"),
        "calendar-out-missing-folder": Case(
            ("calendar", "--out", "{tmp}/no/such/c.ics"), "--out", "{tmp}/no/such/c.ics"
        ),
        "calendar-out-under-a-file": Case(
            ("calendar", "--out", "{tmp}/afile/c.ics"), "--out", "{tmp}/afile/c.ics"
        ),
        "export-out-folder": Case(("export", "register", "--out", "{tmp}"), "--out", "{tmp}"),
        "export-out-missing-folder": Case(
            ("export", "register", "--out", "{tmp}/no/such/r.csv"), "--out", "{tmp}/no/such/r.csv"
        ),
        "export-out-under-a-file": Case(
            ("export", "register", "--out", "{tmp}/afile/r.xlsx"), "--out", "{tmp}/afile/r.xlsx"
        ),
        "export-format-unknown": Case(
            ("export", "register", "--out", "{tmp}/r.pdf", "--format", "pdf"), "--format", "pdf"
        ),
        "export-no-out": Case(("export", "register"), "--out", ""),
    }  # fmt: skip


CASES: dict[str, Case] = {
    **_date_cases(),
    **_number_cases(),
    **_text_cases(),
    **_choice_cases(),
}


def shown(value: str) -> str:
    """How an error line shows a value: its repr, cut to 77 characters when long."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77]


def _concrete(text: str, tmp: Path) -> str:
    return text.replace("{tmp}", str(tmp))


@pytest.mark.parametrize("case", list(CASES.values()), ids=list(CASES))
def test_bad_option_is_one_line_naming_field_and_value_and_writes_nothing(
    seeded: Runner, db_path: Path, tmp_path: Path, case: Case
) -> None:
    (tmp_path / "afile").write_text("a regular file, not a folder\n")
    args = tuple(_concrete(a, tmp_path) for a in case.args)
    before = dump(db_path)
    FIGURES.inputs()
    result = seeded("--now", NOW, *args) if args[0] != "--now" else seeded(*args)
    line = error_line(result)
    assert case.field in line, f"{case.field!r} not named in {line!r}"
    if case.value is not None and case.value != "":
        assert shown(_concrete(case.value, tmp_path)) in line, (case.value, line)
    elif case.value == "":
        assert "''" in line or "empty" in line or "required" in line, line
    assert dump(db_path) == before, "a failing command changed the database"
    assert not list(tmp_path.glob("**/*.ics")) and not list(tmp_path.glob("**/r.*"))


def test_digest_to_an_empty_address_is_refused(seeded: Runner, db_path: Path) -> None:
    before = dump(db_path)
    FIGURES.inputs()
    line = error_line(seeded("--now", NOW, "digest", "--to", ""))
    assert "--to" in line and "''" in line
    assert dump(db_path) == before


def test_the_corpus_is_large() -> None:
    assert len(CASES) >= 250, len(CASES)
    assert count_cases() >= 350, count_cases()


# ---------------------------------------------------------------------------- YAML files

BASE = {
    "ref": "ref: Y-1",
    "title": "title: Good service",
    "provider": "provider: Provider Ltd",
    "start": "start: 2024-04-01",
    "end": "end: 2026-03-31",
}


class YamlCase(NamedTuple):
    lines: tuple[str, ...]  # the contract's lines (under "  - "), the bad one marked "#!"
    field: str
    value: str | None


def yaml_text(lines: tuple[str, ...]) -> tuple[str, int]:
    """The document, and the 1-based line of the line marked ``#!``."""
    out = ["contracts:", "  - ref: Y-0", "    title: A good one first", "    provider: P",
           "    start: 2024-04-01", "    end: 2026-03-31"]  # fmt: skip
    bad = 0
    for index, line in enumerate(lines):
        prefix = "  - " if index == 0 else "    "
        text = line.replace("  #!", "")
        out.append(prefix + text)
        if "#!" in line:
            bad = len(out)
    return "\n".join(out) + "\n", bad


def contract(**changes: str | tuple[str, ...]) -> tuple[str, ...]:
    """A valid contract's lines with some fields replaced (a tuple: several lines)."""
    lines: list[str] = []
    for key, line in BASE.items():
        change = changes.pop(key, line)
        lines.extend(change if isinstance(change, tuple) else (change,))
    for change in changes.values():
        lines.extend(change if isinstance(change, tuple) else (change,))
    return tuple(lines)


YAML_CASES: dict[str, YamlCase] = {
    # dates: years out of range, impossible and ambiguous forms, wrong types
    "start-1889": YamlCase(contract(start="start: 1889-01-01  #!"), "start", "1889-01-01"),
    "end-2301": YamlCase(contract(end="end: 2301-01-01  #!"), "end", "2301-01-01"),
    "start-uk-feb31": YamlCase(contract(start="start: 31/02/2026  #!"), "start", "31/02/2026"),
    "end-month-first": YamlCase(contract(end="end: 12/31/2026  #!"), "end", "12/31/2026"),
    "end-quoted-month13": YamlCase(contract(end="end: '2026-13-01'  #!"), "end", "2026-13-01"),
    "start-datetime": YamlCase(contract(start="start: 2024-04-01 10:30:00  #!"), "start", None),
    "start-number": YamlCase(contract(start="start: 20240401  #!"), "start", "20240401"),
    "start-list": YamlCase(contract(start="start: [2024, 4, 1]  #!"), "start", None),
    "start-empty-string": YamlCase(contract(start="start: ''  #!"), "start", ""),
    "title-blank": YamlCase(contract(title="title: '   '  #!"), "title", "   "),
    "title-list": YamlCase(contract(title="title: [a, b]  #!"), "title", None),
    "title-mapping": YamlCase(contract(title="title: {a: b}  #!"), "title", None),
    "title-bool": YamlCase(contract(title="title: yes  #!"), "title", "True"),
    "title-float": YamlCase(contract(title="title: 1.5  #!"), "title", "1.5"),
    "provider-empty": YamlCase(contract(provider="provider: ''  #!"), "provider", ""),
    "ref-blank": YamlCase(contract(ref="ref: ' '  #!"), "ref", " "),
    "ref-null": YamlCase(contract(ref="ref:  #!"), "ref", None),
    # money: huge, non-finite, over-precise, wrong types
    "value-huge": YamlCase(contract(value=f"value: {HUGE}  #!"), "value", HUGE),
    "value-1e309-text": YamlCase(contract(value="value: 1e309  #!"), "value", "1e309"),
    "value-inf-float": YamlCase(contract(value="value: 1.0e+309  #!"), "value", "inf"),
    "value-nan": YamlCase(contract(value="value: .nan  #!"), "value", "nan"),
    "value-neg-inf": YamlCase(contract(value="value: -.inf  #!"), "value", "-inf"),
    "value-pence-float": YamlCase(contract(value="value: 12.345  #!"), "value", "12.345"),
    "value-bool": YamlCase(contract(value="value: true  #!"), "value", "True"),
    "value-list": YamlCase(contract(value="value: [1, 2]  #!"), "value", None),
    "value-negative-text": YamlCase(contract(value="value: '-£5'  #!"), "value", "-£5"),
    # counts
    "intervention-months-huge": YamlCase(
        contract(months=f"intervention_months: {HUGE}  #!"), "intervention_months", HUGE
    ),
    "intervention-months-float": YamlCase(
        contract(months="intervention_months: 1.5  #!"), "intervention_months", "1.5"
    ),
    "intervention-months-bool": YamlCase(
        contract(months="intervention_months: true  #!"), "intervention_months", "True"
    ),
    # emails: wrong types and nesting
    "owner-number": YamlCase(contract(owner="owner: 42  #!"), "owner", "42"),
    "owner-list": YamlCase(contract(owner="owner: [a@example.org]  #!"), "owner", None),
    "watchers-mapping": YamlCase(contract(w="watchers: {a: b@example.org}  #!"), "watchers", None),
    "watchers-nested-list": YamlCase(
        contract(w="watchers: [[a@example.org]]  #!"), "watchers", None
    ),
    "watchers-empty-item": YamlCase(contract(w="watchers: ['']  #!"), "watchers", ""),
    # nested wrong
    "extensions-mapping": YamlCase(
        contract(x=("extensions:  #!", "  until: 2027-03-31", "  notice_days: 90")),
        "extensions",
        None,
    ),
    "extensions-item-list": YamlCase(
        contract(x=("extensions:  #!", "  - [2027-03-31, 90]")), "extensions[0]", None
    ),
    "extensions-until-2301": YamlCase(
        contract(x=("extensions:", "  - until: 2301-03-31  #!", "    notice_days: 90")),
        "extensions[0].until",
        "2301-03-31",
    ),
    "extensions-notice-days-huge": YamlCase(
        contract(x=("extensions:", "  - until: 2027-03-31", f"    notice_days: {HUGE}  #!")),
        "extensions[0].notice_days",
        HUGE,
    ),
    "funding-mapping": YamlCase(
        contract(f=("funding:  #!", "  source: Home Office", "  year: 2024/25", "  amount: 5")),
        "funding",
        None,
    ),
    "funding-item-scalar": YamlCase(
        contract(f=("funding:  #!", "  - Home Office")), "funding[0]", None
    ),
    "funding-year-int": YamlCase(
        contract(f=("funding:", "  - source: S", "    year: 2025  #!", "    amount: 5")),
        "funding[0].year",
        "2025",
    ),
    "funding-year-1889": YamlCase(
        contract(f=("funding:", "  - source: S", "    year: 1889/90  #!", "    amount: 5")),
        "funding[0].year",
        "1889/90",
    ),
    "funding-year-2025-27": YamlCase(
        contract(f=("funding:", "  - source: S", "    year: 2025/27  #!", "    amount: 5")),
        "funding[0].year",
        "2025/27",
    ),
    "funding-amount-nan": YamlCase(
        contract(f=("funding:", "  - source: S", "    year: 2024/25", "    amount: .nan  #!")),
        "funding[0].amount",
        "nan",
    ),
    "funding-status-unknown": YamlCase(
        contract(
            f=(
                "funding:",
                "  - source: S",
                "    year: 2024/25",
                "    amount: 5",
                "    status: promised  #!",
            )
        ),
        "funding[0].status",
        "promised",
    ),
    "costs-year-2301": YamlCase(
        contract(c=("costs:", "  - year: 2301/02  #!", "    amount: 5")),
        "costs[0].year",
        "2301/02",
    ),
    "costs-amount-huge": YamlCase(
        contract(c=("costs:", "  - year: 2024/25", f"    amount: {HUGE}  #!")),
        "costs[0].amount",
        HUGE,
    ),
    "milestones-kind-unknown": YamlCase(
        contract(m=("milestones:", "  - kind: meeting  #!", "    due: 2025-01-01")),
        "milestones[0].kind",
        "meeting",
    ),
    "milestones-kind-derived": YamlCase(
        contract(m=("milestones:", "  - kind: contract_end  #!", "    due: 2025-01-01")),
        "milestones[0].kind",
        "contract_end",
    ),
    "milestones-due-1889": YamlCase(
        contract(m=("milestones:", "  - kind: review", "    due: 1889-01-01  #!")),
        "milestones[0].due",
        "1889-01-01",
    ),
    "milestones-working-days-huge": YamlCase(
        contract(
            m=(
                "milestones:",
                "  - kind: publication",
                "    after: 2024-09-02",
                f"    working_days: {HUGE}  #!",
            )
        ),
        "milestones[0].working_days",
        HUGE,
    ),
    "policy-list": YamlCase(contract(p=("policy:  #!", "  - review", "  - 30")), "policy", None),
    "policy-unknown-kind": YamlCase(
        contract(p=("policy:", "  meeting: {leads: [30]}  #!")), "policy.meeting", "meeting"
    ),
    "policy-leads-scalar": YamlCase(
        contract(p=("policy:", "  review:", "    leads: 30  #!")), "policy.review.leads", None
    ),
    "policy-leads-huge": YamlCase(
        contract(p=("policy:", "  review:", f"    leads: [{HUGE}]  #!")),
        "policy.review.leads",
        HUGE,
    ),
    "policy-entry-empty": YamlCase(
        contract(p=("policy:", "  review: {}  #!")), "policy.review", "{}"
    ),
    "decisions-url-javascript": YamlCase(
        contract(
            d=(
                "decisions:",
                "  - id: 20/2024",
                "    date: 2024-09-02",
                "    url: 'javascript:alert(1)'  #!",
            )
        ),
        "decisions[0].url",
        "javascript:alert(1)",
    ),
    "decisions-publish-huge": YamlCase(
        contract(
            d=(
                "decisions:",
                "  - id: 20/2024",
                "    date: 2024-09-02",
                f"    publish_within_working_days: {HUGE}  #!",
            )
        ),
        "decisions[0].publish_within_working_days",
        HUGE,
    ),
    # unknown keys at every level
    "unknown-key-contract": YamlCase(contract(u="colour: red  #!"), "colour", "colour"),
    "unknown-key-extension": YamlCase(
        contract(
            x=("extensions:", "  - until: 2027-03-31", "    notice_days: 90", "    notice: 90  #!")
        ),
        "extensions[0].notice",
        "notice",
    ),
    "unknown-key-cost": YamlCase(
        contract(c=("costs:", "  - year: 2024/25", "    amount: 5", "    vat: 1  #!")),
        "costs[0].vat",
        "vat",
    ),
    "unknown-key-milestone": YamlCase(
        contract(
            m=("milestones:", "  - kind: review", "    due: 2025-01-01", "    when: soon  #!")
        ),
        "milestones[0].when",
        "when",
    ),
    "unknown-key-policy-entry": YamlCase(
        contract(p=("policy:", "  review:", "    leads: [30]", "    lead_days: [30]  #!")),
        "policy.review.lead_days",
        "lead_days",
    ),
    "unknown-key-decision": YamlCase(
        contract(d=("decisions:", "  - id: 1/2024", "    date: 2024-09-02", "    by: PCC  #!")),
        "decisions[0].by",
        "by",
    ),
    "unknown-key-numeric": YamlCase(contract(u="42: answer  #!"), "42", None),
}

# Implicit or tagged scalars PyYAML's own constructors cannot build: one Error: line.
YAML_CONSTRUCTOR_CASES: dict[str, YamlCase] = {
    "end-unquoted-month13": YamlCase(contract(end="end: 2026-13-01  #!"), "end", None),
    "end-unquoted-feb31": YamlCase(contract(end="end: 2026-02-31  #!"), "end", None),
    "value-float-tag": YamlCase(contract(value="value: !!float abc  #!"), "value", None),
    "value-int-tag": YamlCase(contract(value="value: !!int 12x  #!"), "value", None),
    "start-timestamp-tag": YamlCase(
        contract(start="start: !!timestamp tomorrow  #!"), "start", None
    ),
}


def _import_fails_cleanly(
    seeded: Runner, db_path: Path, path: Path, *, dry_run: bool = False
) -> str:
    before = dump(db_path)
    FIGURES.inputs()
    result = seeded("--now", NOW, "import", str(path), *(["--dry-run"] if dry_run else []))
    line = error_line(result)
    assert path.name in line, line
    assert dump(db_path) == before, "a failed import changed the database"
    return line


def _check_yaml_case(seeded: Runner, db_path: Path, tmp_path: Path, case: YamlCase) -> None:
    text, bad_line = yaml_text(case.lines)
    assert bad_line, "the case marks no line"
    path = tmp_path / "contracts.yaml"
    path.write_text(text, encoding="utf-8")
    line = _import_fails_cleanly(seeded, db_path, path)
    assert f"contracts.yaml line {bad_line}" in line, (line, text)
    assert case.field in line, (case.field, line)
    if case.value:
        assert shown(case.value) in line, (case.value, line)


@pytest.mark.parametrize("case", list(YAML_CASES.values()), ids=list(YAML_CASES))
def test_bad_yaml_field_names_file_line_field_and_value(
    seeded: Runner, db_path: Path, tmp_path: Path, case: YamlCase
) -> None:
    _check_yaml_case(seeded, db_path, tmp_path, case)


@pytest.mark.parametrize(
    "case", list(YAML_CONSTRUCTOR_CASES.values()), ids=list(YAML_CONSTRUCTOR_CASES)
)
def test_scalars_pyyaml_cannot_construct_are_one_line(
    seeded: Runner, db_path: Path, tmp_path: Path, case: YamlCase
) -> None:
    _check_yaml_case(seeded, db_path, tmp_path, case)


def _billion_laughs(levels: int = 9) -> str:
    lines = ['a0: &a0 "lol"']
    for n in range(1, levels + 1):
        refs = ", ".join([f"*a{n - 1}"] * 10)
        lines.append(f"a{n}: &a{n} [{refs}]")
    lines.append(f"contracts: *a{levels}")
    return "\n".join(lines) + "\n"


WHOLE_FILES: dict[str, tuple[str, str, tuple[str, ...]]] = {
    # name: (file name, text, what the line must contain besides the file name)
    "billion-laughs": ("bomb.yaml", _billion_laughs(), ("line 2", "alias")),
    "alias-in-a-value": (
        "alias.yaml",
        "contracts:\n  - ref: &r A\n    title: *r\n    provider: P\n"
        "    start: 2024-04-01\n    end: 2025-03-31\n",
        ("line 3", "alias"),
    ),
    "malformed-unclosed-quote": (
        "quote.yaml",
        "contracts:\n  - ref: 'A\n    title: T\n",
        ("line ", "YAML"),
    ),
    "malformed-bad-indent": (
        "indent.yaml",
        "contracts:\n  - ref: A\n     title: T\n   provider: P\n",
        ("line 3", "YAML"),
    ),
    "malformed-tab": ("tab.yaml", "contracts:\n\t- ref: A\n", ("line 2", "YAML")),
    "contracts-is-a-string": ("str.yaml", "contracts: everything\n", ("non-empty list",)),
    "contracts-is-null": ("null.yaml", "contracts:\n", ("non-empty list",)),
    "record-is-a-list": ("rec.yaml", "contracts:\n  - [ref, A]\n", ("contracts[0]",)),
    "two-documents": (
        "two.yaml",
        "contracts: []\n---\ncontracts: []\n",
        ("line 2", "YAML"),
    ),
    "duplicate-key-nested": (
        "dupe.yaml",
        "contracts:\n  - ref: A\n    title: T\n    provider: P\n    start: 2024-04-01\n"
        "    end: 2025-03-31\n    costs:\n      - year: 2024/25\n        amount: 1\n"
        "        amount: 2\n",
        ("line 8", "'amount'", "twice"),
    ),
    "duplicate-ref-three-apart": (
        "refs.yaml",
        "contracts:\n"
        + "".join(
            f"  - {{ref: {r}, title: T, provider: P, start: 2024-04-01, end: 2025-03-31}}\n"
            for r in ("D-1", "D-2", "D-3", "D-1")
        ),
        ("line 5", "'D-1'"),
    ),
    "not-utf8": ("latin.yaml", "contracts:\n  - ref: caf\udce9\n", ("UTF-8",)),
}


@pytest.mark.parametrize("name", list(WHOLE_FILES))
def test_bad_yaml_file_is_one_line_naming_file(
    seeded: Runner, db_path: Path, tmp_path: Path, name: str
) -> None:
    file_name, text, expected = WHOLE_FILES[name]
    path = tmp_path / file_name
    path.write_bytes(text.encode("utf-8", "surrogateescape"))
    started = time.monotonic()
    line = _import_fails_cleanly(seeded, db_path, path)
    assert time.monotonic() - started < 5
    for part in expected:
        assert part in line, (part, line)


@pytest.mark.parametrize("shape", ["flow-lists", "flow-mappings", "block-lists"])
def test_a_nesting_bomb_under_the_size_cap_is_one_line(
    seeded: Runner, db_path: Path, tmp_path: Path, shape: str
) -> None:
    depth = 50_000  # ~100 KB: far under the 5 MB cap
    text = {
        "flow-lists": "contracts: " + "[" * depth + "]" * depth + "\n",
        "flow-mappings": "contracts:\n  - notes: " + "{a: " * depth + "1" + "}" * depth + "\n",
        "block-lists": "contracts:\n" + "".join("  " * (n + 1) + "-\n" for n in range(2000)),
    }[shape]
    path = tmp_path / "deep.yaml"
    path.write_text(text)
    _import_fails_cleanly(seeded, db_path, path)


def test_a_50_mb_yaml_is_refused_before_parsing_fast(
    seeded: Runner, db_path: Path, tmp_path: Path
) -> None:
    path = tmp_path / "huge.yaml"
    line_of_comment = ("# " + "x" * 1022 + "\n").encode()
    block = line_of_comment * 1024  # 1 MB
    with path.open("wb") as handle:
        handle.write(b"contracts:\n")
        for _ in range(50):
            handle.write(block)
    assert path.stat().st_size > 50 * 1024 * 1024
    started = time.monotonic()
    line = _import_fails_cleanly(seeded, db_path, path)
    assert time.monotonic() - started < 3, "the cap must reject before reading the file"
    assert "MB" in line and "50.0" in line, line
    _import_fails_cleanly(seeded, db_path, path, dry_run=True)
    path.rename(tmp_path / "huge.csv")
    line = _import_fails_cleanly(seeded, db_path, tmp_path / "huge.csv")
    assert "MB" in line


# ----------------------------------------------------------------------------- CSV files

HEADER = "Reference,Title,Supplier,Start Date,End Date,Value\r\n"
ROW = "C-{n},Service {n},Provider {n},01/04/2024,31/03/2026,£1000.00\r\n"
BOM = "\ufeff"


def _rows(count: int) -> str:
    return "".join(ROW.format(n=n) for n in range(1, count + 1))


CSV_CASES: dict[str, tuple[str, tuple[str, ...]]] = {
    # name: (text, what the line must contain besides the file name)
    "bom-crlf-missing-end-column": (
        BOM + "Reference,Title,Supplier,Start Date,Value\r\nC-1,S,P,01/04/2024,£5\r\n",
        ("line 1", "'end'"),
    ),
    "bom-crlf-row-missing-its-last-cells": (
        BOM + HEADER + _rows(2) + "C-3,Service 3,Provider 3,01/04/2024\r\n",
        ("line 4", "end", "required"),
    ),
    "bad-date-on-line-5": (
        BOM + HEADER + _rows(3) + "C-9,S,P,01/04/2024,31/02/2026,£5\r\n",
        ("line 5", "end", "'31/02/2026'"),
    ),
    "year-1889-on-line-3": (
        HEADER + _rows(1) + "C-9,S,P,01/04/1889,31/03/2026,£5\r\n",
        ("line 3", "start", "'01/04/1889'"),
    ),
    "huge-value-on-line-2": (
        HEADER + f"C-9,S,P,01/04/2024,31/03/2026,{HUGE}\r\n",
        ("line 2", "value", HUGE[:20]),
    ),
    "nan-value": (HEADER + "C-9,S,P,01/04/2024,31/03/2026,NaN\r\n", ("line 2", "value", "'NaN'")),
    "over-precise-value": (
        HEADER + "C-9,S,P,01/04/2024,31/03/2026,12.345\r\n",
        ("line 2", "value", "'12.345'"),
    ),
    "blank-title": (
        HEADER + _rows(1) + "C-9,   ,P,01/04/2024,31/03/2026,£5\r\n",
        ("line 3", "title"),
    ),
    "month-first-date": (
        HEADER + "C-9,S,P,04/13/2024,31/03/2026,£5\r\n",
        ("line 2", "start", "'04/13/2024'"),
    ),
    "duplicate-ref": (HEADER + _rows(2) + ROW.format(n=1), ("line 4", "'C-1'")),
    "unterminated-quote": (HEADER + 'C-9,"Service,P,01/04/2024,31/03/2026,5\r\n', ("line",)),
    "header-only": (BOM + HEADER, ("no contracts",)),
    "empty": ("", ("empty",)),
    "bom-only": (BOM, ("empty",)),
    "duplicate-column": (
        "Reference,Title,Title,Supplier,Start Date,End Date\r\nC-1,T,T,P,01/04/2024,31/03/2026\r\n",
        ("line 1", "twice"),
    ),
    "extra-cells": (
        HEADER + "C-9,S,P,01/04/2024,31/03/2026,£5,surplus\r\n",
        ("line 2", "7 cells"),
    ),
    "email-with-crlf-inside-quotes": (
        "Reference,Title,Supplier,Start Date,End Date,Owner\r\n"
        'C-9,S,P,01/04/2024,31/03/2026,"a@example.org\r\nBcc: x@example.org"\r\n',
        ("line 2", "owner"),
    ),
}


@pytest.mark.parametrize("name", list(CSV_CASES))
def test_bad_csv_register_is_one_line_naming_file_and_line(
    seeded: Runner, db_path: Path, tmp_path: Path, name: str
) -> None:
    text, expected = CSV_CASES[name]
    path = tmp_path / "register.csv"
    path.write_bytes(text.encode("utf-8"))
    line = _import_fails_cleanly(seeded, db_path, path)
    for part in expected:
        assert part in line, (part, line)


def test_the_good_rows_around_the_bad_ones_were_valid(cli: Runner, tmp_path: Path) -> None:
    """The corpus's CSV and YAML scaffolding imports cleanly: the failures are the marks."""
    path = tmp_path / "register.csv"
    path.write_bytes((BOM + HEADER + _rows(3)).encode())
    result = cli("--now", NOW, "import", str(path), "--dry-run")
    assert result.code == 0, result
    text, _ = yaml_text(contract(value="value: 5  #!"))
    path = tmp_path / "good.yaml"
    path.write_text(text)
    result = cli("--now", NOW, "import", str(path), "--dry-run")
    assert result.code == 0, result
    assert "Would import 2 contracts" in result.out


def count_cases() -> int:
    return (
        len(CASES)
        + len(YAML_CASES)
        + len(YAML_CONSTRUCTOR_CASES)
        + len(WHOLE_FILES)
        + len(CSV_CASES)
        + 3  # nesting bombs
        + 1  # 50 MB
    )
