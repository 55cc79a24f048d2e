"""The JSON conventions of PRODUCT.md, checked generically on every ``--json`` read.

ISO dates, UTC timestamps ending in ``Z``, money as strings with exactly two decimals,
financial years as ``2025/26``, milestone kinds by name, staffing risk present, and no
floats anywhere. The walker classifies fields by name, so a new date or money field
is checked without this file changing.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from support.cli import LANCS, NOW, WM, Result, Runner

from tracker.domain.types import MilestoneKind

ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
UTC_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")
MONEY = re.compile(r"^\d+\.\d{2}$")
FINANCIAL_YEAR = re.compile(r"^\d{4}/\d{2}$")
KINDS = {kind.value for kind in MilestoneKind}

DATE_KEYS = {"start", "end", "original_end", "due", "until", "notice_by", "confirm_by"}
DATE_SUFFIXES = ("_date", "_due", "_by", "_on", "_until", "_opens")
MONEY_KEYS = {"value", "amount", "cost", "secured", "withdrawn", "gap", "at_risk"}
MONEY_PREFIXES = ("total_",)
MONEY_SUFFIXES = ("_amount", "_gap", "_cost", "_value")
#: Fields whose names look like money or dates but are not (checked separately).
BOOLEAN_AT_RISK_PARENTS = {"staffing_risk", "staffing"}


def is_date_key(key: str) -> bool:
    return key in DATE_KEYS or key.endswith(DATE_SUFFIXES)


def is_timestamp_key(key: str) -> bool:
    return key == "at" or key.endswith("_at")


def is_money_key(key: str, parent: str) -> bool:
    if key == "at_risk" and parent in BOOLEAN_AT_RISK_PARENTS:
        return False
    return key in MONEY_KEYS or key.startswith(MONEY_PREFIXES) or key.endswith(MONEY_SUFFIXES)


def walk(node: Any, path: str = "$") -> Iterator[tuple[str, str, Any, Any]]:
    """(path, key, value, containing dict) for every field, depth first."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield f"{path}.{key}", key, value, node
            yield from walk(value, f"{path}.{key}")
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from walk(item, f"{path}[{index}]")


def check_conventions(document: Any) -> Counter[str]:
    """Assert every convention; return how many fields of each class were checked."""
    seen: Counter[str] = Counter()
    problems: list[str] = []
    for path, key, value, container in walk(document):
        parent = path.rsplit(".", 2)[-2].split("[")[0] if path.count(".") >= 2 else ""
        if isinstance(value, float):
            problems.append(f"{path}: float {value!r} (money and numbers must not be floats)")
        if value is None or isinstance(value, dict | list):
            continue
        if is_timestamp_key(key):
            seen["timestamp"] += 1
            if not (isinstance(value, str) and UTC_TIMESTAMP.match(value)):
                problems.append(f"{path}: {value!r} is not a UTC timestamp ending in Z")
        elif is_date_key(key):
            seen["date"] += 1
            if not (isinstance(value, str) and ISO_DATE.match(value)):
                problems.append(f"{path}: {value!r} is not an ISO date")
        elif is_money_key(key, parent):
            seen["money"] += 1
            if not (isinstance(value, str) and MONEY.match(value)):
                problems.append(f"{path}: {value!r} is not money as a two-decimal string")
        elif key == "year":
            seen["year"] += 1
            if not (isinstance(value, str) and FINANCIAL_YEAR.match(value)):
                problems.append(f"{path}: {value!r} is not a financial year like 2025/26")
        if key == "kind" and ("due" in container or "milestone_due" in container):
            seen["kind"] += 1
            if value not in KINDS:
                problems.append(f"{path}: {value!r} is not a milestone kind name")
        if key == "deciding":
            seen["kind"] += 1
            if value not in KINDS:
                problems.append(f"{path}: {value!r} is not a milestone kind name")
        if key == "at_risk" and parent in BOOLEAN_AT_RISK_PARENTS and not isinstance(value, bool):
            problems.append(f"{path}: staffing at_risk {value!r} is not true/false")
    assert not problems, "\n".join(problems)
    return seen


def load(result: Result) -> Any:
    assert result.code == 0, result
    assert result.err == "", result
    return json.loads(result.out)


def check_staffing(summary: dict[str, Any]) -> None:
    risk = summary["staffing_risk"]
    assert isinstance(risk["at_risk"], bool)
    assert risk["summary"]
    assert risk["state"]


# ---------------------------------------------------------------------------- the walker itself


def test_the_walker_catches_bad_values() -> None:
    bad = {
        "end": "31 Mar 2025",
        "gap": "298403.2",
        "amount": 5.5,
        "created_at": "2024-09-02T11:00:00+00:00",
        "year": "2025-26",
        "milestones": [{"kind": "ExtensionNotice", "due": "2024-09-30"}],
        "staffing_risk": {"at_risk": "yes"},
    }
    with pytest.raises(AssertionError) as caught:
        check_conventions(bad)
    message = str(caught.value)
    for path in ("$.end", "$.gap", "$.amount", "$.created_at", "$.year", "kind", "at_risk"):
        assert path in message


# ---------------------------------------------------------------------------- the reads


def test_list_json(seeded: Runner) -> None:
    data = load(seeded("--now", NOW, "list", "--json"))
    assert {c["ref"] for c in data} == {LANCS, WM}
    seen = check_conventions(data)
    assert seen["date"] >= 10 and seen["money"] >= 10 and seen["kind"] >= 10 and seen["year"]
    for summary in data:
        check_staffing(summary)
    lancs = next(c for c in data if c["ref"] == LANCS)
    assert lancs["end"] == "2025-03-31"
    assert lancs["value"] == "665905.00"
    assert lancs["total_gap"] == "298403.22"
    assert lancs["staffing_risk"]["at_risk"] is True
    assert lancs["staffing_risk"]["deciding"] == "extension_notice"
    assert lancs["next_decision"]["kind"] in KINDS


def test_show_json(seeded: Runner) -> None:
    data = load(seeded("--now", NOW, "show", LANCS, "--json"))
    seen = check_conventions(data)
    assert seen["timestamp"] >= 1, "events should carry UTC timestamps"
    assert seen["date"] >= 5 and seen["money"] >= 10
    check_staffing(data["summary"])
    # Imported "as of" 2 Sep 2024 (a date alone is noon London, 11:00 UTC in summer).
    assert data["events"][0]["at"] == "2024-09-02T11:00:00Z"
    assert {e["until"] for e in data["extensions"]} == {"2026-03-31"}
    assert "32663.22" in {c["amount"] for c in data["costs"]}
    kinds = {m["kind"] for m in data["summary"]["milestones"]}
    assert {"extension_notice", "contract_end", "publication", "last_referral"} <= kinds


def test_show_json_west_mercia(seeded: Runner) -> None:
    data = load(seeded("--now", NOW, "show", WM, "--json"))
    check_conventions(data)
    check_staffing(data["summary"])
    assert data["summary"]["value"] == "575290.00"
    assert "64285.71" in {f["amount"] for f in data["funding"]}


def test_gaps_json(seeded: Runner) -> None:
    data = load(seeded("--now", NOW, "gaps", "--json"))
    seen = check_conventions(data)
    assert seen["money"] >= 20 and seen["year"] >= 5
    for row in data:
        for fy in row["years"]:
            assert isinstance(fy["cost_unknown"], bool)
            assert (fy["cost"] is None) == fy["cost_unknown"]


def test_timeline_json(seeded: Runner) -> None:
    data = load(seeded("--now", NOW, "timeline", "--days", "365", "--json"))
    assert data
    seen = check_conventions(data)
    assert seen["kind"] == len(data)
    assert all(item["kind"] in KINDS for item in data)


def test_json_after_changes(seeded: Runner) -> None:
    """Values entered through the CLI (UK dates, £ and commas) come out in the JSON forms."""
    for args in (
        ("extend", LANCS),
        ("funding", "add", LANCS, "--source", "Partners", "--year", "25/26",
         "--amount", "£1,234.5", "--status", "pledged", "--confirm-by", "3/2/25"),
        ("cost", "add", LANCS, "--year", "2026-27", "--amount", "7"),
        ("milestone", "add", LANCS, "review", "1/12/24"),
        ("milestone", "done", LANCS, "publication", "--note", "published"),
    ):  # fmt: skip
        result = seeded("--now", NOW, *args)
        assert result.code == 0, result
    for command in (("list", "--json"), ("show", LANCS, "--json"), ("gaps", "--json")):
        check_conventions(load(seeded("--now", NOW, *command)))
    show = load(seeded("--now", NOW, "show", LANCS, "--json"))
    partners = [f for f in show["funding"] if f["label"] == "Partners"]
    assert [(f["amount"], f["confirm_by"], f["year"]) for f in partners] == [
        ("1234.50", "2025-02-03", "2025/26")
    ]
    reviews = [m for m in show["summary"]["milestones"] if m["kind"] == "review"]
    assert [m["due"] for m in reviews] == ["2024-12-01"]


def test_reminders_json(seeded: Runner) -> None:
    data = load(seeded("--now", NOW, "reminders", "--json"))
    assert data, "an empty list would pass every convention"
    check_conventions(data)


REMINDER_FIELDS = {
    "id": int,
    "ref": str,
    "kind": str,
    "milestone_due": str,
    "lead": int,
    "recipient": str,
    "role": str,
    "send_at": str,
    "status": str,
    "attempts": int,
    "message_id": str,
    "sent_at": type(None),
    "last_reply": type(None),
}
ATTEMPT_FIELDS = {
    "at": str,
    "ref": str,
    "kind": str,
    "milestone_due": str,
    "lead": int,
    "recipient": str,
    "outcome": str,
    "reply": str,
    "message_id": str,
}
MESSAGE_ID = re.compile(r"^<r\d+\.\d{8}\.[ln]\d+\.[0-9a-f]+@[^>]+>$")


def check_fields(rows: list[dict[str, Any]], fields: dict[str, type]) -> None:
    """Every row has exactly these fields, of these JSON types (bool is not an int)."""
    assert rows
    for row in rows:
        assert set(row) == set(fields), row
        for key, kind in fields.items():
            value = row[key]
            assert type(value) is kind, (key, value)
        assert row["kind"] in KINDS, row
        assert MESSAGE_ID.match(row["message_id"]), row


def test_reminders_json_on_a_non_empty_result_field_by_field(
    seeded: Runner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Planned, due and sent listings of the seeds, with a value worked out by hand: the
    Lancashire annual report (publication, due Thursday 5 Sep 2024) has lead 2 on Tuesday
    3 Sep at 09:00 London, which is 08:00 UTC in summer time."""
    planned = load(seeded("--now", NOW, "reminders", "--json"))
    check_fields(planned, REMINDER_FIELDS)
    assert {r["status"] for r in planned} == {"planned"}
    assert all(r["attempts"] == 0 for r in planned)
    check_conventions(planned)
    report = [r for r in planned if (r["ref"], r["kind"], r["lead"]) == (LANCS, "publication", 2)]
    assert [(r["milestone_due"], r["send_at"], r["role"]) for r in report] == [
        ("2024-09-05", "2024-09-03T08:00:00Z", "owner")
    ]

    due = load(seeded("--now", "2024-09-03 09:00", "reminders", "--due", "--json"))
    check_fields(due, REMINDER_FIELDS)
    assert report[0]["id"] in {r["id"] for r in due}

    monkeypatch.setenv("TRACKER_OUTBOX_DIR", str(tmp_path / "outbox"))
    assert seeded("--now", "2024-09-02 10:00", "send").code == 0  # 10:00 BST is 09:00 UTC
    sent = load(seeded("--now", "2024-09-02 10:00", "reminders", "--sent", "--json"))
    check_fields(sent, ATTEMPT_FIELDS)
    check_conventions(sent)
    assert {h["outcome"] for h in sent} == {"sent"}
    # Each attempt is stamped by the sweep's clock: --now plus the real time the run has
    # taken so far (tracker.service.app.App.clock), seconds on a busy machine.
    started = datetime(2024, 9, 2, 9, 0, tzinfo=UTC)
    for attempt in sent:
        at = datetime.strptime(attempt["at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        assert started <= at < started + timedelta(minutes=1), attempt["at"]
    assert len({h["message_id"] for h in sent}) == len(sent)


def test_empty_reads_are_empty_json_lists(cli: Runner) -> None:
    for command in (("list", "--json"), ("gaps", "--json"), ("timeline", "--json")):
        assert load(cli(*command)) == []
