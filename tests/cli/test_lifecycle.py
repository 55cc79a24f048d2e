"""A contract's life through the real CLI, on SQLite and PostgreSQL: edit, vary, extend,
terminate, remove; the version that refuses a stale change; who made each change.

Each change is checked where it lands: the re-derived milestones (``show --json``), the
reminders planned afterwards (``reminders --json``), the history entry with its actor,
and, for a refused change, one error line with nothing written.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from icalendar import Calendar
from support.cli import (
    LANCS,
    LANCS_SEED,
    NOW,
    WM,
    WM_SEED,
    Result,
    error_line,
    isolate,
    ok,
    runner_on,
)

from tracker.errors import StaleChange
from tracker.service.app import make_app, opened
from tracker.service.lifecycle import edit_contract

Run = Callable[..., Result]
OWNER = "policy.partnerships@lancashire-opcc.example.org"


@pytest.fixture
def life(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Run:
    """The CLI on ``db_url`` (both backends) holding both seeds, changes made by olivia."""
    isolate(monkeypatch, tmp_path)
    monkeypatch.setenv("TRACKER_ACTOR", "olivia")
    monkeypatch.setenv("TRACKER_OUTBOX_DIR", str(tmp_path / "outbox"))

    run = runner_on(db_url)
    for seed in (LANCS_SEED, WM_SEED):
        ok(run("--now", NOW, "import", str(seed)))
    return run


def show(run: Run, ref: str = LANCS, now: str = NOW) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(ok(run("--now", now, "show", ref, "--json")).out)
    return data


def due(data: dict[str, Any], kind: str) -> list[tuple[str, str]]:
    """(due, status) of the contract's milestones of ``kind``."""
    return [(m["due"], m["status"]) for m in data["summary"]["milestones"] if m["kind"] == kind]


def planned(run: Run, now: str = NOW) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = json.loads(ok(run("--now", now, "reminders", "--json")).out)
    return [r for r in rows if r["ref"] == LANCS]


def state(run: Run) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """What a refused change must leave as it was: the contract and its reminders."""
    return show(run), sorted(planned(run), key=lambda r: r["id"])


def latest_event(data: dict[str, Any], kind: str) -> dict[str, Any]:
    found = [e for e in data["events"] if e["kind"] == kind]
    assert found, data["events"]
    return found[0]


# ---------------------------------------------------------------------------- edit


def test_edit_rederives_replans_and_logs_each_field_old_and_new(life: Run) -> None:
    new_owner = "new.manager@example.org"
    result = life(
        "--now",
        NOW,
        "--by",
        "ann",
        "edit",
        LANCS,
        "--end",
        "28/2/2025",
        "--owner",
        new_owner,
        "--add-watcher",
        "Watcher@Example.org",
        "--title",
        "Drive (West Lancs)",
    )
    line = ok(result).out.strip()
    assert line.startswith(f"{LANCS} edited: ")
    assert "end: 31 Mar 2025 -> 28 Feb 2025" in line
    assert f"owner: {OWNER} -> {new_owner}" in line
    assert "watchers: +watcher@example.org" in line
    data = show(life)
    summary = data["summary"]
    assert (summary["end"], summary["owner"], summary["title"]) == (
        "2025-02-28",
        new_owner,
        "Drive (West Lancs)",
    )
    assert "watcher@example.org" in summary["watchers"]
    assert summary["version"] == 2
    assert due(data, "contract_end") == [("2025-02-28", "open")]
    event = latest_event(data, "contract_edited")
    assert event["actor"] == "ann" and "end: 31 Mar 2025 -> 28 Feb 2025" in event["detail"]
    recipients = {r["recipient"] for r in planned(life) if r["role"] == "owner"}
    assert recipients == {new_owner}, "the owner's reminders go to the new owner"


def test_edit_clears_an_optional_field_with_an_empty_value(life: Run) -> None:
    ok(life("--now", NOW, "edit", LANCS, "--sponsor", ""))
    data = show(life)
    assert data["summary"]["sponsor"] is None
    assert not [r for r in planned(life) if r["role"] == "sponsor"]
    assert latest_event(data, "contract_edited")["actor"] == "olivia"  # TRACKER_ACTOR


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["--end", "1/7/2023"], "--end"),  # before the start
        (["--end", "30/4/2026"], "--end"),  # after the extension option's end
        (["--start", "1/4/2025"], "--end"),  # the end would fall before the new start
        (["--value", "-5"], "--value"),
        (["--owner", "not-an-email"], "--owner"),
        (["--add-watcher", "bad@"], "--add-watcher"),
        (["--remove-watcher", "nobody@example.org"], "--remove-watcher"),
        (["--intervention-months", "0"], "--intervention-months"),
        (["--title", ""], "--title"),
        ([], "edit"),
    ],
)
def test_a_bad_edit_is_one_line_naming_the_option_and_writes_nothing(
    life: Run, args: list[str], option: str
) -> None:
    before = state(life)
    line = error_line(life("--now", NOW, "edit", LANCS, *args))
    assert line.startswith(f"Error: {option}"), line
    assert state(life) == before


# ---------------------------------------------------------------------------- vary


def test_vary_moves_the_end_and_value_everywhere_it_shows(life: Run, tmp_path: Path) -> None:
    ok(life("--now", NOW, "calendar", "--ref", LANCS, "--out", "before.ics"))
    out = ok(
        life(
            "--now",
            NOW,
            "vary",
            LANCS,
            "--end",
            "30/6/2025",
            "--value",
            "700000",
            "--ref-no",
            "Variation 2",
            "--date",
            "1/9/2024",
            "--note",
            "more sessions",
        )
    ).out
    assert "Variation 2 of 1 Sep 2024: end: 31 Mar 2025 -> 30 Jun 2025" in out
    data = show(life)
    assert data["summary"]["end"] == "2025-06-30" and data["summary"]["value"] == "700000.00"
    assert due(data, "contract_end") == [("2025-06-30", "open")]
    (variation,) = data["variations"]
    assert variation["ref_no"] == "Variation 2" and variation["actor"] == "olivia"
    assert (variation["old_end"], variation["new_end"]) == ("2025-03-31", "2025-06-30")
    assert (variation["old_value"], variation["new_value"]) == ("665905.00", "700000.00")
    assert "Variation 2" in latest_event(data, "contract_varied")["detail"]
    ends = {r["milestone_due"] for r in planned(life) if r["kind"] == "contract_end"}
    assert ends == {"2025-06-30"}, "the end's reminders are planned for the new end"
    # The calendar: the moved contract_end event is a new version of the same event.
    ok(life("--now", NOW, "calendar", "--ref", LANCS, "--out", "after.ics"))
    old, new = (_end_event(tmp_path / name) for name in ("before.ics", "after.ics"))
    assert old["uid"] == new["uid"] and new["sequence"] > old["sequence"]
    assert str(new["dtstart"]) == "2025-06-30"
    # The register and the digest's "what changed".
    ok(life("--now", NOW, "export", "register", "--out", "register.csv"))
    assert "Variation 2 of 1 Sep 2024" in (tmp_path / "register.csv").read_text("utf-8-sig")
    ok(life("--now", NOW, "digest", "--preview", "digests"))
    assert "Variation 2" in (tmp_path / "digests" / f"{OWNER}.txt").read_text()


def _end_event(path: Path) -> dict[str, Any]:
    calendar = Calendar.from_ical(path.read_bytes())
    (event,) = [
        e for e in calendar.walk("VEVENT") if "contract_end" in str(e.get("categories").to_ical())
    ]
    return {
        "uid": str(event["uid"]),
        "sequence": int(event["sequence"]),
        "dtstart": event["dtstart"].dt,
    }


def test_a_bad_variation_is_one_line_and_writes_nothing(life: Run) -> None:
    before = state(life)
    base = ["--now", NOW, "vary", LANCS, "--ref-no", "V2", "--date", "1/9/2024"]
    assert error_line(life(*base)).startswith("Error: --end")  # neither end nor value
    assert error_line(life(*base, "--end", "30/4/2026")).startswith("Error: --end")
    assert error_line(life(*base, "--value", "lots")).startswith("Error: --value")
    assert error_line(life(*base[:-1], "31/2/2024", "--end", "1/5/2025")).startswith(
        "Error: --date"
    )
    assert state(life) == before


def test_extend_is_recorded_as_a_variation(life: Run) -> None:
    ok(life("--now", NOW, "extend", LANCS))
    (variation,) = show(life)["variations"]
    assert variation["ref_no"] == "Extension option 1"
    assert (variation["old_end"], variation["new_end"]) == ("2025-03-31", "2026-03-31")


# ---------------------------------------------------------------------------- terminate


def test_terminate_ends_the_contract_and_cancels_what_is_open_after(life: Run) -> None:
    out = ok(
        life(
            "--now",
            NOW,
            "--by",
            "steve",
            "terminate",
            LANCS,
            "--on",
            "31/12/2024",
            "--reason",
            "decommissioned",
            "--note",
            "recommissioned",
        )
    ).out
    assert "decommissioned on 31 Dec 2024" in out
    data = show(life)
    summary = data["summary"]
    assert (summary["ended_on"], summary["end_reason"], summary["end"]) == (
        "2024-12-31",
        "decommissioned",
        "2024-12-31",
    )
    assert due(data, "contract_end") == [("2024-12-31", "open")]
    after = [m for m in summary["milestones"] if m["due"] > "2024-12-31"]
    assert after and all(m["status"] == "cancelled" for m in after), after
    assert all("decommissioned on 31 Dec 2024" in m["closed_note"] for m in after)
    assert not [r for r in planned(life) if r["milestone_due"] > "2024-12-31"]
    assert latest_event(data, "contract_ended")["actor"] == "steve"
    (notice,) = [m for m in summary["milestones"] if m["kind"] == "extension_notice"]
    assert notice["status"] == "cancelled" and "decommissioned" in notice["closed_note"]
    # Still listed while decisions are left open; once they are closed, and the
    # contract is over, it steps aside from list and timeline, not from the register.
    later = "2025-02-03"
    assert LANCS in {c["ref"] for c in json.loads(ok(life("--now", later, "list", "--json")).out)}
    ok(life("--now", NOW, "milestone", "done", LANCS, "continuation_decision"))
    ok(life("--now", NOW, "milestone", "cancel", LANCS, "publication"))
    refs = [c["ref"] for c in json.loads(ok(life("--now", later, "list", "--json")).out)]
    assert LANCS not in refs
    every = json.loads(ok(life("--now", later, "list", "--all", "--json")).out)
    assert [c["ended"] for c in every if c["ref"] == LANCS] == [True]
    timeline = json.loads(ok(life("--now", later, "timeline", "--json")).out)
    assert LANCS not in {m["ref"] for m in timeline}
    register = json.loads(ok(life("--now", later, "export", "register", "--json")).out)
    assert LANCS in {row["reference"] for row in register}


def test_a_bad_termination_is_one_line_and_writes_nothing(life: Run) -> None:
    before = state(life)
    base = ["--now", NOW, "terminate", LANCS]
    assert error_line(life(*base, "--on", "1/1/2025", "--reason", "bored")).startswith(
        "Error: --reason"
    )
    assert error_line(life(*base, "--on", "1/1/2020", "--reason", "terminated")).startswith(
        "Error: --on"
    )
    assert state(life) == before
    ok(life(*base, "--on", "1/1/2025", "--reason", "set-aside"))
    assert "already ended" in error_line(life(*base, "--on", "1/1/2025", "--reason", "terminated"))


# ---------------------------------------------------------------------------- remove


def test_remove_only_while_nothing_was_sent(life: Run) -> None:
    add = ["add", "TYPO", "--title", "T", "--provider", "P", "--start", "1/4/2024"]
    ok(life("--now", NOW, *add, "--end", "31/3/2026", "--owner", "o@example.org"))
    assert "--yes" in error_line(life("--now", NOW, "remove", "TYPO"))
    assert "Removed TYPO" in ok(life("--now", NOW, "remove", "TYPO", "--yes")).out
    assert "is not a contract" in error_line(life("--now", NOW, "show", "TYPO"))
    ok(life("--now", "2024-09-03T10:00", "send"))  # reminders about LANCS-DRIVE go out
    before = state(life)
    line = error_line(life("--now", NOW, "remove", LANCS, "--yes"))
    assert "tracker terminate" in line
    assert state(life) == before


# ---------------------------------------------------------------------------- versions


def test_a_change_on_a_stale_version_is_refused_saying_what_changed(life: Run) -> None:
    version = show(life)["summary"]["version"]
    edit = ["--now", NOW, "edit", LANCS, "--if-version", str(version)]
    ok(life("--by", "ann", *edit, "--value", "700000"))
    before = state(life)
    line = error_line(life("--by", "bob", *edit, "--value", "650000"))
    assert f"at version {version + 1}, not {version}" in line
    assert "value: £665,905.00 -> £700,000.00 (by ann," in line
    assert state(life) == before
    vary = ["vary", LANCS, "--value", "1", "--ref-no", "V", "--date", "1/9/2024"]
    assert "--if-version" in error_line(life("--now", NOW, *vary, "--if-version", "1"))
    terminate = ["terminate", LANCS, "--on", "1/1/2025", "--reason", "terminated"]
    assert "--if-version" in error_line(life("--now", NOW, *terminate, "--if-version", "1"))


def test_every_change_bumps_the_version_and_records_its_actor(life: Run) -> None:
    ok(
        life(
            "--now",
            NOW,
            "--by",
            "ann",
            "funding",
            "add",
            LANCS,
            "--source",
            "PCC",
            "--year",
            "2025/26",
            "--amount",
            "1000",
        )
    )
    ok(life("--now", NOW, "--by", "bob", "milestone", "done", LANCS, "extension_notice"))
    data = show(life)
    assert data["summary"]["version"] == 3
    actors = {e["kind"]: e["actor"] for e in reversed(data["events"])}
    assert actors["funding_added"] == "ann" and actors["milestone_done"] == "bob"
    assert actors["contract_added"] == "olivia"


def test_two_racing_edits_on_one_read_one_applies(db_url: str, life: Run) -> None:
    version = show(life)["summary"]["version"]

    async def edit(owner: str) -> str:
        app = make_app(db=db_url, by=owner.split("@")[0])
        async with opened(app):
            changes = {"owner": owner}
            return await edit_contract(app, LANCS, changes, if_version=version)

    async def race() -> list[str | BaseException]:
        return await asyncio.gather(
            edit("ann@example.org"), edit("bob@example.org"), return_exceptions=True
        )

    results = asyncio.run(race())
    refused = [r for r in results if isinstance(r, StaleChange)]
    applied = [r for r in results if isinstance(r, str)]
    assert len(refused) == 1 and len(applied) == 1, results
    owner = show(life)["summary"]["owner"]
    assert f"-> {owner}" in applied[0]
    assert show(life)["summary"]["version"] == version + 1
    assert WM in ok(life("--now", NOW, "list")).out
