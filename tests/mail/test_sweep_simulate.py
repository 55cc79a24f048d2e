"""`tracker simulate` against the real thing: the emails it lists for a period are exactly
those that running `tracker send` at 09:00 every day of that period then delivers to a
real SMTP server; and it changes nothing in the database, with or without --ref and
--policy.

Two contracts of olivia's (steve sponsoring), imported on 1 Aug 2025 and never swept
before the period, so its first day also shows the catch-up (missed leads collapsed).
"""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from support.people import OLIVIA, STEVE
from support.smtp import reminder_key

LONDON = ZoneInfo("Europe/London")
REF = "OPCC/2024/07"
OTHER = "OPCC/2024/11"
FIRST, LAST = date(2025, 12, 1), date(2026, 1, 12)

CONTRACT = """\
  - ref: {ref}
    title: Domestic abuse perpetrator programme
    provider: Safer Futures CIC
    start: 2024-04-01
    end: 2026-03-31
    value: 400000
    owner: olivia@opcc.example.org
    sponsor: steve@opcc.example.org
    extensions: [{{until: 2027-03-31, notice_by: {notice_by}}}]
    funding:
      - {{source: Home Office grant, year: 2025/26, amount: 200000, status: confirmed}}
    costs:
      - {{year: 2026/27, category: Payroll, amount: 210000}}
    milestones:
      - {{kind: review, due: {review}, title: Annual review}}
"""

POLICY = """\
[reminders.extension_notice]
leads = [45, 10]
escalate_from = 10
nag_days = 0
"""


def _dump(path: Path) -> str:
    connection = sqlite3.connect(path)
    try:
        return "\n".join(connection.iterdump())
    finally:
        connection.close()


def _setup(env: Any, tracker_cli: Any) -> None:
    path = env.tmp / "contracts.yaml"
    path.write_text(
        "contracts:\n"
        + CONTRACT.format(ref=REF, notice_by="2026-01-02", review="2026-01-12")
        + CONTRACT.format(ref=OTHER, notice_by="2025-12-15", review="2025-12-22")
    )
    result = tracker_cli("import", str(path), now="2025-08-01 10:00")
    assert result.code == 0, result


def _simulate(tracker_cli: Any, *extra: str) -> list[dict[str, Any]]:
    result = tracker_cli(
        "simulate", "--from", FIRST.isoformat(), "--to", LAST.isoformat(), *extra, "--json",
        now="2025-11-30 12:00",
    )  # fmt: skip
    assert result.code == 0, result
    rows: list[dict[str, Any]] = json.loads(result.out)
    return rows


def _rows(simulated: list[dict[str, Any]]) -> list[tuple[str, str, str, str]]:
    return sorted((e["send_at"], e["recipient"], e["subject"], e["message_id"]) for e in simulated)


def test_simulate_lists_exactly_what_daily_sends_deliver_and_changes_nothing(
    env: Any, smtp: Any, tracker_cli: Any
) -> None:
    _setup(env, tracker_cli)
    before = _dump(env.db_path)

    simulated = _simulate(tracker_cli)
    assert _dump(env.db_path) == before
    assert smtp.messages == []  # a simulation sends nothing
    assert len(simulated) > 20
    assert {e["ref"] for e in simulated} == {REF, OTHER}

    only_other = _simulate(tracker_cli, "--ref", OTHER)
    assert _dump(env.db_path) == before
    assert _rows(only_other) == _rows([e for e in simulated if e["ref"] == OTHER])

    policy = env.tmp / "policy.toml"
    policy.write_text(POLICY)
    tried = _simulate(tracker_cli, "--policy", str(policy))
    assert _dump(env.db_path) == before
    notices = {
        (e["ref"], e["lead"], e["recipient"]) for e in tried if e["kind"] == "extension_notice"
    }
    # OTHER's notice (15 Dec): lead 45 (31 Oct, missed: sent on the first day), 10 on
    # Fri 5 Dec with the sponsor (escalation 10). REF's (2 Jan): 45 on Tue 18 Nov (missed),
    # 10 on Tue 23 Dec. No nags (nag_days 0).
    assert notices == {
        (OTHER, 45, OLIVIA), (OTHER, 10, OLIVIA), (OTHER, 10, STEVE),
        (REF, 45, OLIVIA), (REF, 10, OLIVIA), (REF, 10, STEVE),
    }  # fmt: skip
    default_notices = {(e["ref"], e["lead"]) for e in simulated if e["kind"] == "extension_notice"}
    assert (REF, -7) in default_notices and (REF, 14) in default_notices
    others = [e for e in tried if e["kind"] != "extension_notice"]
    assert _rows(others) == _rows([e for e in simulated if e["kind"] != "extension_notice"])

    # Now for real: `send` at 09:00 London every day of the period.
    delivered: list[tuple[str, str, str, str]] = []
    day = FIRST
    while day <= LAST:
        seen = len(smtp.messages)
        result = tracker_cli("send", now=f"{day.isoformat()} 09:00")
        assert result.code == 0, (day, result)
        at = datetime(day.year, day.month, day.day, 9, 0, tzinfo=LONDON).astimezone(UTC)
        stamp = at.strftime("%Y-%m-%dT%H:%M:%SZ")
        delivered += [(stamp, m.rcpt_tos[0], m.subject, m.message_id) for m in smtp.messages[seen:]]
        day += timedelta(days=1)

    assert len(delivered) == len(simulated)
    assert sorted(delivered) == _rows(simulated)
    # Leads and roles the simulation reports agree with the messages' own ids.
    assert all(reminder_key(e["message_id"])[2] == e["lead"] for e in simulated)
    assert {e["role"] for e in simulated if e["recipient"] == STEVE} == {"sponsor"}


LANCASHIRE = Path(__file__).resolve().parents[2] / "config" / "seeds" / "lancashire-drive-2024.yaml"


def test_the_lancashire_year_is_a_few_reminders_people_will_still_read(tracker_cli: Any) -> None:
    """1 Jan 2024 to 31 Mar 2025 with nobody marking anything done: 269 emails before
    issue 15 (230 nags, 104 about the last-referral date). Now: no nag about a date that
    cannot be acted on once passed, at most max_nags (4) nags per milestone and person,
    and one escalation (the sponsor's copy of the last nag) per overdue decision."""
    assert tracker_cli("import", str(LANCASHIRE), now="2024-01-01 08:00").code == 0
    period = ("--from", "2024-01-01", "--to", "2025-03-31")
    result = tracker_cli("simulate", "--ref", "LANCS-DRIVE", *period, "--json", now="2024-01-01")
    assert result.code == 0, result
    emails: list[dict[str, Any]] = json.loads(result.out)
    assert 0 < len(emails) < 100
    nags = [e for e in emails if e["lead"] < 0]
    assert not [e for e in nags if e["kind"] == "last_referral"]
    assert any(e["kind"] == "last_referral" for e in emails)  # its lead reminders still go
    per_person: dict[tuple[str, str], int] = {}
    for e in nags:
        key = (e["kind"], e["recipient"])
        per_person[key] = per_person.get(key, 0) + 1
    assert per_person and max(per_person.values()) <= 4
    escalations = [e for e in emails if "ESCALATION" in e["subject"]]
    overdue = {e["kind"] for e in nags}
    assert sorted(e["kind"] for e in escalations) == sorted(overdue)
    assert all(e["role"] == "sponsor" and e["lead"] == -28 for e in escalations)
