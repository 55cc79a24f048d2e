"""Happy paths through the real CLI on the two seed contracts, as of 2 Sep 2024.

On that day (the Lancashire decision date) LANCS-DRIVE is in its staffing-risk window
with the extension notice (30 Sep 2024) still open, the 2025/26 year costs
£298,403.22 with nothing confirmed, and West Mercia's funding lines sum to £1 more
than its stated value.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from support.cli import LANCS, NOW, WM, Runner, as_json, error_line, ok

from tracker.cli.main import main


def contract(cli: Runner, ref: str, now: str = NOW) -> dict[str, Any]:
    """One contract as ``list --json`` gives it (summary, milestones, gaps, staffing)."""
    found: list[dict[str, Any]] = [
        c for c in as_json(cli("--now", now, "list", "--json")) if c["ref"] == ref
    ]
    assert len(found) == 1, found
    return found[0]


def milestones_of(data: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [m for m in data["milestones"] if m["kind"] == kind]


def year(gaps: list[dict[str, Any]], name: str) -> dict[str, Any]:
    found = [g for g in gaps if g["year"] == name]
    assert len(found) == 1, gaps
    return found[0]


def working_day_on_or_before(day: date) -> date:
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return day


def rows_with(text: str, needle: str) -> list[str]:
    return [line for line in text.splitlines() if needle in line]


# ---------------------------------------------------------------------------- list


def test_list_shows_both_contracts_and_flags_lancashire_at_risk(seeded: Runner) -> None:
    out = ok(seeded("--now", NOW, "list")).out
    lancs_rows = rows_with(out, LANCS)
    wm_rows = rows_with(out, WM)
    assert lancs_rows and wm_rows, out
    assert "AT RISK" in lancs_rows[0]
    assert "AT RISK" not in wm_rows[0]
    assert "£298,403.22" in lancs_rows[0]


def test_list_json_staffing_flags(seeded: Runner) -> None:
    lancs = contract(seeded, LANCS)
    assert lancs["staffing_risk"]["at_risk"] is True
    assert lancs["staffing_risk"]["deciding"] == "extension_notice"
    assert lancs["days_to_end"] == 210
    wm = contract(seeded, WM)
    assert wm["staffing_risk"]["at_risk"] is False


def test_list_does_not_show_a_zero_gap_when_every_cost_is_unknown(seeded: Runner) -> None:
    wm = contract(seeded, WM)
    assert all(g["cost_unknown"] for g in wm["gaps"])
    assert wm["total_gap"] != "0.00"
    row = rows_with(ok(seeded("--now", NOW, "list")).out, WM)[0]
    assert "£0.00" not in row


def test_list_ending_within_filters(seeded: Runner) -> None:
    within_year = as_json(seeded("--now", NOW, "list", "--ending-within", "365", "--json"))
    assert [c["ref"] for c in within_year] == [LANCS]  # West Mercia ended in 2020
    text = ok(seeded("--now", NOW, "list", "--ending-within", "365")).out
    assert LANCS in text and WM not in text
    # LANCS-DRIVE ends 31 Mar 2025, 210 days after 2 Sep 2024.
    assert as_json(seeded("--now", NOW, "list", "--ending-within", "209", "--json")) == []
    assert len(as_json(seeded("--now", NOW, "list", "--ending-within", "210", "--json"))) == 1
    none = ok(seeded("--now", NOW, "list", "--ending-within", "30")).out
    assert "No contracts end within 30 days" in none


def test_list_on_an_empty_database(cli: Runner) -> None:
    assert "No contracts" in ok(cli("list")).out
    assert as_json(cli("list", "--json")) == []


# ---------------------------------------------------------------------------- show


def test_show_lancashire(seeded: Runner) -> None:
    out = ok(seeded("--now", NOW, "show", LANCS)).out
    assert "£298,403.22" in out
    assert "AT STAFFING RISK" in out
    assert "30 Sep 2024" in out  # the extension notice
    assert "tracker milestone done LANCS-DRIVE extension_notice" in out


def test_show_json_after_extend(seeded: Runner) -> None:
    ok(seeded("--now", NOW, "extend", LANCS))
    data = as_json(seeded("--now", NOW, "show", LANCS, "--json"))
    summary = data["summary"]
    assert summary["end"] == "2026-03-31"
    assert not [m for m in milestones_of(summary, "extension_notice") if m["status"] == "open"]
    assert [m["due"] for m in milestones_of(summary, "continuation_decision")] == ["2025-06-30"]


# ---------------------------------------------------------------------------- gaps


def test_gaps_shows_the_west_mercia_totals_warning(seeded: Runner) -> None:
    out = ok(seeded("--now", NOW, "gaps")).out
    warnings = [line for line in out.splitlines() if "£575,291.00" in line]
    assert warnings, out
    assert WM in warnings[0]
    assert "£575,290.00" in warnings[0]
    assert "£1.00 more" in warnings[0]
    assert "cost unknown" in out
    assert "£298,403.22" in out


def test_gaps_lancashire_json(seeded: Runner) -> None:
    rows = as_json(seeded("--now", NOW, "gaps", LANCS, "--json"))
    assert [r["ref"] for r in rows] == [LANCS]
    years = rows[0]["years"]
    assert year(years, "2025/26")["gap"] == "298403.22"
    assert year(years, "2025/26")["cost"] == "298403.22"
    assert year(years, "2025/26")["cost_unknown"] is False
    assert year(years, "2023/24")["cost_unknown"] is True
    assert year(years, "2023/24")["gap"] is None
    assert year(years, "2023/24")["secured"] == "266362.00"
    assert rows[0]["total_gap"] == "298403.22"


def test_gaps_json_for_all_contracts(seeded: Runner) -> None:
    rows = as_json(seeded("--now", NOW, "gaps", "--json"))
    assert {r["ref"] for r in rows} == {LANCS, WM}
    wm = next(r for r in rows if r["ref"] == WM)
    assert any("£1.00 more" in w for w in wm["warnings"])
    # Pledged council money is at risk, never secured.
    assert year(wm["years"], "2018/19")["at_risk"] == "64285.71"
    assert year(wm["years"], "2018/19")["secured"] == "173696.43"


# ---------------------------------------------------------------------------- timeline


def test_timeline_60_days_json(seeded: Runner) -> None:
    items = as_json(seeded("--now", NOW, "timeline", "--days", "60", "--json"))
    horizon = (date(2024, 9, 2) + timedelta(days=60)).isoformat()
    upcoming = [i for i in items if i["due"] >= "2024-09-02"]
    assert [(i["ref"], i["kind"], i["due"]) for i in upcoming] == [
        (LANCS, "publication", "2024-09-05"),
        (LANCS, "extension_notice", "2024-09-30"),
    ]
    assert all(i["due"] <= horizon for i in items)
    # Overdue decisions come first, then by due date.
    dues = [i["due"] for i in items]
    assert dues == sorted(dues)
    assert all(i["status"] == "open" for i in items)


def test_timeline_text(seeded: Runner) -> None:
    out = ok(seeded("--now", NOW, "timeline", "--days", "60")).out
    assert "5 Sep 2024" in out and "30 Sep 2024" in out
    assert "31 Jan 2025" not in out  # the 2025/26 funding confirmation is 151 days away


def test_timeline_empty(cli: Runner) -> None:
    assert "Nothing open" in ok(cli("timeline", "--days", "30")).out


# ---------------------------------------------------------------------------- extend


def test_extend_activates_the_option_and_rederives(seeded: Runner) -> None:
    out = ok(seeded("--now", NOW, "extend", LANCS)).out
    assert "31 Mar 2026" in out
    data = contract(seeded, LANCS)
    assert data["end"] == "2026-03-31"
    assert data["original_end"] == "2025-03-31"
    notices = milestones_of(data, "extension_notice")
    assert [m["status"] for m in notices] == ["done"]
    assert notices[0]["due"] == "2024-09-30"
    assert "activated" in (notices[0]["closed_note"] or "")
    expected = working_day_on_or_before(date(2025, 6, 30))  # 31 Mar 2026 less 9 months
    assert expected == date(2025, 6, 30) and expected.weekday() == 0  # a Monday
    decisions = milestones_of(data, "continuation_decision")
    assert [(m["due"], m["status"]) for m in decisions] == [(expected.isoformat(), "open")]
    ends = milestones_of(data, "contract_end")
    assert [m["due"] for m in ends] == ["2026-03-31"]
    assert [m["due"] for m in milestones_of(data, "last_referral")] == ["2025-03-31"]
    assert data["staffing_risk"]["at_risk"] is False
    timeline = as_json(seeded("--now", NOW, "timeline", "--days", "60", "--json"))
    assert "extension_notice" not in [i["kind"] for i in timeline]


def test_extend_decline_keeps_the_end_and_plans_the_exit(seeded: Runner) -> None:
    out = ok(seeded("--now", NOW, "extend", LANCS, "--decline")).out
    assert "declined" in out
    data = contract(seeded, LANCS)
    assert data["end"] == "2025-03-31"
    notices = milestones_of(data, "extension_notice")
    assert [m["status"] for m in notices] == ["done"]
    assert "declined" in (notices[0]["closed_note"] or "")
    # No option left: the continuation decision (end less 9 months: Sun 30 Jun 2024,
    # so the Friday before) now decides, and it is still open, so still at risk.
    decisions = milestones_of(data, "continuation_decision")
    assert [(m["due"], m["status"]) for m in decisions] == [("2024-06-28", "open")]
    assert data["staffing_risk"]["at_risk"] is True
    assert data["staffing_risk"]["deciding"] == "continuation_decision"
    assert "no available extension" in error_line(seeded("--now", NOW, "extend", LANCS))


# ---------------------------------------------------------------------------- milestones


def test_milestone_add_done_then_done_again_errors(seeded: Runner) -> None:
    added = ok(seeded("--now", NOW, "milestone", "add", LANCS, "review", "1/12/2024")).out
    assert "1 Dec 2024" in added
    reviews = milestones_of(contract(seeded, LANCS), "review")
    assert [(m["due"], m["status"], m["origin"]) for m in reviews] == [
        ("2024-12-01", "open", "manual")
    ]
    ok(seeded("--now", NOW, "milestone", "done", LANCS, "review", "--note", "ok"))
    reviews = milestones_of(contract(seeded, LANCS), "review")
    assert [(m["status"], m["closed_note"]) for m in reviews] == [("done", "ok")]
    line = error_line(seeded("--now", NOW, "milestone", "done", LANCS, "review", "--note", "ok"))
    assert "'review'" in line and "no open" in line


def test_ambiguous_kind_lists_ids_and_done_by_id_works(seeded: Runner) -> None:
    ok(seeded("--now", NOW, "milestone", "add", LANCS, "review", "1/12/2024"))
    ok(seeded("--now", NOW, "milestone", "add", LANCS, "review", "1/1/2025", "--title", "Second"))
    ids = sorted(m["id"] for m in milestones_of(contract(seeded, LANCS), "review"))
    assert len(ids) == 2
    line = error_line(seeded("--now", NOW, "milestone", "done", LANCS, "review"))
    for milestone_id in ids:
        assert str(milestone_id) in line
    ok(seeded("--now", NOW, "milestone", "done", str(ids[1]), "--note", "by id"))
    reviews = {m["id"]: m for m in milestones_of(contract(seeded, LANCS), "review")}
    assert reviews[ids[0]]["status"] == "open"
    assert reviews[ids[1]]["status"] == "done"
    assert reviews[ids[1]]["closed_note"] == "by id"
    # Now only one is open, so the kind is enough again.
    ok(seeded("--now", NOW, "milestone", "done", LANCS, "review"))


def test_milestone_cancel(seeded: Runner) -> None:
    ok(seeded("--now", NOW, "milestone", "add", LANCS, "custom", "2025-01-15", "--title", "Board"))
    ok(seeded("--now", NOW, "milestone", "cancel", LANCS, "custom", "--note", "not needed"))
    customs = milestones_of(contract(seeded, LANCS), "custom")
    assert [(m["status"], m["closed_note"]) for m in customs] == [("cancelled", "not needed")]


def test_publication_given_as_working_days_after_a_date(seeded: Runner) -> None:
    # Fri 20 Dec 2024 + 3 working days skips the weekend, Christmas and Boxing Day.
    ok(
        seeded(
            "--now", NOW, "milestone", "add", LANCS, "publication",
            "--after", "20/12/2024", "--working-days", "3",
        )
    )  # fmt: skip
    dues = sorted(m["due"] for m in milestones_of(contract(seeded, LANCS), "publication"))
    assert dues == ["2024-09-05", "2024-12-27"]


def test_closing_the_extension_notice_clears_the_staffing_flag(seeded: Runner) -> None:
    ok(seeded("--now", NOW, "milestone", "done", LANCS, "extension_notice", "--note", "20/2024"))
    assert contract(seeded, LANCS)["staffing_risk"]["at_risk"] is False


# ---------------------------------------------------------------------------- money lines


def test_confirmed_funding_reduces_the_gap(seeded: Runner) -> None:
    out = ok(
        seeded(
            "--now", NOW, "funding", "add", LANCS, "--source", "Partners", "--year", "2025/26",
            "--amount", "£100,000", "--status", "confirmed",
        )
    ).out  # fmt: skip
    assert "£100,000.00" in out
    rows = as_json(seeded("--now", NOW, "gaps", LANCS, "--json"))
    fy = year(rows[0]["years"], "2025/26")
    assert fy["secured"] == "100000.00"
    assert fy["gap"] == str(Decimal("298403.22") - Decimal("100000"))


def test_pledged_funding_is_at_risk_not_secured(seeded: Runner) -> None:
    ok(
        seeded(
            "--now", NOW, "funding", "add", LANCS, "--source", "Council", "--year", "25-26",
            "--amount", "50000", "--status", "pledged", "--confirm-by", "31/1/2025",
        )
    )  # fmt: skip
    fy = year(as_json(seeded("--now", NOW, "gaps", LANCS, "--json"))[0]["years"], "2025/26")
    assert fy["gap"] == "298403.22"
    assert fy["at_risk"] == "50000.00"
    confirms = milestones_of(contract(seeded, LANCS), "funding_confirmation")
    assert "2025-01-31" in [m["due"] for m in confirms]


def test_cost_add_adds_to_the_year(seeded: Runner) -> None:
    out = ok(
        seeded(
            "--now", NOW, "cost", "add", LANCS, "--year", "25/26", "--amount", "1000.50",
            "--category", "Extra",
        )
    ).out  # fmt: skip
    assert "£1,000.50" in out
    fy = year(as_json(seeded("--now", NOW, "gaps", LANCS, "--json"))[0]["years"], "2025/26")
    assert fy["cost"] == "299403.72"
    assert fy["gap"] == "299403.72"


def test_cost_for_a_year_with_unknown_cost_makes_it_known(seeded: Runner) -> None:
    ok(seeded("--now", NOW, "cost", "add", LANCS, "--year", "2024/25", "--amount", "400000"))
    fy = year(as_json(seeded("--now", NOW, "gaps", LANCS, "--json"))[0]["years"], "2024/25")
    assert fy["cost_unknown"] is False
    assert fy["gap"] == "457.00"  # 400,000 less 399,543 confirmed


# ---------------------------------------------------------------------------- init and add


def test_init_twice_is_idempotent(cli: Runner, db_path: Path) -> None:
    first = ok(cli("init")).out
    assert "Created" in first or "up to date" in first
    assert db_path.exists()
    second = ok(cli("init")).out
    assert "up to date" in second
    assert as_json(cli("list", "--json")) == []


def test_init_on_a_seeded_database_keeps_the_data(seeded: Runner) -> None:
    assert "up to date" in ok(seeded("init")).out
    assert {c["ref"] for c in as_json(seeded("--now", NOW, "list", "--json"))} == {LANCS, WM}


def test_add_then_add_the_same_ref_fails(cli: Runner) -> None:
    args = (
        "--now", NOW, "add", "NEW/2024/1", "--title", "New service", "--provider", "Provider Ltd",
        "--start", "1/4/2024", "--end", "31/03/26", "--value", "£120,000.50",
        "--owner", "Owner@Example.org", "--sponsor", "cfo@example.org",
        "--watcher", "a@example.org", "--watcher", "b@example.org",
        "--extension-until", "2027-03-31", "--extension-notice-days", "90",
        "--intervention-months", "6",
    )  # fmt: skip
    out = ok(cli(*args)).out
    assert "Added NEW/2024/1" in out
    assert "tracker show NEW/2024/1" in out
    data = contract(cli, "NEW/2024/1")
    assert (data["start"], data["end"], data["value"]) == ("2024-04-01", "2026-03-31", "120000.50")
    assert data["watchers"] == ["a@example.org", "b@example.org"]
    assert data["intervention_months"] == 6
    notice = milestones_of(data, "extension_notice")
    assert [m["due"] for m in notice] == ["2025-12-31"]  # 90 days before 31 Mar 2026 (a Wed)
    line = error_line(cli(*args))
    assert "'NEW/2024/1'" in line and "already exists" in line


# ---------------------------------------------------------------------------- --now


def test_now_accepts_day_first_short_dates(seeded: Runner) -> None:
    # 2/9/24 is 2 September 2024 (210 days before the end, at staffing risk), never 9 Feb.
    data = contract(seeded, LANCS, now="2/9/24")
    assert data["days_to_end"] == 210
    assert data["staffing_risk"]["at_risk"] is True
    assert "AT RISK" in rows_with(ok(seeded("--now", "2/9/24", "list")).out, LANCS)[0]


def test_now_day_first_in_show(seeded: Runner) -> None:
    assert "AT STAFFING RISK" in ok(seeded("--now", "2/9/24", "show", LANCS)).out


def test_now_with_a_time_and_zone(seeded: Runner) -> None:
    assert contract(seeded, LANCS, now="2024-09-02T08:30Z")["days_to_end"] == 210
    assert contract(seeded, LANCS, now="2024-09-02 23:30")["days_to_end"] == 210


def test_now_rejects_an_impossible_date(seeded: Runner) -> None:
    line = error_line(seeded("--now", "13/13/24", "list"))
    assert "--now" in line and "'13/13/24'" in line


def test_version(cli: Runner) -> None:
    assert "contract-tracker" in ok(cli("--version")).out


def test_no_arguments_shows_help(isolated_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 0
    assert "Example:" in capsys.readouterr().out


def test_global_options_without_a_command_is_a_usage_error(cli: Runner) -> None:
    assert "Missing command" in error_line(cli())
