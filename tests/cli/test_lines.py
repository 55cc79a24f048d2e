"""Funding and cost lines after they are added (``funding set|remove``, ``cost set|remove``),
and ``tracker handover``, through the real CLI on SQLite and PostgreSQL.

The example is Lancashire's: with the extension activated, year three (2025/26) costs
£298,403.22 and nothing pays for it. An expected Home Office line for that amount is
added; the letter arrives in January 2025 and the line is confirmed in place.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from support.cli import LANCS, Runner, as_json, error_line, ok
from support.year3 import JANUARY, YEAR3, add_expected_line, lancashire_extended, year3

OWNER = "policy.partnerships@lancashire-opcc.example.org"
SPONSOR = "cfo@lancashire-opcc.example.org"
NEW = "new.manager@lancashire-opcc.example.org"


@pytest.fixture
def lancs(db_url: str, isolated_env: Path) -> Runner:
    """Lancashire on either backend, its extension activated (year three in term)."""
    return lancashire_extended(db_url)


@pytest.fixture
def expected_line(lancs: Runner) -> Runner:
    """Plus the expected Home Office line for year three, to confirm by 31 Jan 2025."""
    add_expected_line(lancs)
    return lancs


def detail(cli: Runner, now: str = JANUARY) -> dict[str, Any]:
    data: dict[str, Any] = as_json(cli("--now", now, "show", LANCS, "--json"))
    return data


def confirmations(cli: Runner, now: str = JANUARY) -> list[dict[str, Any]]:
    milestones = detail(cli, now)["summary"]["milestones"]
    return [m for m in milestones if m["kind"] == "funding_confirmation"]


def planned_about(cli: Runner, kind: str, now: str = JANUARY) -> list[dict[str, Any]]:
    return [r for r in as_json(cli("--now", now, "reminders", "--json")) if r["kind"] == kind]


def state(cli: Runner) -> str:
    """What a refused command must leave as it was: the contract, gaps, reminders."""
    parts = [("show", LANCS, "--json"), ("gaps", "--json"), ("reminders", "--json")]
    return "\n".join(ok(cli("--now", JANUARY, *part)).out for part in parts)


def test_confirming_the_expected_line_closes_the_gap_and_stops_its_reminders(
    expected_line: Runner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cli = expected_line
    assert year3(cli)["gap"] == YEAR3 and year3(cli)["at_risk"] == YEAR3
    assert {m["status"] for m in confirmations(cli)} == {"open"}
    assert len(confirmations(cli)) == 2  # the line's confirm_by and the year's lead
    assert planned_about(cli, "funding_confirmation")

    changed = ok(
        cli(
            "--now",
            JANUARY,
            "funding",
            "set",
            LANCS,
            "F3",
            "--status",
            "confirmed",
            "--note",
            "Home Office letter of 14/1/2025",
        )
    ).out
    assert "(expected) -> F3 Home Office grant 2025/26 £298,403.22 (confirmed)" in changed

    fy = year3(cli)
    assert (fy["secured"], fy["gap"], fy["at_risk"]) == (YEAR3, "0.00", "0.00")
    lines = detail(cli)["funding"]
    assert [line["line_id"] for line in lines] == ["F1", "F2", "F3"]  # changed, not added
    done = confirmations(cli)
    assert {m["status"] for m in done} == {"done"} and len(done) == 2
    assert all("satisfied by funding line F3" in m["closed_note"] for m in done)
    assert planned_about(cli, "funding_confirmation") == []
    events = [e["detail"] for e in detail(cli)["events"]]
    assert any("funding F3" in e and "(confirmed); Home Office letter" in e for e in events)

    monkeypatch.setenv("TRACKER_OUTBOX_DIR", str(tmp_path / "outbox"))
    ok(cli("--now", "2025-01-17 09:30", "send"))
    sent = [p.read_text() for p in (tmp_path / "outbox").glob("*.eml")]
    assert not [m for m in sent if "Funding confirmation" in m]


def test_removing_the_confirmed_line_reopens_the_year_and_keeps_the_line_in_history(
    expected_line: Runner,
) -> None:
    cli = expected_line
    ok(cli("--now", JANUARY, "funding", "set", LANCS, "F3", "--status", "confirmed"))
    removed = ok(cli("--now", JANUARY, "funding", "remove", LANCS, "F3")).out
    assert "F3 Home Office grant 2025/26 £298,403.22 (confirmed) removed" in removed
    assert year3(cli)["gap"] == YEAR3
    assert [line["line_id"] for line in detail(cli)["funding"]] == ["F1", "F2"]
    by_key = {m["title"].split(":")[0]: m["status"] for m in confirmations(cli)}
    assert by_key["Secure 2025/26 funding or accept the liability (gap £298,403.22)"] == "open"
    assert planned_about(cli, "funding_confirmation")
    events = [e["detail"] for e in detail(cli)["events"]]
    assert any("funding F3 Home Office grant" in e and "removed" in e for e in events)
    again = error_line(cli("--now", JANUARY, "funding", "set", LANCS, "F3", "--amount", "1"))
    assert again == (
        f"Error: ID: 'F3' is not a funding line of {LANCS} (its funding lines: F1, F2)"
    )


def test_cost_set_and_remove_move_the_gap_and_its_milestone(lancs: Runner) -> None:
    costs = detail(lancs)["costs"]
    payroll = next(c for c in costs if c["label"] == "Employed staff payroll costs")
    cid = payroll["line_id"]
    assert cid.startswith("C")
    changed = ok(lancs("--now", JANUARY, "cost", "set", LANCS, cid, "--amount", "181790")).out
    assert f"cost {cid} 2025/26 Employed staff payroll costs £171,790.00 ->" in changed
    assert year3(lancs)["gap"] == "308403.22"
    [year_milestone] = [m for m in confirmations(lancs) if m["title"].startswith("Secure")]
    assert "gap £308,403.22" in year_milestone["title"] and year_milestone["status"] == "open"
    ok(lancs("--now", JANUARY, "cost", "remove", LANCS, cid.lower()))
    assert year3(lancs)["gap"] == "126613.22"
    assert cid not in [c["line_id"] for c in detail(lancs)["costs"]]
    events = [e["detail"] for e in detail(lancs)["events"]]
    assert any(
        f"cost {cid} 2025/26 Employed staff payroll costs £181,790.00 removed" in e for e in events
    )
    assert planned_about(lancs, "funding_confirmation")


def test_line_errors_are_one_line_and_write_nothing(expected_line: Runner) -> None:
    cli = expected_line
    before = state(cli)
    assert error_line(
        cli("--now", JANUARY, "funding", "set", LANCS, "F9", "--status", "confirmed")
    ) == (f"Error: ID: 'F9' is not a funding line of {LANCS} (its funding lines: F1, F2, F3)")
    negative = error_line(cli("--now", JANUARY, "funding", "set", LANCS, "F3", "--amount", "-5"))
    assert negative.startswith("Error: --amount: '-5'")
    nothing = error_line(cli("--now", JANUARY, "funding", "set", LANCS, "F3", "--note", "x"))
    assert "nothing to set" in nothing
    status = error_line(cli("--now", JANUARY, "funding", "set", LANCS, "F3", "--status", "maybe"))
    assert status.startswith("Error: --status: 'maybe'")
    assert "is not a cost line" in error_line(cli("--now", JANUARY, "cost", "remove", LANCS, "F3"))
    year = error_line(cli("--now", JANUARY, "cost", "set", LANCS, "C1", "--year", "2025"))
    assert year.startswith("Error: --year: '2025'")
    unknown = error_line(cli("--now", JANUARY, "funding", "remove", "NOPE", "F1"))
    assert unknown == "Error: ref: 'NOPE' is not a contract in this database"
    assert state(cli) == before


# ------------------------------------------------------------------------------ handover


def recipients(outbox: Path) -> list[tuple[str, str, str]]:
    """(To, Subject, Message-ID) of every message written to the outbox folder."""
    found = []
    for path in outbox.glob("*.eml"):
        headers = dict(
            line.split(": ", 1) for line in path.read_text().splitlines() if ": " in line
        )
        found.append((headers["To"], headers["Subject"], headers["Message-ID"]))
    return sorted(found)


def test_handover_sends_the_next_reminder_to_the_new_owner_and_nothing_twice(
    expected_line: Runner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cli, outbox = expected_line, tmp_path / "outbox"
    monkeypatch.setenv("TRACKER_OUTBOX_DIR", str(outbox))
    ok(cli("--now", "2025-01-02 09:30", "send"))  # the 30-day leads, to the old owner
    before = recipients(outbox)
    subject = "LANCS-DRIVE: Funding confirmation due 31 Jan 2025 (in 29 days)"
    assert [m for m in before if m[:2] == (OWNER, subject)]

    moved = ok(cli("--now", "2025-01-02 09:30", "handover", "--from", OWNER, "--to", NEW)).out
    assert f"{LANCS}: owner handed over from {OWNER} to {NEW}" in moved
    summary = detail(cli, "2025-01-02")["summary"]
    assert (summary["owner"], summary["sponsor"]) == (NEW, SPONSOR)
    planned = planned_about(cli, "funding_confirmation", "2025-01-02")
    assert planned and {r["recipient"] for r in planned} == {NEW, SPONSOR}
    events = [e["detail"] for e in detail(cli, "2025-01-02")["events"]]
    assert f"{LANCS}: owner handed over from {OWNER} to {NEW}" in events

    ok(cli("--now", "2025-01-02 09:30", "send"))
    assert recipients(outbox) == before  # no catch-up copy of what the old owner had
    ok(cli("--now", "2025-01-17 09:30", "send"))
    new_mail = [m for m in recipients(outbox) if m not in before]
    about_funding = [m for m in new_mail if "Funding confirmation due 31 Jan 2025" in m[1]]
    # one 14-day reminder per milestone (the line's and the year's) to each of them
    assert sorted(to for to, _, _ in about_funding) == sorted([NEW, NEW, SPONSOR, SPONSOR])
    assert len({message_id for _, _, message_id in about_funding}) == 4
    assert all(to != OWNER for to, _, _ in new_mail)
    # the old owner owns, sponsors and watches nothing: no digest for them
    folder = str(tmp_path / "digests")
    preview = cli("--now", "2025-01-17 09:30", "digest", "--preview", folder, "--to", OWNER)
    assert "owns, sponsors or watches no contract" in error_line(preview)


def test_handover_moves_sponsor_and_watcher_and_only_the_named_refs(lancs: Runner) -> None:
    watcher = "chief.executive@lancashire-opcc.example.org"
    moved = ok(lancs("--now", JANUARY, "handover", "--from", watcher, "--to", NEW, "--ref", LANCS))
    assert f"{LANCS}: watcher handed over from {watcher} to {NEW}" in moved.out
    ok(lancs("--now", JANUARY, "handover", "--from", SPONSOR, "--to", NEW))
    summary = detail(lancs)["summary"]
    assert (summary["sponsor"], summary["watchers"]) == (NEW, [NEW])
    assert {r["recipient"] for r in planned_about(lancs, "last_referral")} <= {OWNER, NEW}


def test_handover_errors_are_one_line_and_write_nothing(lancs: Runner) -> None:
    before = state(lancs)
    same = error_line(lancs("--now", JANUARY, "handover", "--from", OWNER, "--to", OWNER))
    assert same == f"Error: --to: '{OWNER}' is the same person as --from"
    nobody = error_line(lancs("--now", JANUARY, "handover", "--from", NEW, "--to", OWNER))
    assert nobody == f"Error: --from: '{NEW}' owns, sponsors or watches no contract"
    bad = error_line(lancs("--now", JANUARY, "handover", "--from", "not-an-email", "--to", NEW))
    assert bad.startswith("Error: --from: 'not-an-email'")
    unrelated = lancs("--now", JANUARY, "handover", "--from", NEW, "--to", OWNER, "--ref", LANCS)
    assert "is not owned, sponsored or watched by" in error_line(unrelated)
    assert state(lancs) == before
