"""Decision records: the publication deadline counts England and Wales working days."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.cli import LANCS, NOW, Runner, dump


def publications(cli: Runner, ref: str, now: str) -> list[tuple[str, str, str]]:
    shown = cli("--now", now, "show", ref, "--json")
    assert shown.code == 0, shown
    milestones = json.loads(shown.out)["summary"]["milestones"]
    return [(m["due"], m["title"], m["status"]) for m in milestones if m["kind"] == "publication"]


def test_a_decision_before_christmas_2022_is_due_published_after_the_bank_holidays(
    cli: Runner,
) -> None:
    """Thursday 22 Dec 2022 + 3 working days: Fri 23, (Mon 26 and Tue 27 are bank
    holidays), Wed 28, Thu 29 Dec 2022."""
    assert cli("add", "XMAS", "--title", "Refuge", "--provider", "P", "--start", "1/4/2022",
               "--end", "31/3/2024").code == 0  # fmt: skip
    added = cli("--now", "2022-12-22", "decision", "add", "XMAS", "--id", "41/2022", "--date",
                "22/12/2022", "--url", "https://example.org/decisions/41-2022")  # fmt: skip
    assert added.code == 0, added
    assert "publish by 29 Dec 2022" in added.out
    assert publications(cli, "XMAS", "2022-12-22") == [
        ("2022-12-29", "Publish decision 41/2022", "open")
    ]


def test_the_seed_decision_20_2024_is_due_published_on_5_sep_2024(seeded: Runner) -> None:
    assert publications(seeded, LANCS, NOW) == [
        ("2024-09-05", "Publish decision 20/2024: Drive Programme - extension to contract", "open")
    ]


def test_a_decision_link_appears_in_the_reminder_email(
    seeded: Runner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    outbox = tmp_path / "outbox"
    monkeypatch.setenv("TRACKER_OUTBOX_DIR", str(outbox))
    assert seeded("--now", NOW, "decision", "add", LANCS, "--id", "21/2024", "--date",
                  "2/9/2024", "--url", "https://example.org/decisions/21-2024").code == 0  # fmt: skip
    sent = seeded("--now", "2024-09-03 09:00", "send")
    assert sent.code == 0, sent
    bodies = [p.read_text(errors="replace") for p in outbox.glob("*.eml")]
    about_21 = [b for b in bodies if "Publish decision 21/2024" in b]
    assert about_21, "no reminder about the new decision's publication"
    assert all("https://example.org/decisions/21-2024" in b for b in about_21)


def test_a_duplicate_decision_or_a_bad_link_writes_nothing(seeded: Runner, db_path: Path) -> None:
    before = dump(db_path)
    bad_link = seeded("--now", NOW, "decision", "add", LANCS, "--id", "9/2024", "--date",
                      "2/9/2024", "--url", "javascript:alert(1)")  # fmt: skip
    assert bad_link.code == 1 and bad_link.err.count("\n") == 1
    assert bad_link.err.startswith("Error: --url: 'javascript:alert(1)'")
    duplicate = seeded("--now", NOW, "decision", "add", LANCS, "--id", "20/2024", "--date",
                       "2/9/2024")  # fmt: skip
    assert duplicate.code == 1 and "'20/2024' is already a decision" in duplicate.err
    bad_date = seeded("--now", NOW, "decision", "add", LANCS, "--id", "9/2024", "--date",
                      "31/02/2024")  # fmt: skip
    assert bad_date.code == 1 and bad_date.err.startswith("Error: --date: '31/02/2024'")
    assert dump(db_path) == before
