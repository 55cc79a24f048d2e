"""``tracker import --update``: a register kept in a spreadsheet, brought back in step.

The round trip of the issue: export the register, change two rows as a spreadsheet
user would (the csv module, UTF-8 with a BOM), ``--update --dry-run`` shows exactly
those changes and their effect on milestones, ``--update`` applies them, and the next
export shows them. On SQLite and PostgreSQL.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
from support.cli import (
    LANCS,
    LANCS_SEED,
    NOW,
    WM,
    WM_SEED,
    Runner,
    ok,
    runner_on,
)

NEW_OWNER = "new.manager@lancashire-opcc.example.org"


@pytest.fixture
def both(db_url: str, isolated_env: Path) -> Runner:
    run = runner_on(db_url)
    for seed in (LANCS_SEED, WM_SEED):
        ok(run("--now", NOW, "import", str(seed)))
    return run


def read_rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.reader(handle))


def write_rows(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        csv.writer(handle).writerows(rows)
    return path


def state(cli: Runner) -> str:
    parts = [("list", "--json"), ("reminders", "--json"), ("show", WM, "--json")]
    return "\n".join(ok(cli("--now", NOW, *part)).out for part in parts)


def edited_register(cli: Runner, tmp_path: Path) -> Path:
    """The exported register with LANCS's value and owner and WM's end changed."""
    exported = tmp_path / "r.csv"
    ok(cli("--now", NOW, "export", "register", "--out", str(exported)))
    rows = read_rows(exported)
    header = rows[0]
    by_ref = {row[0]: row for row in rows[1:]}
    by_ref[LANCS][header.index("Value")] = "£700,000.00"
    by_ref[LANCS][header.index("Owner")] = NEW_OWNER
    by_ref[WM][header.index("End Date")] = "30/06/2020"
    return write_rows(tmp_path / "edited.csv", rows)


def test_register_round_trip_with_update(both: Runner, tmp_path: Path) -> None:
    exported = tmp_path / "r.csv"
    ok(both("--now", NOW, "export", "register", "--out", str(exported)))
    same = ok(both("--now", NOW, "import", str(exported), "--update", "--dry-run")).out
    assert "updated 0, 2 unchanged" in same

    edited = edited_register(both, tmp_path)
    before = state(both)
    preview = ok(both("--now", NOW, "import", str(edited), "--update", "--dry-run")).out
    assert preview.splitlines()[:7] == [
        f"{LANCS}:",
        "  value: £665,905.00 -> £700,000.00",
        f"  owner: policy.partnerships@lancashire-opcc.example.org -> {NEW_OWNER}",
        f"{WM}:",
        "  end: 31 Mar 2020 -> 30 Jun 2020",
        "  milestone continuation_decision moved 28 Jun 2019 -> 30 Sep 2019",
        "  milestone contract_end moved 31 Mar 2020 -> 30 Jun 2020",
    ]
    assert "Nothing written (--dry-run)" in preview
    assert state(both) == before

    applied = ok(both("--now", NOW, "import", str(edited), "--update")).out
    assert "updated 2, 0 unchanged" in applied
    again = tmp_path / "again.csv"
    ok(both("--now", NOW, "export", "register", "--out", str(again)))
    assert read_rows(again) == read_rows(edited)

    wm: dict[str, Any] = json.loads(ok(both("--now", NOW, "show", WM, "--json")).out)
    end = [m for m in wm["summary"]["milestones"] if m["kind"] == "contract_end"]
    assert [m["due"] for m in end] == ["2020-06-30"]
    assert any("end 31 Mar 2020 -> 30 Jun 2020 (edited.csv)" in e["detail"] for e in wm["events"])
    planned = json.loads(ok(both("--now", NOW, "reminders", "--json")).out)
    lancs_owner = {r["recipient"] for r in planned if r["ref"] == LANCS and r["role"] == "owner"}
    assert lancs_owner == {NEW_OWNER}


def test_without_update_an_existing_ref_stays_an_error(both: Runner, tmp_path: Path) -> None:
    edited = edited_register(both, tmp_path)
    before = state(both)
    refused = both("--now", NOW, "import", str(edited))
    assert refused.code == 1 and refused.err.count("\n") == 1, refused
    assert "already exists" in refused.err
    assert state(both) == before


def test_update_adds_new_refs_and_is_all_or_nothing(both: Runner, tmp_path: Path) -> None:
    rows = read_rows(edited_register(both, tmp_path))
    rows.append(
        ["NEW-1", "New service", "Provider", "", "01/04/2025", "31/03/2026", "", "", "", ""]
    )
    bad = [row[:] for row in rows]
    bad[2][bad[0].index("End Date")] = "01/01/2018"  # before WM's start: invalid
    before = state(both)
    refused = both("--now", NOW, "import", str(write_rows(tmp_path / "bad.csv", bad)), "--update")
    assert refused.code == 1 and refused.err.count("\n") == 1, refused
    assert refused.err.startswith("Error: bad.csv line 3: end: '01/01/2018'")
    assert state(both) == before

    done = ok(both("--now", NOW, "import", str(write_rows(tmp_path / "ok.csv", rows)), "--update"))
    assert "Imported 1 contracts" in done.out and "Added: NEW-1" in done.out
    refs = {c["ref"] for c in json.loads(ok(both("--now", NOW, "list", "--json")).out)}
    assert refs == {LANCS, WM, "NEW-1"}


def test_update_refuses_a_yaml_whose_decisions_differ(both: Runner, tmp_path: Path) -> None:
    text = LANCS_SEED.read_text().replace("date: 2/9/2024", "date: 3/9/2024")
    assert text != LANCS_SEED.read_text()
    path = tmp_path / "lancs.yaml"
    path.write_text(text)
    before = state(both)
    refused = both("--now", NOW, "import", str(path), "--update")
    assert refused.code == 1 and refused.err.count("\n") == 1, refused
    assert "decisions in the file differ" in refused.err and "tracker decision" in refused.err
    assert state(both) == before
    unchanged = ok(both("--now", NOW, "import", str(LANCS_SEED), "--update")).out
    assert "updated 0, 1 unchanged" in unchanged
