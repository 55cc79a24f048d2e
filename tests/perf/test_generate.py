"""bench/generate.py makes what real use would have made, and the sweep's queries stay
range scans on it. On both backends (``db_url``); no timings.

The SQL statement count of the digest per batch of recipients is asserted in
tests/storage/test_digest_queries.py (benchmark 4 reports the same count).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, func, select
from support.statements import first_word, statements_run

from bench.generate import DEFAULT_NOW, build_rows, generate, sqlite_records
from tracker.domain.reminders import latest_nag, nag_count, recipients_for
from tracker.domain.types import PASSING_KINDS, MilestoneKind
from tracker.mail.transport import OutboxTransport
from tracker.policy import load_policy
from tracker.service.app import App
from tracker.service.reminders.nags import nags_due
from tracker.service.reminders.plan import refresh_contract
from tracker.service.reminders.policy import contract_policy
from tracker.service.reminders.send import sweep
from tracker.settings import Settings
from tracker.store.models import (
    ContractPolicyRow,
    ContractRow,
    MilestoneRow,
    ReminderRow,
)
from tracker.store.outbox import due_reminders

CONTRACTS = 40


def _app(url: str, tmp_path: Path, now: datetime = DEFAULT_NOW) -> App:
    return App(
        settings=Settings(outbox_dir=tmp_path / "outbox"),
        policy=load_policy(),
        now=now,
        database_url=url,
    )


@pytest.fixture
async def data(db_url: str, tmp_path: Path) -> Any:
    stats = await generate(db_url, CONTRACTS)
    app = _app(db_url, tmp_path)
    await app.open()
    yield app, stats
    await app.close()


async def test_sizes_and_history(data: Any) -> None:
    app, stats = data
    assert stats.contracts == CONTRACTS
    assert stats.people == CONTRACTS // 5
    assert stats.milestones > 8 * CONTRACTS
    assert stats.reminders > 60 * CONTRACTS
    async with app.session() as session:
        statuses = dict(
            (
                await session.execute(
                    select(ReminderRow.status, func.count()).group_by(ReminderRow.status)
                )
            ).all()
        )
    assert statuses["planned"] == stats.planned
    assert statuses["sent"] > 0  # the history up to now


async def test_nothing_is_due_now_so_a_sweep_is_idle(data: Any, tmp_path: Path) -> None:
    """Nothing is sent, no nag planned, and no milestone is even read: every overdue
    decision's next nag time (``next_nag_at``) is still to come."""
    app, _ = data
    loaded: list[MilestoneRow] = []

    def load(target: MilestoneRow, context: Any) -> None:
        loaded.append(target)

    event.listen(MilestoneRow, "load", load)
    try:
        report = await sweep(app, OutboxTransport(tmp_path / "outbox"))
    finally:
        event.remove(MilestoneRow, "load", load)
    assert report.results == []
    assert report.nags_planned == 0
    assert loaded == []


async def test_rows_are_what_the_tracker_itself_would_plan(data: Any) -> None:
    """Re-deriving and re-planning every contract (what any change does) moves nothing,
    next nag times included."""
    app, _ = data
    async with app.session() as session:
        before = (await session.execute(select(func.count()).select_from(ReminderRow))).scalar()
        rows = (await session.execute(select(ContractRow))).scalars().all()
        changed: list[Any] = []
        for row in rows:
            events = await refresh_contract(
                session, row, app.policy, app.now, app.settings.mail_from
            )
            assert events == [], (row.ref, [e.detail for e in events])
            # Before the next contract's re-plan flushes them: what this one changed.
            changed += [o for o in session.new if isinstance(o, ReminderRow)]
            changed += [
                (o, o.id)
                for o in session.dirty
                if isinstance(o, ReminderRow | MilestoneRow) and session.is_modified(o)
            ]
        await session.flush()
        assert changed == []
        after = (await session.execute(select(func.count()).select_from(ReminderRow))).scalar()
        assert after == before
        await session.rollback()


async def test_nags_due_matches_the_rule_over_every_open_decision(
    data: Any, tmp_path: Path
) -> None:
    """nags_due reads only decisions whose next nag time has come: the result must be
    exactly what the Python rule (latest_nag, recipients_for) over every open decision,
    minus existing rows, gives, at moments when some nags are due and some are not."""
    app, _ = data
    for days in (0, 1, 3, 7, 12):
        later = _app(app.database_url, tmp_path, DEFAULT_NOW + timedelta(days=days, hours=1))
        async with later.session() as session:
            got = {(r.milestone_id, r.lead, r.recipient) for r in await nags_due(session, later)}
            want = await _reference_nags(session, later)
        await later.close()
        assert got == want, days


async def _reference_nags(session: Any, app: App) -> set[tuple[int, int, str]]:
    rows = (
        await session.execute(
            select(MilestoneRow, ContractRow.owner, ContractRow.sponsor)
            .join(ContractRow, ContractRow.id == MilestoneRow.contract_id)
            .where(MilestoneRow.status == "open")
        )
    ).all()
    policies: dict[int, list[ContractPolicyRow]] = {}
    ended = await session.execute(select(ContractRow.id, ContractRow.end_date))
    ends = {cid: end for cid, end in ended.all()}
    for p in (await session.execute(select(ContractPolicyRow))).scalars():
        policies.setdefault(p.contract_id, []).append(p)
    existing = {
        (r.milestone_id, r.milestone_due, r.lead, r.recipient)
        for r in (await session.execute(select(ReminderRow).where(ReminderRow.lead < 0))).scalars()
    }
    from tracker.domain.reminders import released_through

    wanted: set[tuple[int, int, str]] = set()
    missing_any: set[int] = set()
    candidates: dict[int, list[tuple[int, str]]] = {}
    for m, owner, sponsor in rows:
        kind = MilestoneKind(m.kind)
        if kind in PASSING_KINDS or m.due >= app.today:
            continue
        if m.snoozed_until is not None and m.snoozed_until > released_through(app.now):
            continue
        rule = contract_policy(app.policy, policies.get(m.contract_id, []), kind)
        count = nag_count(kind, m.due, rule, ends[m.contract_id])
        nag = latest_nag(m.due, rule.nag_days, app.today, count=count)
        if nag is None or nag[1] > app.now:
            continue
        people = recipients_for(nag[0], rule, owner, sponsor)
        candidates[m.id] = [(nag[0], who) for who, _ in people]
        if any((m.id, m.due, nag[0], who) not in existing for who, _ in people):
            missing_any.add(m.id)
    for mid in missing_any:
        wanted.update((mid, lead, who) for lead, who in candidates[mid])
    return wanted


async def _plan(app: App, statement: str, params: Any) -> list[str]:
    """SQLite's EXPLAIN QUERY PLAN lines for a statement."""
    async with app.engine.connect() as conn:
        plan = (await conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params)).all()
    return [str(row[-1]) for row in plan]


async def test_due_query_scans_the_due_index_on_sqlite(sqlite_url: str, tmp_path: Path) -> None:
    """The due query is a range scan on (status, due_at), not a walk over every open
    milestone (SQLite has no histograms; a join led its planner there)."""
    await generate(sqlite_url, 20)
    app = _app(sqlite_url, tmp_path)
    await app.open()
    try:
        with statements_run(app, first_word("SELECT")) as seen:
            async with app.session() as session:
                found = await due_reminders(session, app.now, limit=100, lock=False)
        assert found == []
        lines = await _plan(app, *seen[-1])
        assert any("ix_reminders_status_due_at" in line for line in lines), lines
        assert not any(line.startswith("SCAN") for line in lines), lines
        assert not any("milestones USING INDEX ix_milestones" in line for line in lines), lines
    finally:
        await app.close()


async def test_nag_query_scans_the_next_nag_index_on_sqlite(
    sqlite_url: str, tmp_path: Path
) -> None:
    """The nag query is index range scans (next_nag_at <= now; a default interval other
    than the configured one), and milestones are then fetched by id: no walk over the
    open decisions, with the statistics ANALYZE leaves on the generated data."""
    await generate(sqlite_url, 20)
    app = _app(sqlite_url, tmp_path, DEFAULT_NOW + timedelta(days=3))
    await app.open()
    try:
        with statements_run(app, first_word("SELECT")) as seen:
            async with app.session() as session:
                await nags_due(session, app)
        statement, params = seen[0]
        assert "next_nag_at <=" in statement
        lines = await _plan(app, statement, params)
        assert any("ix_milestones_next_nag_at (next_nag_at<?)" in line for line in lines), lines
        assert any("ix_milestones_kind_nag_default_days" in line for line in lines), lines
        assert any("milestones USING INTEGER PRIMARY KEY" in line for line in lines), lines
        assert not any(line.startswith("SCAN") for line in lines), lines
    finally:
        await app.close()


def test_fast_sqlite_values_are_what_sqlalchemy_would_store() -> None:
    """generate.py skips SQLAlchemy's per-row bind processing on SQLite; its values must
    be exactly the ones SQLAlchemy would have written."""
    from sqlalchemy.dialects.sqlite.aiosqlite import dialect as aiosqlite_dialect

    dialect = aiosqlite_dialect()
    rows = build_rows(5, 3, DEFAULT_NOW, 8, load_policy())
    for table, records in rows.tables():
        fast = sqlite_records(table, records[:50], dialect)
        for record, converted in zip(records[:50], fast, strict=True):
            for column, value, got in zip(table.columns, record, converted, strict=True):
                process = column.type._cached_bind_processor(dialect)
                expected = process(value) if process is not None else value
                assert got == expected, (table.name, column.name, value)
    assert DEFAULT_NOW.tzinfo is UTC
