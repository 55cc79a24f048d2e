"""The Procurement Act 2023's notices through the real CLI, on SQLite and PostgreSQL: added
with the contract, re-derived by extend, a value change, a regime change and an early
end; a change notice by hand; bad input refused in one line with nothing written."""

from __future__ import annotations

import csv
import io
import json
import shlex
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from support.cli import Result, error_line, in_process, isolate, ok

Run = Callable[..., Result]
NOW = "2025-03-03"
REF = "ACT-1"
#: Start 1 Apr 2025, end 31 Mar 2028, entered into Monday 3 Mar 2025, £6m, an option to
#: 31 Mar 2029 with 180 days' notice.
ADD = tuple(
    shlex.split(
        f"add {REF} --title Advocacy --provider 'Safe Lives' --start 1/4/2025 --end 31/3/2028"
        " --value 6000000 --owner olivia@example.org --regime pa2023 --entered-into 3/3/2025"
        " --extension-until 31/3/2029 --extension-notice-days 180"
    )
)

#: A contract with no regime (X-1, 1 Apr 2025 to 31 Mar 2026), before any Act option.
PLAIN_ADD = tuple(shlex.split("add X-1 --title T --provider P --start 1/4/2025 --end 31/3/2026"))


@pytest.fixture
def run(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Run:
    isolate(monkeypatch, tmp_path)
    monkeypatch.setenv("TRACKER_ACTOR", "olivia")

    def cli(*args: str, now: str = NOW) -> Result:
        return in_process(["--db", db_url, "--now", now, *args])

    return cli


def notices(run: Run) -> dict[tuple[str, str], tuple[str, str]]:
    """(kind, key) -> (due, status) of the contract's Act notices."""
    data: dict[str, Any] = json.loads(ok(run("show", REF, "--json")).out)
    kinds = {
        "contract_details_notice",
        "contract_publication",
        "performance_assessment",
        "termination_notice",
        "change_notice",
    }
    shown = {}
    for m in data["summary"]["milestones"]:
        if m["kind"] in kinds:
            key = m["title"].rsplit(": ", 1)[-1] if m["kind"] == "performance_assessment" else ""
            shown[(m["kind"], key)] = (m["due"], m["status"])
    return shown


def test_the_notices_are_derived_and_follow_extend_value_and_regime(run: Run) -> None:
    ok(run(*ADD))
    assert notices(run) == {
        # 30 days beginning with 3 Mar 2025: 1 Apr 2025
        ("contract_details_notice", ""): ("2025-04-01", "open"),
        # 90 days: Saturday 31 May 2025 -> Friday 30 May
        ("contract_publication", ""): ("2025-05-30", "open"),
        ("performance_assessment", "year 1"): ("2026-03-31", "open"),
        ("performance_assessment", "year 2"): ("2027-03-31", "open"),
        ("performance_assessment", "on the contract's end"): ("2028-03-31", "open"),
        # 30 days beginning with Friday 31 Mar 2028: Saturday 29 Apr -> Friday 28 Apr 2028
        ("termination_notice", ""): ("2028-04-28", "open"),
    }
    shown = ok(run("show", REF)).out
    assert "Procurement Act 2023, entered into 3 Mar 2025" in shown

    # extend to 31 Mar 2029: the termination notice moves (29 Apr 2029 is a Sunday ->
    # Friday 27 Apr), the end-of-contract assessment follows, and year 3 appears.
    ok(run("extend", REF, now="2027-06-01"))
    after = notices(run)
    assert after[("termination_notice", "")] == ("2029-04-27", "open")
    # (the end, Saturday 31 Mar 2029, after Good Friday 30 Mar: Thursday 29 Mar 2029)
    assert after[("performance_assessment", "on the contract's end")] == ("2029-03-29", "open")
    assert after[("performance_assessment", "year 3")] == ("2028-03-31", "open")

    # A variation to £4m: under the £5m line, the copy and the assessments are cancelled.
    ok(run("vary", REF, "--value", "4000000", "--ref-no", "V1", "--date", "1/6/2027"))
    after = notices(run)
    assert after[("contract_publication", "")] == ("2025-05-30", "cancelled")
    assert {
        status for (kind, _), (_, status) in after.items() if kind == "performance_assessment"
    } == {"cancelled"}
    assert after[("contract_details_notice", "")][1] == "open"

    # Back over £5m by edit: they apply again.
    ok(run("edit", REF, "--value", "5000000.01"))
    assert notices(run)[("contract_publication", "")] == ("2025-05-30", "open")

    # Regime pcr2015: none of the Act's notices apply; back to pa2023: they all reopen.
    ok(run("edit", REF, "--regime", "pcr2015"))
    assert {status for _, status in notices(run).values()} == {"cancelled"}
    ok(run("edit", REF, "--regime", "pa2023"))
    assert {status for _, status in notices(run).values()} == {"open"}

    # Light-touch: 120 days for the details (Monday 30 June 2025), 180 for the copy
    # (Friday 29 Aug 2025), and no assessments.
    ok(run("edit", REF, "--light-touch"))
    after = notices(run)
    assert after[("contract_details_notice", "")] == ("2025-06-30", "open")
    assert after[("contract_publication", "")] == ("2025-08-29", "open")
    assert after[("performance_assessment", "year 1")][1] == "cancelled"


def test_terminate_keeps_the_termination_notice_and_moves_it(run: Run) -> None:
    ok(run(*ADD))
    # Terminated Monday 15 Sep 2025: day 30 is Tuesday 14 Oct 2025.
    ok(run("terminate", REF, "--on", "15/9/2025", "--reason", "terminated", now="2025-09-15"))
    after = notices(
        run,
    )
    assert after[("termination_notice", "")] == ("2025-10-14", "open")
    assert after[("performance_assessment", "on the contract's end")] == ("2025-09-15", "open")
    timeline = ok(run("timeline", "--days", "60", now="2025-09-16")).out
    assert "termination_notice" in timeline


def test_change_notice_by_hand(run: Run) -> None:
    ok(run(*ADD))
    # Modification Tuesday 13 May 2025, with the standstill: 8 working days before,
    # across the 5 May bank holiday: Wednesday 30 April 2025.
    out = ok(
        run("milestone", "add", REF, "change_notice", "--before", "13/5/2025", "--standstill")
    ).out
    assert "change_notice due 30 Apr 2025" in out
    # Without: the working day before Tuesday 6 May 2025 is Friday 2 May (5 May is a holiday).
    ok(run("milestone", "add", REF, "change_notice", "--before", "6/5/2025"))
    data = json.loads(ok(run("show", REF, "--json")).out)
    changes = sorted(
        m["due"] for m in data["summary"]["milestones"] if m["kind"] == "change_notice"
    )
    assert changes == ["2025-04-30", "2025-05-02"]
    reminders = ok(run("reminders", "--json")).out
    assert "change_notice" in reminders


def test_register_export_and_update_carry_the_act_fields(run: Run, tmp_path: Path) -> None:
    ok(run(*ADD))
    target = tmp_path / "register.csv"
    ok(run("export", "register", "--out", str(target)))
    rows = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8-sig"))))
    [row] = rows
    assert row["Procurement Regime"] == "pa2023"
    assert row["Light Touch"] == "no"
    assert row["Entered Into"] == "03/03/2025"
    assert row["Next Statutory Notice"] == "Contract details notice due 1 Apr 2025"
    # import --update from the register, light-touch now: the notices are re-derived.
    text = target.read_text(encoding="utf-8-sig").replace(",pa2023,no,", ",pa2023,yes,")
    target.write_text(text, encoding="utf-8-sig")
    ok(run("import", str(target), "--update"))
    assert notices(run)[("contract_details_notice", "")] == ("2025-06-30", "open")


def _rows(run: Run) -> str:
    return ok(run("list", "--all", "--json")).out


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ("--regime", "pa2023"),
            "Error: --entered-into: '' is required for regime pa2023 (the day the contract was signed)",
        ),
        (("--regime", "pa2024"), "Error: --regime: 'pa2024' is not one of: pa2023, pcr2015, none"),
    ],
)
def test_bad_regime_input_is_one_line_and_nothing_is_written(
    run: Run, args: tuple[str, ...], expected: str
) -> None:
    before = _rows(run)
    assert error_line(run(*PLAIN_ADD, *args)) == expected
    assert _rows(run) == before


def test_edit_to_pa2023_without_entered_into_and_change_notice_outside_the_act(run: Run) -> None:
    ok(run(*PLAIN_ADD))
    before = ok(run("show", "X-1", "--json")).out
    assert "--entered-into" in error_line(run("edit", "X-1", "--regime", "pa2023"))
    line = error_line(run("milestone", "add", "X-1", "change_notice", "--before", "1/6/2025"))
    assert "Procurement Act 2023" in line and "X-1 is none" in line
    assert ok(run("show", "X-1", "--json")).out == before


def test_the_notices_reach_the_calendar_the_list_and_the_digest_as_statutory_duties(
    run: Run, tmp_path: Path
) -> None:
    from icalendar import Calendar

    ok(run(*ADD))
    feed = tmp_path / "act.ics"
    ok(run("calendar", "--out", str(feed), "--ref", REF))
    events = {
        str(e.get("summary")): e.decoded("dtstart")
        for e in Calendar.from_ical(feed.read_bytes()).walk("VEVENT")
    }
    details = [s for s in events if "Contract details notice" in s]
    assert len(details) == 1, events
    assert str(events[details[0]]) == "2025-04-01"
    assert any("s.53(3)" in s for s in events), events  # the copy of the contract

    listed = json.loads(ok(run("list", "--json")).out)
    kinds = {m["kind"] for c in listed for m in c["milestones"]}
    assert {"contract_details_notice", "contract_publication", "termination_notice"} <= kinds

    preview = tmp_path / "digests"
    ok(run("digest", "--preview", str(preview), now="2025-03-10"))
    text = (preview / "olivia@example.org.txt").read_text()
    assert "Contract details notice (statutory duty)" in text, text
