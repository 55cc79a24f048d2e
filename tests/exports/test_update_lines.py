"""``tracker import --update`` applies a file's funding and cost lines and extension options
the way ``funding set|add|remove``, ``cost set|add|remove`` would, all or nothing, on
SQLite and PostgreSQL.

Lancashire's example: with the extension taken, year three (2025/26) costs £298,403.22
and an expected Home Office line covers it, to be confirmed by 31 Jan 2025. The letter
arrives; the register (a YAML file) now says the line is confirmed; ``--update`` confirms
the very line (F3), which closes the year's gap and its funding-confirmation milestones,
so their reminders stop.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from support.cli import LANCS, LANCS_SEED, Result, Runner, ok
from support.year3 import JANUARY, YEAR3, add_expected_line, lancashire_extended, year3

SEED_FUNDING = (
    "      - {source: Home Office grant, year: 2024/25, amount: 399543, status: confirmed}\n"
)
CONFIRMED = (
    "      - {source: Home Office grant, year: 2025/26, amount: 298403.22, status: confirmed}\n"
)


@pytest.fixture
def cli(db_url: str, isolated_env: Path) -> Runner:
    """Lancashire, its extension taken, with the expected Home Office line F3."""
    run = lancashire_extended(db_url)
    add_expected_line(run)
    return run


OPTION = "    extensions: [{until: 2026-03-31, notice_by: 2024-09-30}]\n"


def register(tmp_path: Path, *, funding: str | None = None, options: str = "") -> Path:
    """The seed as the register now reads: the end after the extension, the option
    taken not listed (``options``: the ``extensions:`` line, none by default: the taken
    option stays as it is), its funding list ``funding`` (None: the seed's two lines;
    "" drops the ``funding:`` key)."""
    text = LANCS_SEED.read_text().replace("end: 31/03/2025", "end: 31/03/2026")
    text = text.replace(OPTION, options)
    if funding is not None:
        start = text.index("    funding:\n")
        end = text.index("    costs:\n")
        text = text[:start] + (f"    funding:\n{funding}" if funding else "") + text[end:]
    path = tmp_path / "lancs.yaml"
    path.write_text(text)
    return path


def seed_funding() -> str:
    text = LANCS_SEED.read_text()
    return text[text.index("    funding:\n") + len("    funding:\n") : text.index("    costs:\n")]


def update(cli: Runner, path: Path, *more: str) -> Result:
    return cli("--now", JANUARY, "import", str(path), "--update", *more)


def show(cli: Runner) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(ok(cli("--now", JANUARY, "show", LANCS, "--json")).out)
    return data


def confirmations(cli: Runner) -> list[dict[str, Any]]:
    return [m for m in show(cli)["summary"]["milestones"] if m["kind"] == "funding_confirmation"]


def planned_about(cli: Runner, kind: str) -> list[dict[str, Any]]:
    planned = json.loads(ok(cli("--now", JANUARY, "reminders", "--json")).out)
    return [r for r in planned if r["kind"] == kind]


def state(cli: Runner) -> str:
    parts = [("show", LANCS, "--json"), ("gaps", "--json"), ("reminders", "--json")]
    return "\n".join(ok(cli("--now", JANUARY, *part)).out for part in parts)


def test_the_register_unchanged_changes_nothing(cli: Runner, tmp_path: Path) -> None:
    expected = seed_funding() + (
        "      - {source: Home Office grant, year: 2025/26, amount: 298403.22, "
        "confirm_by: 2025-01-31}\n"
    )
    before = state(cli)
    assert "updated 0, 1 unchanged" in ok(update(cli, register(tmp_path, funding=expected))).out
    assert state(cli) == before


def test_a_confirmed_line_in_the_file_closes_the_gap_and_stops_its_reminders(
    cli: Runner, tmp_path: Path
) -> None:
    path = register(tmp_path, funding=seed_funding() + CONFIRMED)
    assert year3(cli)["gap"] == YEAR3
    assert {m["status"] for m in confirmations(cli)} == {"open"} and len(confirmations(cli)) == 2
    assert planned_about(cli, "funding_confirmation")
    before = state(cli)

    preview = ok(update(cli, path, "--dry-run")).out
    assert (
        "  funding F3: F3 Home Office grant 2025/26 £298,403.22 (expected) -> "
        "F3 Home Office grant 2025/26 £298,403.22 (confirmed)"
    ) in preview.splitlines()
    assert "  milestone funding_confirmation done (was due 31 Jan 2025)" in preview.splitlines()
    assert "Nothing written (--dry-run)" in preview
    assert state(cli) == before

    assert "updated 1, 0 unchanged" in ok(update(cli, path)).out
    fy = year3(cli)
    assert (fy["secured"], fy["gap"], fy["at_risk"]) == (YEAR3, "0.00", "0.00")
    assert [line["line_id"] for line in show(cli)["funding"]] == ["F1", "F2", "F3"]
    done = confirmations(cli)
    assert {m["status"] for m in done} == {"done"} and len(done) == 2
    assert all("satisfied by funding line F3" in m["closed_note"] for m in done)
    assert planned_about(cli, "funding_confirmation") == []
    events = [e["detail"] for e in show(cli)["events"]]
    assert any("funding F3" in e and e.endswith("(confirmed)") for e in events)
    assert "updated 0, 1 unchanged" in ok(update(cli, path)).out  # applied once

    # A later register that leaves the line's status out leaves it confirmed (a field
    # absent from the file is left as it is; it is not read as "expected").
    silent = CONFIRMED.replace(", status: confirmed", "")
    assert (
        "updated 0, 1 unchanged"
        in ok(update(cli, register(tmp_path, funding=seed_funding() + silent))).out
    )
    assert year3(cli)["gap"] == "0.00"


def test_lines_added_changed_removed_and_left_alone(cli: Runner, tmp_path: Path) -> None:
    # No funding key: the lines stay as they are, whatever the costs do.
    extra_cost = "      - {year: 2025/26, category: Evaluation, amount: 5000}\n"
    text = register(tmp_path, funding="").read_text()
    text = text.replace("amount: 171790}", "amount: 181790}")
    text = text.replace("    decisions:\n", extra_cost + "    decisions:\n")
    path = tmp_path / "costs.yaml"
    path.write_text(text)
    preview = ok(update(cli, path, "--dry-run")).out.splitlines()
    payroll = [line for line in preview if "Employed staff payroll costs" in line]
    assert len(payroll) == 1 and "£171,790.00 -> " in payroll[0] and "£181,790.00" in payroll[0]
    assert any("2025/26 Evaluation £5,000.00" in line and ": - -> " in line for line in preview)
    assert not any("funding" in line for line in preview)
    ok(update(cli, path))
    assert year3(cli)["cost"] == "313403.22"
    assert [line["line_id"] for line in show(cli)["funding"]] == ["F1", "F2", "F3"]

    # The key without the 2024/25 line and F3: both removed, kept in the history; a new
    # line added. By id, F1's amount changes.
    funding = (
        "      - {id: F1, source: Home Office grant, year: 2023/24, amount: 266000, "
        "status: confirmed}\n"
        "      - {source: PCC reserves, year: 2025/26, amount: 100000, status: confirmed}\n"
    )
    preview = ok(update(cli, register(tmp_path, funding=funding), "--dry-run")).out.splitlines()
    assert "  funding F1: F1 Home Office grant 2023/24 £266,362.00 (confirmed) -> " in "\n".join(
        preview
    )
    assert "  funding F4: - -> F4 PCC reserves 2025/26 £100,000.00 (confirmed)" in preview
    assert "  funding F2: F2 Home Office grant 2024/25 £399,543.00 (confirmed) -> removed" in (
        preview
    )
    assert any(
        line.startswith("  funding F3: ") and line.endswith("-> removed") for line in preview
    )
    ok(update(cli, register(tmp_path, funding=funding)))
    lines = {line["line_id"]: line for line in show(cli)["funding"]}
    assert sorted(lines) == ["F1", "F4"]
    events = [e["detail"] for e in show(cli)["events"]]
    assert any("funding F2 Home Office grant 2024/25" in e and "removed" in e for e in events)


def test_a_new_option_is_added_and_dry_run_lists_it(cli: Runner, tmp_path: Path) -> None:
    option = "    extensions: [{until: 2027-03-31, notice_days: 180}]\n"
    text = register(tmp_path, options=option).read_text()
    path = tmp_path / "option.yaml"
    path.write_text(text)
    preview = ok(update(cli, path, "--dry-run")).out.splitlines()
    assert "  option 2: - -> to 31 Mar 2027, 180 days' notice" in preview
    assert any(line.startswith("  milestone extension_notice added") for line in preview)
    ok(update(cli, path))
    notices = [m for m in show(cli)["summary"]["milestones"] if m["kind"] == "extension_notice"]
    assert any(m["due"] == "2025-10-02" and m["status"] == "open" for m in notices), notices


def test_a_bad_line_id_is_one_line_and_writes_nothing(cli: Runner, tmp_path: Path) -> None:
    funding = "      - {id: F9, source: X, year: 2025/26, amount: 1}\n"
    before = state(cli)
    refused = update(cli, register(tmp_path, funding=funding))
    assert refused.code == 1 and refused.err.count("\n") == 1, refused
    assert refused.err.startswith(f"Error: lancs.yaml {LANCS}: funding.id: 'F9' is not one of"), (
        refused.err
    )
    assert state(cli) == before
