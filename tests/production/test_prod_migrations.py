"""Schema migrations on both backends, as an operator meets them: `tracker init` on an
empty database, and on a database left at the first schema (0001) holding data.

The CLI runs in-process (``tracker.cli.main.main``) with no TRACKER_* settings from the
outer environment; the 0001 database is made with Alembic and filled with plain SQL,
as a tracker of that release would have left it.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import Date, bindparam, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from support.people import OLIVIA as OWNER
from support.people import STEVE as SPONSOR
from support.processes import run_in_thread

from tracker.store.engine import create_engine
from tracker.store.schema import alembic_config, head_revision
from tracker.store.types import UTCDateTime

REF = "OLD/2024/01"
T = "2025-03-03 09:00"
CREATED = datetime(2024, 1, 5, 10, 0, tzinfo=UTC)
SEED = Path(__file__).resolve().parents[2] / "config" / "seeds" / "lancashire-drive-2024.yaml"


@pytest.fixture
def cli(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Callable[..., tuple[int, str, str]]:
    """``cli("show", REF, now=T)`` -> (exit code, stdout, stderr) of the real CLI on
    ``db_url``. (After ``db_url``: the pg_url fixture reads TRACKER_TEST_PG_URL.)"""
    from tracker.cli.main import main

    for name in list(os.environ):
        if name.startswith("TRACKER_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setenv("TRACKER_MAIL_FROM", "tracker@opcc.example.org")
    monkeypatch.setenv("TRACKER_OUTBOX_DIR", str(tmp_path / "outbox"))
    monkeypatch.chdir(tmp_path)

    def run(*args: str, now: str | None = None) -> tuple[int, str, str]:
        capsys.readouterr()
        code = main(["--db", db_url, *(["--now", now] if now else []), *args])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


async def _sql(url: str, statement: str, **params: Any) -> list[Any]:
    """Plain SQL; dates and times bound as the tracker's columns store them (SQLite keeps
    naive UTC text)."""
    clause = text(statement).bindparams(
        *(
            bindparam(name, type_=UTCDateTime() if isinstance(value, datetime) else Date())
            for name, value in params.items()
            if isinstance(value, date)
        )
    )
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            result = await conn.execute(clause, params)
            return list(result.all()) if result.returns_rows else []
    finally:
        await engine.dispose()


def sql(url: str, statement: str, **params: Any) -> list[Any]:
    return run_in_thread(_sql(url, statement, **params))


def revision(url: str) -> str | None:
    rows = sql(url, "SELECT version_num FROM alembic_version")
    return rows[0][0] if rows else None


async def _create_at(url: str, target: str) -> None:
    engine = create_engine(url)

    def upgrade(connection: Connection) -> None:
        cfg = alembic_config()
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, target)

    try:
        async with engine.begin() as conn:
            await conn.run_sync(upgrade)
    finally:
        await engine.dispose()


def legacy_database(url: str) -> None:
    """The first schema (0001), with a contract as that release stored it: derived start
    and end milestones, an open procurement decision due Monday 10 March 2025 and a done
    review, a watcher, a funding line, a cost line and an event."""
    run_in_thread(_create_at(url, "0001"))
    stamp = {"at": CREATED}
    insert_contract(url, end=date(2027, 3, 31))
    sql(url, "INSERT INTO contract_watchers (contract_id, email) VALUES (1, 'w@example.org')")
    sql(
        url,
        "INSERT INTO funding_lines (contract_id, key, source, year, amount, status, confirm_by)"
        " VALUES (1, 'f1', 'Home Office grant', 2025, 120000.25, 'confirmed', NULL)",
    )
    sql(
        url,
        "INSERT INTO cost_lines (contract_id, year, category, amount)"
        " VALUES (1, 2025, 'Payroll', 171790.00)",
    )
    sql(
        url,
        "INSERT INTO contract_events (contract_id, at, kind, detail)"
        " VALUES (1, :at, 'contract_added', 'OLD/2024/01 added')",
        **stamp,
    )
    milestones = [
        Legacy("contract_start", "start", date(2024, 4, 1), "Contract starts", "done"),
        Legacy("contract_end", "end", date(2027, 3, 31), "Contract ends"),
        Legacy(
            "procurement",
            "manual:aaaaaaaaaaaa",
            date(2025, 3, 10),
            "Legacy procurement",
            origin="manual",
        ),
        Legacy(
            "review",
            "manual:bbbbbbbbbbbb",
            date(2024, 10, 1),
            "Legacy review",
            "done",
            origin="manual",
        ),
    ]
    for milestone in milestones:
        insert_milestone(url, milestone)
    assert revision(url) == "0001"


def insert_contract(url: str, *, end: date) -> None:
    """Contract 1 (``REF``), as release 0001 stored it."""
    sql(
        url,
        "INSERT INTO contracts (id, ref, title, provider, commissioner, start_date, end_date,"
        " original_end, value, owner, sponsor, intervention_months, notes, created_at, updated_at)"
        " VALUES (1, :ref, 'Legacy victim service', 'Old Provider Ltd', 'Example OPCC',"
        " :start, :end, :end, 250000.50, :owner, :sponsor, 12, 'made by release 0001', :at, :at)",
        ref=REF,
        start=date(2024, 4, 1),
        end=end,
        owner=OWNER,
        sponsor=SPONSOR,
        at=CREATED,
    )


@dataclass(frozen=True)
class Legacy:
    """A milestone row of contract 1 as an older release left it."""

    kind: str
    key: str
    due: date
    title: str
    status: str = "open"
    origin: str = "derived"
    closed_at: datetime | None = None
    closed_note: str | None = None


def insert_milestone(url: str, m: Legacy) -> None:
    sql(
        url,
        "INSERT INTO milestones (contract_id, kind, key, due, title, status, origin, note,"
        " closed_at, closed_note, created_at, updated_at)"
        " VALUES (1, :kind, :key, :due, :title, :status, :origin, NULL, :closed_at,"
        " :closed_note, :at, :at)",
        **asdict(m),
        at=CREATED,
    )


def test_init_creates_an_empty_database_at_head_and_a_second_init_is_a_no_op(
    db_url: str, cli: Any
) -> None:
    head = head_revision()
    code, out, err = cli("init")
    assert (code, err) == (0, ""), (out, err)
    assert f"Created the database schema at revision {head}" in out
    assert revision(db_url) == head

    code, out, err = cli("init")
    assert (code, err) == (0, ""), (out, err)
    assert f"is up to date (revision {head})." in out

    code, out, err = cli("status", "--json")
    assert code == 0, (out, err)
    info = json.loads(out)
    assert (info["schema_revision"], info["schema_current"]) == (head, True)
    code, out, err = cli("list", "--json")
    assert (code, json.loads(out)) == (0, [])


def test_an_outdated_database_is_refused_then_upgraded_by_init_with_its_data_intact(
    db_url: str, cli: Any
) -> None:
    legacy_database(db_url)
    head = head_revision()
    assert head != "0001"

    # Any command but init refuses, with one line naming `tracker init`, writing nothing.
    for args in (("list",), ("show", REF), ("send", "--dry-run")):
        code, out, err = cli(*args, now=T)
        assert code == 1, (args, out, err)
        assert len(err.strip().splitlines()) == 1, err
        assert err.startswith("Error: ") and "tracker init" in err, err
        assert "revision 0001" in err and head in err, err
        assert "Traceback" not in err + out
    assert revision(db_url) == "0001"

    code, out, err = cli("init")
    assert (code, err) == (0, ""), (out, err)
    assert f"from revision 0001 to {head}; re-planned 1 contract." in out, out
    assert revision(db_url) == head
    code, out, err = cli("init")
    assert (code, err) == (0, ""), (out, err)
    assert f"is up to date (revision {head})." in out, out

    # The rows survived, to the penny.
    (contract,) = sql(db_url, "SELECT ref, value, owner, sponsor, notes FROM contracts")
    assert tuple(contract) == (REF, Decimal("250000.50"), OWNER, SPONSOR, "made by release 0001")
    # Every legacy milestone kept its status; the upgrade re-derived with today's rules,
    # adding what release 0001's data implies (no extension option: a continuation
    # decision; 12-month intervention: a last referral; the 2025/26 gap: a funding one).
    assert sorted(tuple(r) for r in sql(db_url, "SELECT kind, status FROM milestones")) == [
        ("continuation_decision", "open"),
        ("contract_end", "open"),
        ("contract_start", "done"),
        ("funding_confirmation", "open"),
        ("last_referral", "open"),
        ("procurement", "open"),
        ("review", "done"),
    ]
    assert [tuple(r) for r in sql(db_url, "SELECT amount, status FROM funding_lines")] == [
        (Decimal("120000.25"), "confirmed")
    ]
    assert sql(db_url, "SELECT count(*) FROM contract_events")[0][0] >= 1

    # And the tracker works on it.
    code, out, err = cli("show", REF, "--json", now=T)
    assert code == 0, (out, err)
    shown = json.loads(out)
    summary = shown["summary"]
    assert (summary["ref"], summary["value"], summary["owner"]) == (REF, "250000.50", OWNER)
    assert summary["watchers"] == ["w@example.org"]
    text_out = json.dumps(shown)
    assert "Legacy procurement" in text_out and "Legacy review" in text_out
    assert "120000.25" in text_out and "171790.00" in text_out
    code, out, err = cli("show", REF, now=T)
    assert code == 0, (out, err)
    assert "Legacy procurement" in out
    code, out, err = cli("send", "--dry-run", now=T)
    assert code == 0, (out, err)
    assert "nothing sent (--dry-run)." in out
    code, out, err = cli("list", "--json", now=T)
    assert code == 0 and [c["ref"] for c in json.loads(out)] == [REF], (out, err)


def _previous(revision_id: str) -> str:
    script = ScriptDirectory.from_config(alembic_config()).get_revision(revision_id)
    assert script is not None and isinstance(script.down_revision, str)
    return script.down_revision


def test_status_reports_a_schema_one_release_behind(db_url: str, cli: Any) -> None:
    behind = _previous(head_revision())
    run_in_thread(_create_at(db_url, behind))
    code, out, err = cli("status", "--json")
    assert code == 1, (out, err)
    info = json.loads(out)
    assert (info["schema_revision"], info["schema_current"]) == (behind, False)
    assert info["schema_head"] == head_revision()


def test_status_reports_a_first_release_schema(db_url: str, cli: Any) -> None:
    legacy_database(db_url)
    code, out, err = cli("status", "--json")
    assert code == 1, (out, err)
    assert out.startswith("{"), (out, err)
    info = json.loads(out)
    assert (info["schema_revision"], info["schema_current"]) == ("0001", False)


def test_decisions_made_before_the_upgrade_are_reminded_after_it(db_url: str, cli: Any) -> None:
    legacy_database(db_url)
    code, out, err = cli("init")
    assert code == 0, (out, err)
    code, out, err = cli("send", "--dry-run", now=T)
    assert code == 0, (out, err)
    # The open procurement decision, due in 7 days: owner, and sponsor (lead 7 <= 14).
    assert f"would send  {OWNER}  (owner)  {REF}: Procurement due 10 Mar 2025" in out, out
    assert f"would send  {SPONSOR}  (sponsor)  {REF}: Procurement due 10 Mar 2025" in out, out
    # Upgrading also re-derives with today's rules: the 2025/26 gap (cost 171,790.00 against
    # 120,000.25 confirmed) has a funding decision due 31 Jan 2025, now overdue: nagged.
    assert f"{REF}: OVERDUE Funding confirmation was due 31 Jan 2025" in out, out
    assert "4 messages due" in out, out


# -- 0008: events name their milestone; the installation id --------------------------------

GONE = "no longer applies after a change to the contract"
MOVED_END = "contract_end moved from"
MOVED_FUNDING = "funding_confirmation moved from"
#: Contract 1's milestones before 0008, ids 1 to 4 in this order.
BEFORE_0008 = [
    Legacy("contract_end", "end", date(2027, 3, 31), "Contract ends"),
    Legacy("funding_confirmation", "year:2025/26", date(2025, 1, 31), "Secure 2025/26"),
    Legacy(
        "funding_confirmation",
        "year:2026/27",
        date(2026, 1, 30),
        "Secure 2026/27",
        status="cancelled",
        closed_at=CREATED + timedelta(minutes=6),
        closed_note=GONE,
    ),
    Legacy("review", "manual:r", date(2024, 10, 1), "Review", "done", origin="manual"),
]
#: (kind, detail as earlier releases wrote it, the milestone it names, or None where the
#: text cannot tell), logged a minute apart, in this order.
OLD_EVENTS = [
    ("contract_added", f"{REF} added: Legacy victim service", None),
    ("milestone_added", f"{REF}: review due 1 Oct 2024 added (id 4)", "review"),
    ("milestone_moved", f"{MOVED_END} 2025-03-31 to 2026-03-31", "contract_end"),
    ("milestone_moved", f"{MOVED_FUNDING} 2025-01-15 to 2025-01-31", "year:2025/26"),
    ("milestone_moved", f"{MOVED_END} 2026-03-31 to 2027-03-31", "contract_end"),
    ("milestone_cancelled", f"funding_confirmation: {GONE}", "year:2026/27"),
    ("milestone_done", f"{REF}: review due 1 Oct 2024 done (all fine)", "review"),
    ("milestone_snoozed", f"{REF}: funding_confirmation due 31 Jan 2025 snoozed", "year:2025/26"),
    ("milestone_moved", f"{MOVED_FUNDING} 2020-01-01 to 2020-02-02", None),  # neither
    ("funding_added", f"{REF}: funding Grant 2025/26 £1.00 (expected)", None),
]
#: The milestone ids of BEFORE_0008 by a name used above.
IDS = {"contract_end": 1, "year:2025/26": 2, "year:2026/27": 3, "review": 4}


def test_0008_recovers_the_milestone_of_each_old_event_from_its_text(db_url: str) -> None:
    run_in_thread(_create_at(db_url, "0007"))
    insert_contract(db_url, end=date(2027, 3, 31))
    for milestone in BEFORE_0008:
        insert_milestone(db_url, milestone)
    for minute, (kind, detail, _) in enumerate(OLD_EVENTS, start=1):
        sql(
            db_url,
            "INSERT INTO contract_events (id, contract_id, at, kind, detail)"
            " VALUES (:id, 1, :at, :kind, :detail)",
            id=minute,
            at=CREATED + timedelta(minutes=minute),
            kind=kind,
            detail=detail,
        )

    run_in_thread(_create_at(db_url, "0008"))

    rows = sql(db_url, "SELECT kind, detail, milestone_id FROM contract_events ORDER BY id")
    expected = [(k, d, None if name is None else IDS[name]) for k, d, name in OLD_EVENTS]
    assert [tuple(r) for r in rows] == expected
    ((uid,),) = sql(db_url, "SELECT uid FROM installation")
    assert re.fullmatch(r"[0-9a-f]{32}", uid)


def test_0008_downgrades_keeping_every_event_and_reminder(
    db_url: str, cli: Any, tmp_path: Path
) -> None:
    assert cli("init")[0] == 0
    code, out, err = cli("import", str(SEED), now=T)
    assert code == 0, (out, err)
    counts = "SELECT (SELECT count(*) FROM reminders), (SELECT count(*) FROM contract_events)"
    (before,) = sql(db_url, counts)
    assert min(before) > 0
    assert sql(db_url, "SELECT count(*) FROM contract_events WHERE milestone_id IS NOT NULL")

    run_in_thread(_downgrade(db_url, "0007"))

    assert revision(db_url) == "0007"
    assert sql(db_url, counts) == [before]
    with pytest.raises(DBAPIError, match="milestone_id"):
        sql(db_url, "SELECT milestone_id FROM contract_events")
    with pytest.raises(DBAPIError, match="installation"):
        sql(db_url, "SELECT uid FROM installation")
    code, out, err = cli("init")
    assert (code, err) == (0, ""), (out, err)
    assert revision(db_url) == head_revision()
    code, out, err = cli("calendar", "--out", str(tmp_path / "c.ics"), now=T)
    assert code == 0, (out, err)


async def _downgrade(url: str, target: str) -> None:
    engine = create_engine(url)

    def downgrade(connection: Connection) -> None:
        cfg = alembic_config()
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, target)

    try:
        async with engine.begin() as conn:
            await conn.run_sync(downgrade)
    finally:
        await engine.dispose()


# -- 0009: retries from the first attempt; the shared send rate -----------------------------

#: Attempted reminders whose first_attempt_at is not their earliest attempt's time.
NOT_BACKFILLED = (
    "SELECT count(*) FROM reminders r WHERE attempts > 0 AND (first_attempt_at IS NULL"
    " OR first_attempt_at <> (SELECT min(a.at) FROM delivery_attempts a"
    " WHERE a.reminder_id = r.id))"
)


def test_0009_backfills_the_first_attempt_and_downgrades_keeping_every_reminder(
    db_url: str, cli: Any
) -> None:
    assert cli("init")[0] == 0
    code, out, err = cli("import", str(SEED), now=T)
    assert code == 0, (out, err)
    code, out, err = cli("send", now=T)  # to the outbox folder: attempts to backfill from
    assert code == 0 and " 0 sent" not in out, (out, err)
    counts = "SELECT (SELECT count(*) FROM reminders), (SELECT count(*) FROM delivery_attempts)"
    (before,) = sql(db_url, counts)

    run_in_thread(_downgrade(db_url, "0008"))
    assert revision(db_url) == "0008"
    assert sql(db_url, counts) == [before]
    with pytest.raises(DBAPIError, match="first_attempt_at"):
        sql(db_url, "SELECT first_attempt_at FROM reminders")
    with pytest.raises(DBAPIError, match="send_slots"):
        sql(db_url, "SELECT count(*) FROM send_slots")

    assert cli("init")[0] == 0
    assert revision(db_url) == head_revision()
    assert sql(db_url, counts) == [before]
    tried = "SELECT count(*) FROM reminders WHERE attempts > 0"
    (((attempted,),), ((stamped,),)) = (
        sql(db_url, tried),
        sql(db_url, "SELECT count(*) FROM reminders WHERE first_attempt_at IS NOT NULL"),
    )
    assert attempted > 0 and stamped == attempted
    assert sql(db_url, NOT_BACKFILLED) == [(0,)]


# -- 0011: versions, early ends, actors and variations ---------------------------------------


def test_0011_backfills_version_one_and_downgrades_keeping_every_contract(
    db_url: str, cli: Any
) -> None:
    assert cli("init")[0] == 0
    code, out, err = cli("import", str(SEED), now=T)
    assert code == 0, (out, err)
    run_in_thread(_downgrade(db_url, "0010"))
    assert revision(db_url) == "0010"
    for column, table in (("version", "contracts"), ("actor", "contract_events")):
        with pytest.raises(DBAPIError, match=column):
            sql(db_url, f"SELECT {column} FROM {table}")
    with pytest.raises(DBAPIError, match="variations"):
        sql(db_url, "SELECT count(*) FROM variations")
    counts = "SELECT (SELECT count(*) FROM contracts), (SELECT count(*) FROM contract_events)"
    (before,) = sql(db_url, counts)

    assert cli("init")[0] == 0
    assert revision(db_url) == head_revision()
    assert sql(db_url, counts) == [before]
    assert sql(db_url, "SELECT version, ended_on, end_reason FROM contracts") == [(1, None, None)]
    code, out, err = cli("--by", "ann", "edit", "LANCS-DRIVE", "--value", "700000", now=T)
    assert code == 0, (out, err)
    assert sql(db_url, "SELECT version FROM contracts") == [(2,)]
    latest = "SELECT actor FROM contract_events ORDER BY id DESC LIMIT 1"
    assert sql(db_url, latest) == [("ann",)]
